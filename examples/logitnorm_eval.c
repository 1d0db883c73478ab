/* logitnorm-eval: OOD-detection metrics from saved outputs, with liblogitnorm's public API only.

     logitnorm-eval ood --id ID --ood OOD1 [--ood OOD2 ...]             scores -> metrics
     logitnorm-eval scores --id-logits ID --ood-logits OOD1 [...]       logits -> every score -> metrics

   Inputs are .npy, CSV/TSV or raw files (examples/eval/load.h). Every option is one entry of
   option_table, which the parser searches and --help prints, so the two cannot disagree.
   Exit status: 0 done, 1 a file or its data was rejected, 2 a usage error. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <logitnorm.h>

#include "eval/array.h"
#include "eval/load.h"
#include "eval/report.h"
#include "eval/svg.h"
#include "eval/text.h"

#define PROG "logitnorm-eval"
#define MAX_SETS 64
#define EXIT_DATA 1
#define EXIT_USAGE 2

enum { CMD_OOD = 1, CMD_SCORES = 2, CMD_ANY = 3 };

typedef enum opt_id {
  OPT_ID, OPT_OOD, OPT_ID_LOGITS, OPT_OOD_LOGITS, OPT_LABEL, OPT_TPR, OPT_CONVENTION, OPT_ALL_CONVENTIONS,
  OPT_ODIN_TEMPERATURE, OPT_THREADS, OPT_JSON, OPT_SVG, OPT_DTYPE, OPT_SHAPE, OPT_DELIMITER, OPT_HELP, OPT_VERSION
} opt_id;

typedef struct eval_option {
  const char *name;  /* "--id" */
  const char *alias; /* a short form, or NULL */
  opt_id id;
  const char *arg; /* the argument's name in --help, NULL for a flag */
  int commands;    /* CMD_OOD, CMD_SCORES or both */
  const char *help;
} eval_option;

static const eval_option option_table[] = {
    {.name = "--id", .id = OPT_ID, .arg = "FILE", .commands = CMD_OOD,
     .help = "the ID set's scores, 1-D (higher = more in-distribution)"},
    {.name = "--ood", .id = OPT_OOD, .arg = "FILE", .commands = CMD_OOD,
     .help = "an OOD set's scores, 1-D; repeat for more sets"},
    {.name = "--id-logits", .id = OPT_ID_LOGITS, .arg = "FILE", .commands = CMD_SCORES,
     .help = "the ID set's logits, 2-D (one row per sample)"},
    {.name = "--ood-logits", .id = OPT_OOD_LOGITS, .arg = "FILE", .commands = CMD_SCORES,
     .help = "an OOD set's logits, with the ID file's columns; repeat for more sets"},
    {.name = "--label", .id = OPT_LABEL, .arg = "NAME", .commands = CMD_ANY,
     .help = "the name of the next OOD set (default: its file name, without folder and extension)"},
    {.name = "--tpr", .id = OPT_TPR, .arg = "LEVEL", .commands = CMD_ANY,
     .help = "the TPR level of the FPR and its threshold, in (0, 1] (default 0.95)"},
    {.name = "--convention", .id = OPT_CONVENTION, .arg = "NAME", .commands = CMD_ANY,
     .help = "paper (default), openood, pytorch-ood or sklearn: the positive class, FPR rule and AUPR rule"},
    {.name = "--all-conventions", .id = OPT_ALL_CONVENTIONS, .commands = CMD_ANY,
     .help = "every convention, side by side"},
    {.name = "--odin-temperature", .id = OPT_ODIN_TEMPERATURE, .arg = "T", .commands = CMD_SCORES,
     .help = "ODIN's temperature (default 1000); ODIN is scored without input perturbation"},
    {.name = "--threads", .id = OPT_THREADS, .arg = "N", .commands = CMD_SCORES,
     .help = "threads of each scorer, in [1, 1024] (default 1)"},
    {.name = "--json", .id = OPT_JSON, .commands = CMD_ANY,
     .help = "JSON on standard output instead of the tables (numbers round-trip as doubles)"},
    {.name = "--svg", .id = OPT_SVG, .arg = "FILE", .commands = CMD_ANY,
     .help = "also write the score histograms and ROC curves as an SVG file"},
    {.name = "--dtype", .id = OPT_DTYPE, .arg = "TYPE", .commands = CMD_ANY,
     .help = "read files that are neither .npy nor .csv/.tsv/.txt as raw little-endian f16, f32, f64, i32 or i64"},
    {.name = "--shape", .id = OPT_SHAPE, .arg = "N|NxC", .commands = CMD_ANY,
     .help = "raw files: N values, or N rows of C values; N = -1 (the default) takes N from the file size"},
    {.name = "--delimiter", .id = OPT_DELIMITER, .arg = "D", .commands = CMD_ANY,
     .help = "text files: ',' ';' tab or space (default: the first of tab, ',' and ';' on the first line, else "
             "blanks)"},
    {.name = "--help", .alias = "-h", .id = OPT_HELP, .commands = CMD_ANY, .help = "this help"},
    {.name = "--version", .id = OPT_VERSION, .commands = CMD_ANY, .help = "the version of the library in use"},
};
#define NUM_OPTIONS (int)(sizeof option_table / sizeof *option_table)

static void print_help(FILE *f) {
  fprintf(f,
          "Usage: " PROG " ood --id FILE --ood FILE [--ood FILE ...] [options]\n"
          "       " PROG " scores --id-logits FILE --ood-logits FILE [--ood-logits FILE ...] [options]\n"
          "\n"
          "Out-of-distribution detection metrics from saved outputs, computed by liblogitnorm.\n"
          "  ood     reads scores (higher = more in-distribution) and prints AUROC, AUPR-In, AUPR-Out,\n"
          "          the FPR and its threshold at a TPR level, and the detection error, per OOD set\n"
          "          and averaged over the sets.\n"
          "  scores  reads logits, scores them with MSP, max-logit, energy, negative entropy, GEN,\n"
          "          max-cosine and ODIN (MSP at its temperature), and prints the same metrics per\n"
          "          score, the best of each column marked with *.\n"
          "\n"
          "Files: .npy (versions 1.0, 2.0, 3.0; float16, float32, float64, int32, int64; C order);\n"
          "CSV/TSV text (one value per line for scores, one row per sample for logits; blank lines,\n"
          "'#' lines and a first line without numbers are skipped); raw little-endian data with\n"
          "--dtype and --shape. f16 and f32 data are used as float32 and the rest as float64;\n"
          "the scorers read float32 logits.\n"
          "\n"
          "Conventions (docs/metrics.md):\n");
  for (int c = 0; c < EVAL_NUM_CONVENTIONS; ++c) {
    const eval_convention *cv = &eval_conventions[c];
    fprintf(f, "  %-12s %s positive, FPR rule %s, AUPR %s: %s\n", cv->name,
            cv->positive == LOGITNORM_POSITIVE_ID ? "ID" : "OOD", cv->fpr_rule_name, cv->aupr_rule_name, cv->source);
  }
  fprintf(f, "\nOptions:\n");
  for (int i = 0; i < NUM_OPTIONS; ++i) {
    const eval_option *o = &option_table[i];
    char head[64];
    snprintf(head, sizeof head, "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name,
             o->arg ? " " : "", o->arg ? o->arg : "");
    const char *only = o->commands == CMD_OOD ? " (ood)" : o->commands == CMD_SCORES ? " (scores)" : "";
    char text[512];
    snprintf(text, sizeof text, "%s%s", o->help, only);
    /* words wrapped at 100 columns, continuation lines under the first */
    fprintf(f, "  %-26s", head);
    int col = 28;
    for (const char *w = text; *w != '\0';) {
      size_t len = strcspn(w, " ");
      if (col > 28 && col + 1 + (int)len > 100) {
        fprintf(f, "\n%28s", "");
        col = 28;
      }
      fprintf(f, " %.*s", (int)len, w);
      col += 1 + (int)len;
      w += len;
      while (*w == ' ') ++w;
    }
    fputc('\n', f);
  }
  fprintf(f, "\nExit status: 0 done, 1 a file or its data was rejected, 2 a usage error.\n");
}

/* Prints the message and a pointer to --help; returns the usage error's exit status. */
static int usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, PROG ": ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\nTry '" PROG " --help'.\n");
  va_end(ap);
  return EXIT_USAGE;
}

/* ---------------------------------------------------------------- settings */

typedef struct eval_input {
  const char *path;
  char name[128];
} eval_input;

typedef struct eval_settings {
  int command;
  const char *id_path;
  eval_input ood[MAX_SETS];
  int num_ood;
  const char *pending_label;
  double tpr;
  int convention, all_conventions, convention_given;
  double odin_temperature;
  int threads;
  int json;
  const char *svg_path;
  eval_read_options read;
} eval_settings;

/* The file name without folder and extension: the default name of a set. */
static void default_name(const char *path, char *out, size_t cap) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  snprintf(out, cap, "%s", base);
  char *dot = strrchr(out, '.');
  if (dot != NULL && dot != out) *dot = '\0';
}

static int parse_double(const char *s, double *v) {
  char *end = NULL;
  *v = strtod(s, &end);
  return end != s && *end == '\0' ? 0 : -1;
}

/* N or NxC; N may be -1 ("from the file size"), C >= 1. */
static int parse_shape(const char *s, int64_t *rows, int64_t *cols) {
  char *end = NULL;
  long long n = strtoll(s, &end, 10);
  if (end == s || n < -1) return -1;
  *rows = n;
  *cols = 0;
  if (*end == '\0') return 0;
  if (*end != 'x' && *end != 'X') return -1;
  const char *c = end + 1;
  long long k = strtoll(c, &end, 10);
  if (end == c || *end != '\0' || k < 1) return -1;
  *cols = k;
  return 0;
}

/* Applies one option; returns 0 or a usage error's exit status. */
static int apply_option(eval_settings *s, const eval_option *o, const char *v) {
  switch (o->id) {
    case OPT_ID:
    case OPT_ID_LOGITS:
      if (s->id_path != NULL) return usage_error("%s is given twice", o->name);
      s->id_path = v;
      return 0;
    case OPT_OOD:
    case OPT_OOD_LOGITS: {
      if (s->num_ood == MAX_SETS) return usage_error("at most %d OOD sets", MAX_SETS);
      eval_input *in = &s->ood[s->num_ood++];
      in->path = v;
      if (s->pending_label != NULL)
        snprintf(in->name, sizeof in->name, "%s", s->pending_label);
      else
        default_name(v, in->name, sizeof in->name);
      s->pending_label = NULL;
      return 0;
    }
    case OPT_LABEL:
      if (s->pending_label != NULL) return usage_error("two --label options before one OOD set ('%s')", v);
      s->pending_label = v;
      return 0;
    case OPT_TPR:
      if (parse_double(v, &s->tpr) != 0 || !(s->tpr > 0.0 && s->tpr <= 1.0))
        return usage_error("--tpr %s is not a level in (0, 1]", v);
      return 0;
    case OPT_CONVENTION:
      for (int c = 0; c < EVAL_NUM_CONVENTIONS; ++c)
        if (strcmp(v, eval_conventions[c].name) == 0) {
          s->convention = c;
          s->convention_given = 1;
          return 0;
        }
      return usage_error("unknown convention '%s' (paper, openood, pytorch-ood, sklearn)", v);
    case OPT_ALL_CONVENTIONS: s->all_conventions = 1; return 0;
    case OPT_ODIN_TEMPERATURE:
      if (parse_double(v, &s->odin_temperature) != 0 || !(s->odin_temperature > 0.0) || isinf(s->odin_temperature))
        return usage_error("--odin-temperature %s is not a positive number", v);
      return 0;
    case OPT_THREADS: {
      double t;
      if (parse_double(v, &t) != 0 || t != floor(t) || t < 1 || t > 1024)
        return usage_error("--threads %s is not an integer in [1, 1024]", v);
      s->threads = (int)t;
      return 0;
    }
    case OPT_JSON: s->json = 1; return 0;
    case OPT_SVG: s->svg_path = v; return 0;
    case OPT_DTYPE:
      if (eval_dtype_parse(v, &s->read.dtype) != 0)
        return usage_error("--dtype %s is not one of f16, f32, f64, i32, i64", v);
      s->read.raw = 1;
      return 0;
    case OPT_SHAPE:
      if (parse_shape(v, &s->read.raw_rows, &s->read.raw_cols) != 0)
        return usage_error("--shape %s is not N or NxC (N >= 0 or -1, C >= 1)", v);
      return 0;
    case OPT_DELIMITER:
      if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0 || strcmp(v, "\t") == 0)
        s->read.delimiter = '\t';
      else if (strcmp(v, "space") == 0 || strcmp(v, " ") == 0)
        s->read.delimiter = ' ';
      else if (strcmp(v, ",") == 0 || strcmp(v, ";") == 0)
        s->read.delimiter = v[0];
      else
        return usage_error("--delimiter %s is not ',', ';', tab or space", v);
      return 0;
    case OPT_HELP:
    case OPT_VERSION: return 0; /* handled before */
  }
  return 0;
}

/* Parses argv into s; returns -1 when done, or an exit status (0 after --help or --version). */
static int parse_args(int argc, char **argv, eval_settings *s) {
  for (int i = 1; i < argc; ++i)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      print_help(stdout);
      return 0;
    } else if (strcmp(argv[i], "--version") == 0) {
      printf(PROG " %s (liblogitnorm %s)\n", LOGITNORM_VERSION_STRING, logitnorm_version_string());
      return 0;
    }
  if (argc < 2) return usage_error("missing the command: ood or scores");
  const char *cmd = argv[1];
  if (strcmp(cmd, "ood") == 0)
    s->command = CMD_OOD;
  else if (strcmp(cmd, "scores") == 0)
    s->command = CMD_SCORES;
  else
    return usage_error("unknown command '%s' (ood or scores)", cmd);
  for (int i = 2; i < argc; ++i) {
    const char *arg = argv[i], *value = NULL;
    char name[64];
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len >= sizeof name) len = sizeof name - 1;
    memcpy(name, arg, len);
    name[len] = '\0';
    const eval_option *o = NULL;
    for (int k = 0; k < NUM_OPTIONS && o == NULL; ++k)
      if (strcmp(name, option_table[k].name) == 0 || (option_table[k].alias && strcmp(name, option_table[k].alias) == 0))
        o = &option_table[k];
    if (o == NULL)
      return arg[0] == '-' ? usage_error("unknown option '%s'", arg) : usage_error("unexpected argument '%s'", arg);
    if (!(o->commands & s->command))
      return usage_error("%s is not an option of '%s'", o->name, cmd);
    if (o->arg != NULL) {
      if (eq != NULL)
        value = eq + 1;
      else if (i + 1 < argc)
        value = argv[++i];
      else
        return usage_error("%s needs an argument %s", o->name, o->arg);
    } else if (eq != NULL) {
      return usage_error("%s takes no argument", o->name);
    }
    int st = apply_option(s, o, value);
    if (st != 0) return st;
  }
  const char *id_opt = s->command == CMD_OOD ? "--id" : "--id-logits";
  const char *ood_opt = s->command == CMD_OOD ? "--ood" : "--ood-logits";
  if (s->id_path == NULL) return usage_error("missing %s FILE", id_opt);
  if (s->num_ood == 0) return usage_error("missing %s FILE (at least one OOD set)", ood_opt);
  if (s->pending_label != NULL)
    return usage_error("--label %s names no OOD set (put it before %s)", s->pending_label, ood_opt);
  if (s->all_conventions && s->convention_given)
    return usage_error("--convention and --all-conventions exclude each other");
  return -1;
}

/* ---------------------------------------------------------------- inputs */

/* A set's values as the metrics and scorers take them. */
typedef struct score_view {
  const float *f32;
  const double *f64;
  int64_t n;
  const char *file;
} score_view;

static int read_input(const char *path, const eval_read_options *o, eval_array *a) {
  eval_error err;
  if (eval_read_file(path, o, a, &err) == 0) return 0;
  fprintf(stderr, PROG ": %s\n", err.text);
  return -1;
}

/* 1-D scores (or one column); on failure nothing is left allocated. */
static int read_scores(const char *path, const eval_read_options *o, eval_array *a) {
  if (read_input(path, o, a) != 0) return -1;
  if (a->cols != 1)
    fprintf(stderr, PROG ": %s: expected 1-D scores (one value per line), the file holds %lld x %lld values\n", path,
            (long long)a->rows, (long long)a->cols);
  else if (a->rows == 0)
    fprintf(stderr, PROG ": %s: holds no scores\n", path);
  else
    return 0;
  eval_array_free(a);
  return -1;
}

/* Logits as the float32 matrix the scorers read (out->f32); f64 data is rounded, and a finite
   value beyond float32's range is rejected rather than turned into an infinity. */
static int read_logits(const char *path, const eval_read_options *o, eval_array *out) {
  eval_array a = {0};
  if (read_input(path, o, &a) != 0) return -1;
  const char *bad = a.ndim != 2    ? "expected 2-D logits (one row per sample)"
                    : a.rows == 0 ? "holds no rows"
                    : a.cols == 0 ? "has no columns"
                                  : NULL;
  if (bad != NULL) {
    fprintf(stderr, PROG ": %s: %s; the file holds %lld value(s) in %d dimension(s)\n", path, bad,
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
  if (f == NULL) fprintf(stderr, PROG ": %s: out of memory for %lld float32 logits\n", path, (long long)n);
  for (int64_t i = 0; f != NULL && i < n; ++i) {
    double v = a.f64[i];
    if (isfinite(v) && fabs(v) > FLT_MAX) {
      fprintf(stderr, PROG ": %s: row %lld, column %lld: %g is beyond float32's range (the scorers read float32)\n",
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

/* ---------------------------------------------------------------- metrics */

static int library_error(const char *file, logitnorm_status st) {
  fprintf(stderr, PROG ": %s: %s (%s)\n", file, logitnorm_last_error(), logitnorm_status_string(st));
  return -1;
}

/* Adds a set's scores; a non-finite score is reported by its index in the file. */
static int add_view(logitnorm_metrics *m, const score_view *v, int is_ood) {
  logitnorm_status st = v->f32 != NULL ? logitnorm_metrics_add_f32(m, v->f32, v->n, is_ood)
                                       : logitnorm_metrics_add_f64(m, v->f64, v->n, is_ood);
  if (st == LOGITNORM_ERR_NONFINITE)
    for (int64_t i = 0; i < v->n; ++i) {
      double x = v->f32 != NULL ? (double)v->f32[i] : v->f64[i];
      if (!isfinite(x)) {
        fprintf(stderr, PROG ": %s: score %lld (counting from 0) is %s; the metrics need finite scores\n", v->file,
                (long long)i, isnan(x) ? "NaN" : x > 0 ? "+inf" : "-inf");
        return -1;
      }
    }
  return st == LOGITNORM_OK ? 0 : library_error(v->file, st);
}

static logitnorm_status set_convention(logitnorm_metrics *m, const eval_convention *c, double level) {
  logitnorm_status st = logitnorm_metrics_set(m, LOGITNORM_METRICS_TPR_LEVEL, level);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_POSITIVE, c->positive);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_FPR_RULE, c->fpr_rule);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_AUPR_RULE, c->aupr_rule);
  return st;
}

/* A ROC curve kept for the SVG. */
typedef struct eval_curve {
  double *x, *y;
  int64_t n;
} eval_curve;

/* Keeps the first point, every point at least `step` away (|dx| + |dy|, unit coordinates) from
   the last one kept, and the last point: about one point per pixel of path. In place. */
static int64_t thin_curve(double *x, double *y, int64_t n, double step) {
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

static int roc_curve(logitnorm_metrics *m, eval_curve *curve) {
  int64_t count = 0;
  logitnorm_status st = logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, NULL, NULL, NULL, 0, &count);
  if (st != LOGITNORM_OK) return st;
  curve->x = malloc((size_t)count * sizeof *curve->x);
  curve->y = malloc((size_t)count * sizeof *curve->y);
  if (curve->x == NULL || curve->y == NULL) return LOGITNORM_ERR_OUT_OF_MEMORY;
  st = logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, curve->x, curve->y, NULL, count, &count);
  if (st == LOGITNORM_OK) curve->n = thin_curve(curve->x, curve->y, count, 0.002);
  return st;
}

/* Where the metrics of one ID/OOD pair go, and which conventions. out[c * stride] receives
   convention conv[c]; curve (or NULL) receives the ROC under conv[0]. */
typedef struct pair_job {
  const int *conv;
  int num_conv;
  double level;
  eval_values *out;
  size_t stride;
  eval_curve *curve;
} pair_job;

static int evaluate_pair(const score_view *id, const score_view *ood, const pair_job *job) {
  logitnorm_metrics *m = NULL;
  logitnorm_status st = logitnorm_metrics_create(&m);
  if (st != LOGITNORM_OK) return library_error(id->file, st);
  int bad = add_view(m, id, 0);
  if (!bad) bad = add_view(m, ood, 1);
  for (int c = 0; c < job->num_conv && !bad; ++c) {
    st = set_convention(m, &eval_conventions[job->conv[c]], job->level);
    eval_values *v = &job->out[(size_t)c * job->stride];
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUROC, &v->auroc);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUPR_IN, &v->aupr_in);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUPR_OUT, &v->aupr_out);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_FPR_AT_TPR, &v->fpr);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_THRESHOLD_AT_TPR, &v->threshold);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_DETECTION_ERROR, &v->detection_error);
    if (st != LOGITNORM_OK) bad = library_error(ood->file, st);
  }
  if (!bad && job->curve != NULL) {
    st = set_convention(m, &eval_conventions[job->conv[0]], job->level);
    if (st == LOGITNORM_OK) st = roc_curve(m, job->curve);
    if (st != LOGITNORM_OK) bad = library_error(ood->file, st);
  }
  logitnorm_metrics_free(m);
  return bad;
}

/* values[..., k = num_ood] = the mean over the sets (no threshold: it has no mean). */
static void fill_averages(eval_values *values, int num_conv, int num_scores, int num_ood) {
  for (int c = 0; c < num_conv; ++c)
    for (int s = 0; s < num_scores; ++s) {
      eval_values *row = &values[((size_t)c * (size_t)num_scores + (size_t)s) * (size_t)(num_ood + 1)];
      eval_values avg = {.threshold = NAN};
      for (int k = 0; k < num_ood; ++k) {
        avg.auroc += row[k].auroc / num_ood;
        avg.aupr_in += row[k].aupr_in / num_ood;
        avg.aupr_out += row[k].aupr_out / num_ood;
        avg.fpr += row[k].fpr / num_ood;
        avg.detection_error += row[k].detection_error / num_ood;
      }
      row[num_ood] = avg;
    }
}

/* ---------------------------------------------------------------- outputs */

/* views[i * (num_ood + 1) + k]: score i's values of the ID set (k = 0) and OOD set k - 1;
   curves[i * num_ood + k]. Bold marks the best score per OOD set when there are several. */
static int write_svg(const eval_settings *s, const eval_report *r, const score_view *views,
                     const eval_curve *curves) {
  int nk = r->num_ood, ns = r->num_scores;
  eval_plot_row *rows = calloc((size_t)ns, sizeof *rows);
  eval_plot_set *sets = calloc((size_t)ns * (size_t)nk, sizeof *sets);
  if (rows == NULL || sets == NULL) {
    free(rows);
    free(sets);
    fprintf(stderr, PROG ": %s: out of memory\n", s->svg_path);
    return -1;
  }
  for (int i = 0; i < ns; ++i) {
    const score_view *v = &views[(size_t)i * (size_t)(nk + 1)];
    rows[i].score = r->score_titles[i];
    rows[i].id = (eval_plot_set){.name = r->id.name, .f32 = v[0].f32, .f64 = v[0].f64, .n = v[0].n};
    rows[i].ood = &sets[(size_t)i * (size_t)nk];
    for (int k = 0; k < nk; ++k) {
      const eval_values *val = eval_report_value(r, 0, i, k);
      const eval_curve *cu = &curves[(size_t)i * (size_t)nk + (size_t)k];
      sets[(size_t)i * (size_t)nk + (size_t)k] = (eval_plot_set){
          .name = r->ood[k].name, .f32 = v[k + 1].f32, .f64 = v[k + 1].f64, .n = v[k + 1].n,
          .roc_x = cu->x, .roc_y = cu->y, .roc_n = cu->n, .auroc = val->auroc, .fpr = val->fpr};
    }
  }
  for (int k = 0; k < nk && ns > 1; ++k) {
    double best_auroc = -INFINITY, best_fpr = INFINITY;
    for (int i = 0; i < ns; ++i) {
      best_auroc = fmax(best_auroc, sets[(size_t)i * (size_t)nk + (size_t)k].auroc);
      best_fpr = fmin(best_fpr, sets[(size_t)i * (size_t)nk + (size_t)k].fpr);
    }
    for (int i = 0; i < ns; ++i) {
      eval_plot_set *p = &sets[(size_t)i * (size_t)nk + (size_t)k];
      p->best_auroc = p->auroc == best_auroc;
      p->best_fpr = p->fpr == best_fpr;
    }
  }
  const eval_convention *cv = &eval_conventions[r->conventions[0]];
  char subtitle[512];
  snprintf(subtitle, sizeof subtitle, "ID: %s (%lld %s). Convention %s: %s positive, FPR rule %s, AUPR %s.",
           r->id.file, (long long)r->id.count, ns > 1 ? "rows" : "scores", cv->name,
           cv->positive == LOGITNORM_POSITIVE_ID ? "ID" : "OOD", cv->fpr_rule_name, cv->aupr_rule_name);
  eval_plot plot = {
      .title = ns > 1 ? "logitnorm-eval scores: OOD detection by each logit score"
                      : "logitnorm-eval ood: OOD detection by saved scores",
      .subtitle = subtitle,
      .ood_positive = cv->positive == LOGITNORM_POSITIVE_OOD,
      .tpr_level = r->tpr_level,
      .num_ood = nk,
      .rows = rows,
      .num_rows = ns,
  };
  eval_error err;
  int st = eval_svg_write(s->svg_path, &plot, &err);
  if (st != 0) fprintf(stderr, PROG ": %s\n", err.text);
  free(rows);
  free(sets);
  return st;
}

/* The selected conventions into conv; returns their number. */
static int selected_conventions(const eval_settings *s, int conv[EVAL_NUM_CONVENTIONS]) {
  if (!s->all_conventions) {
    conv[0] = s->convention;
    return 1;
  }
  for (int c = 0; c < EVAL_NUM_CONVENTIONS; ++c) conv[c] = c;
  return EVAL_NUM_CONVENTIONS;
}

/* Metrics of every (score, OOD set) pair into values, curves when an SVG is wanted, then the
   tables or JSON and the SVG. views as in write_svg. */
static int evaluate_and_report(const eval_settings *s, eval_report *r, const score_view *views) {
  int conv[EVAL_NUM_CONVENTIONS], nc = selected_conventions(s, conv);
  int nk = r->num_ood, ns = r->num_scores;
  size_t stride = (size_t)ns * (size_t)(nk + 1);
  eval_values *values = calloc((size_t)nc * stride, sizeof *values);
  eval_curve *curves = s->svg_path ? calloc((size_t)ns * (size_t)nk, sizeof *curves) : NULL;
  int bad = values == NULL || (s->svg_path && curves == NULL);
  if (bad) fprintf(stderr, PROG ": out of memory for the results\n");
  for (int i = 0; i < ns && !bad; ++i)
    for (int k = 0; k < nk && !bad; ++k) {
      pair_job job = {.conv = conv,
                      .num_conv = nc,
                      .level = s->tpr,
                      .out = &values[(size_t)i * (size_t)(nk + 1) + (size_t)k],
                      .stride = stride,
                      .curve = curves ? &curves[(size_t)i * (size_t)nk + (size_t)k] : NULL};
      bad = evaluate_pair(&views[(size_t)i * (size_t)(nk + 1)], &views[(size_t)i * (size_t)(nk + 1) + 1 + k], &job);
    }
  if (!bad) {
    fill_averages(values, nc, ns, nk);
    r->conventions = conv;
    r->num_conventions = nc;
    r->values = values;
    r->tpr_level = s->tpr;
    if (s->json)
      eval_print_json(stdout, r);
    else
      eval_print_tables(stdout, r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
      fprintf(stderr, PROG ": error writing the standard output\n");
      bad = -1;
    }
    if (!bad && s->svg_path) bad = write_svg(s, r, views, curves);
    r->values = NULL;
    r->conventions = NULL;
  }
  for (int i = 0; curves && i < ns * nk; ++i) {
    free(curves[i].x);
    free(curves[i].y);
  }
  free(curves);
  free(values);
  return bad ? EXIT_DATA : EXIT_SUCCESS;
}

/* ---------------------------------------------------------------- commands */

static int run_ood(const eval_settings *s) {
  int nk = s->num_ood, status = EXIT_DATA;
  eval_array arrays[MAX_SETS + 1];
  memset(arrays, 0, sizeof arrays);
  score_view views[MAX_SETS + 1];
  eval_set sets[MAX_SETS];
  char id_name[128];
  default_name(s->id_path, id_name, sizeof id_name);
  int loaded = 0;
  for (; loaded <= nk; ++loaded) {
    const char *path = loaded == 0 ? s->id_path : s->ood[loaded - 1].path;
    if (read_scores(path, &s->read, &arrays[loaded]) != 0) break;
    views[loaded] = (score_view){.f32 = arrays[loaded].f32, .f64 = arrays[loaded].f64, .n = arrays[loaded].rows,
                                 .file = path};
    if (loaded > 0) sets[loaded - 1] = (eval_set){.name = s->ood[loaded - 1].name, .file = path, .count = views[loaded].n};
  }
  if (loaded == nk + 1) {
    static const char *const keys[] = {"score"}, *const titles[] = {"score"};
    eval_report r = {.command = "ood",
                     .id = {.name = id_name, .file = s->id_path, .count = views[0].n},
                     .ood = sets,
                     .num_ood = nk,
                     .score_keys = keys,
                     .score_titles = titles,
                     .num_scores = 1};
    status = evaluate_and_report(s, &r, views);
  }
  for (int i = 0; i < loaded && i <= nk; ++i) eval_array_free(&arrays[i]);
  return status;
}

typedef struct score_kind {
  logitnorm_score_kind kind;
  const char *key, *title;
} score_kind;

static const score_kind score_kinds[] = {
    {LOGITNORM_SCORE_MSP, "msp", "MSP"},
    {LOGITNORM_SCORE_MAX_LOGIT, "max_logit", "max-logit"},
    {LOGITNORM_SCORE_ENERGY, "energy", "energy"},
    {LOGITNORM_SCORE_ENTROPY, "entropy", "neg. entropy"},
    {LOGITNORM_SCORE_GEN, "gen", "GEN"},
    {LOGITNORM_SCORE_MAX_COSINE, "max_cosine", "max-cosine"},
    {LOGITNORM_SCORE_ODIN, "odin", "ODIN"},
};
#define NUM_KINDS (int)(sizeof score_kinds / sizeof *score_kinds)

/* The scores of one kind for every set: out[k] (k = 0 the ID set) gets n[k] floats. */
static int score_sets(const eval_settings *s, const score_kind *kind, int64_t classes, float *const *logits,
                      const int64_t *rows, const char *const *files, float **out) {
  logitnorm_scorer *sc = NULL;
  logitnorm_status st = logitnorm_scorer_create(&sc, kind->kind, classes, 0);
  if (st == LOGITNORM_OK && kind->kind == LOGITNORM_SCORE_ODIN)
    st = logitnorm_scorer_set(sc, LOGITNORM_SCORER_TEMPERATURE, s->odin_temperature);
  if (st == LOGITNORM_OK) st = logitnorm_scorer_set(sc, LOGITNORM_SCORER_THREADS, s->threads);
  if (st != LOGITNORM_OK) {
    logitnorm_scorer_free(sc);
    return library_error(files[0], st);
  }
  int bad = 0;
  for (int k = 0; k <= s->num_ood && !bad; ++k) {
    out[k] = malloc((size_t)rows[k] * sizeof **out);
    if (out[k] == NULL) {
      fprintf(stderr, PROG ": %s: out of memory for %lld scores\n", files[k], (long long)rows[k]);
      bad = -1;
      break;
    }
    st = logitnorm_scorer_score_f32(sc, rows[k], logits[k], classes, NULL, 0, out[k]);
    if (st != LOGITNORM_OK) bad = library_error(files[k], st);
  }
  logitnorm_scorer_free(sc);
  return bad;
}

static int run_scores(const eval_settings *s) {
  int nk = s->num_ood, status = EXIT_DATA, loaded = 0;
  eval_array arrays[MAX_SETS + 1];
  memset(arrays, 0, sizeof arrays);
  float *logits[MAX_SETS + 1] = {0};
  int64_t rows[MAX_SETS + 1], classes = 0;
  const char *files[MAX_SETS + 1];
  eval_set sets[MAX_SETS];
  for (; loaded <= nk; ++loaded) {
    files[loaded] = loaded == 0 ? s->id_path : s->ood[loaded - 1].path;
    if (read_logits(files[loaded], &s->read, &arrays[loaded]) != 0) break;
    logits[loaded] = arrays[loaded].f32;
    rows[loaded] = arrays[loaded].rows;
    int64_t cols = arrays[loaded].cols;
    if (loaded == 0) classes = cols;
    if (cols != classes) {
      fprintf(stderr, PROG ": %s: %lld columns, but the ID logits (%s) have %lld\n", files[loaded], (long long)cols,
              files[0], (long long)classes);
      break;
    }
    if (loaded > 0) sets[loaded - 1] = (eval_set){.name = s->ood[loaded - 1].name, .file = files[loaded], .count = rows[loaded]};
  }
  float **scores = calloc((size_t)NUM_KINDS * (size_t)(nk + 1), sizeof *scores);
  score_view *views = calloc((size_t)NUM_KINDS * (size_t)(nk + 1), sizeof *views);
  int ok = loaded == nk + 1 && scores != NULL && views != NULL;
  for (int i = 0; i < NUM_KINDS && ok; ++i) {
    float **out = &scores[(size_t)i * (size_t)(nk + 1)];
    ok = score_sets(s, &score_kinds[i], classes, logits, rows, files, out) == 0;
    for (int k = 0; k <= nk && ok; ++k)
      views[(size_t)i * (size_t)(nk + 1) + (size_t)k] = (score_view){.f32 = out[k], .n = rows[k], .file = files[k]};
  }
  if (ok) {
    char id_name[128], odin_title[64];
    const char *keys[NUM_KINDS], *titles[NUM_KINDS];
    default_name(s->id_path, id_name, sizeof id_name);
    snprintf(odin_title, sizeof odin_title, "ODIN (T = %g)", s->odin_temperature);
    for (int i = 0; i < NUM_KINDS; ++i) {
      keys[i] = score_kinds[i].key;
      titles[i] = score_kinds[i].kind == LOGITNORM_SCORE_ODIN ? odin_title : score_kinds[i].title;
    }
    eval_report r = {.command = "scores",
                     .id = {.name = id_name, .file = s->id_path, .count = rows[0]},
                     .ood = sets,
                     .num_ood = nk,
                     .classes = classes,
                     .odin_temperature = s->odin_temperature,
                     .score_keys = keys,
                     .score_titles = titles,
                     .num_scores = NUM_KINDS};
    status = evaluate_and_report(s, &r, views);
  } else if (scores == NULL || views == NULL) {
    fprintf(stderr, PROG ": out of memory for the scores\n");
  }
  for (int i = 0; scores && i < NUM_KINDS * (nk + 1); ++i) free(scores[i]);
  free(scores);
  free(views);
  for (int k = 0; k <= nk; ++k) eval_array_free(&arrays[k]);
  return status;
}

int main(int argc, char **argv) {
  eval_settings s = {.tpr = 0.95,
                     .convention = 0,
                     .odin_temperature = 1000.0,
                     .threads = 1,
                     .read = {.delimiter = EVAL_TEXT_AUTO, .raw_rows = -1, .raw_cols = 0}};
  int st = parse_args(argc, argv, &s);
  if (st >= 0) return st;
  return s.command == CMD_OOD ? run_ood(&s) : run_scores(&s);
}
