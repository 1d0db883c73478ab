/* The helpers logitnorm-eval's commands share (eval/cli.h): whole inputs read and checked, with
   one message per problem, and the library's errors reported against the file they concern. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/cli.h"

void eval_default_name(const char *path, char *out, size_t cap) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  snprintf(out, cap, "%s", base);
  char *dot = strrchr(out, '.');
  if (dot != NULL && dot != out) *dot = '\0';
}

static int read_input(const char *path, const eval_read_options *o, eval_array *a) {
  eval_error err;
  if (eval_read_file(path, o, a, &err) == 0) return 0;
  fprintf(stderr, EVAL_PROG ": %s\n", err.text);
  return -1;
}

int eval_read_vector(const char *path, const eval_read_options *o, const char *what, eval_array *a) {
  if (read_input(path, o, a) != 0) return -1;
  if (a->cols != 1)
    fprintf(stderr, EVAL_PROG ": %s: expected 1-D %s (one value per line), the file holds %lld x %lld values\n", path,
            what, (long long)a->rows, (long long)a->cols);
  else if (a->rows == 0)
    fprintf(stderr, EVAL_PROG ": %s: holds no %s\n", path, what);
  else
    return 0;
  eval_array_free(a);
  return -1;
}

int eval_read_logits(const char *path, const eval_read_options *o, eval_array *out) {
  eval_array a = {0};
  if (read_input(path, o, &a) != 0) return -1;
  const char *bad = a.ndim != 2    ? "expected 2-D logits (one row per sample)"
                    : a.rows == 0 ? "holds no rows"
                    : a.cols == 0 ? "has no columns"
                                  : NULL;
  if (bad != NULL) {
    fprintf(stderr, EVAL_PROG ": %s: %s; the file holds %lld value(s) in %d dimension(s)\n", path, bad,
            (long long)(a.rows * a.cols), a.ndim);
    eval_array_free(&a);
    return -1;
  }
  if (a.f32 != NULL) {
    *out = a;
    return 0;
  }
  int64_t n = a.rows * a.cols;
  float *f = malloc((size_t)n * sizeof *f);
  if (f == NULL) fprintf(stderr, EVAL_PROG ": %s: out of memory for %lld float32 logits\n", path, (long long)n);
  for (int64_t i = 0; f != NULL && i < n; ++i) {
    double v = a.f64[i];
    if (isfinite(v) && fabs(v) > FLT_MAX) {
      fprintf(stderr, EVAL_PROG ": %s: row %lld, column %lld: %g is beyond float32's range (the scorers read float32)\n",
              path, (long long)(i / a.cols), (long long)(i % a.cols), v);
      free(f);
      f = NULL;
      break;
    }
    f[i] = (float)v;
  }
  eval_array_free(&a);
  if (f == NULL) return -1;
  *out = (eval_array){.ndim = 2, .rows = a.rows, .cols = a.cols, .f32 = f, .storage = f};
  return 0;
}

int eval_read_labels(const char *path, const eval_read_options *o, int64_t n, int64_t classes,
                     const char *logits_path, int32_t **labels) {
  eval_array a = {0};
  if (eval_read_vector(path, o, "labels", &a) != 0) return -1;
  int bad = 0;
  if (a.rows != n) {
    fprintf(stderr, EVAL_PROG ": %s: %lld labels, but the logits (%s) have %lld rows\n", path, (long long)a.rows,
            logits_path, (long long)n);
    bad = 1;
  }
  int32_t *out = bad ? NULL : malloc((size_t)n * sizeof *out);
  if (!bad && out == NULL) {
    fprintf(stderr, EVAL_PROG ": %s: out of memory for %lld labels\n", path, (long long)n);
    bad = 1;
  }
  for (int64_t i = 0; i < n && !bad; ++i) {
    double v = a.f32 != NULL ? (double)a.f32[i] : a.f64[i];
    if (!(v >= 0 && v < (double)classes && v == floor(v))) {
      fprintf(stderr, EVAL_PROG ": %s: label %lld (counting from 0) is %g, not a class in [0, %lld)\n", path,
              (long long)i, v, (long long)classes);
      bad = 1;
    } else {
      out[i] = (int32_t)v;
    }
  }
  eval_array_free(&a);
  if (bad) {
    free(out);
    return -1;
  }
  *labels = out;
  return 0;
}

int eval_library_error(const char *file, logitnorm_status st) {
  fprintf(stderr, EVAL_PROG ": %s: %s (%s)\n", file, logitnorm_last_error(), logitnorm_status_string(st));
  return -1;
}

int eval_add_view(logitnorm_metrics *m, const eval_view *v, int is_ood) {
  logitnorm_status st = v->f32 != NULL ? logitnorm_metrics_add_f32(m, v->f32, v->n, is_ood)
                                       : logitnorm_metrics_add_f64(m, v->f64, v->n, is_ood);
  if (st == LOGITNORM_ERR_NONFINITE)
    for (int64_t i = 0; i < v->n; ++i) {
      double x = v->f32 != NULL ? (double)v->f32[i] : v->f64[i];
      if (!isfinite(x)) {
        fprintf(stderr, EVAL_PROG ": %s: score %lld (counting from 0) is %s; the metrics need finite scores\n",
                v->file, (long long)i, isnan(x) ? "NaN" : x > 0 ? "+inf" : "-inf");
        return -1;
      }
    }
  return st == LOGITNORM_OK ? 0 : eval_library_error(v->file, st);
}

const eval_score_kind eval_score_kinds[EVAL_NUM_SCORE_KINDS] = {
    {.kind = LOGITNORM_SCORE_MSP, .key = "msp", .title = "MSP"},
    {.kind = LOGITNORM_SCORE_MAX_LOGIT, .key = "max_logit", .title = "max-logit"},
    {.kind = LOGITNORM_SCORE_ENERGY, .key = "energy", .title = "energy"},
    {.kind = LOGITNORM_SCORE_ENTROPY, .key = "entropy", .title = "neg. entropy"},
    {.kind = LOGITNORM_SCORE_GEN, .key = "gen", .title = "GEN"},
    {.kind = LOGITNORM_SCORE_MAX_COSINE, .key = "max_cosine", .title = "max-cosine"},
    {.kind = LOGITNORM_SCORE_ODIN, .key = "odin", .title = "ODIN"},
};

int eval_score_logits(const eval_settings *s, const eval_score_kind *kind, int64_t classes, int64_t n,
                      const float *logits, const char *file, float *out) {
  logitnorm_scorer *sc = NULL;
  logitnorm_status st = logitnorm_scorer_create(&sc, kind->kind, classes, 0);
  if (st == LOGITNORM_OK && kind->kind == LOGITNORM_SCORE_ODIN)
    st = logitnorm_scorer_set(sc, LOGITNORM_SCORER_TEMPERATURE, s->odin_temperature);
  if (st == LOGITNORM_OK) st = logitnorm_scorer_set(sc, LOGITNORM_SCORER_THREADS, s->threads);
  if (st == LOGITNORM_OK) st = logitnorm_scorer_score_f32(sc, n, logits, classes, NULL, 0, out);
  logitnorm_scorer_free(sc);
  return st == LOGITNORM_OK ? 0 : eval_library_error(file, st);
}

int64_t eval_thin_curve(double *x, double *y, int64_t n, double step) {
  if (n <= 2) return n;
  int64_t kept = 1;
  for (int64_t i = 1; i < n; ++i)
    if (i == n - 1 || fabs(x[i] - x[kept - 1]) + fabs(y[i] - y[kept - 1]) >= step) {
      x[kept] = x[i];
      y[kept] = y[i];
      ++kept;
    }
  return kept;
}

int eval_flush_stdout(void) {
  if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
  fprintf(stderr, EVAL_PROG ": error writing the standard output\n");
  return -1;
}
