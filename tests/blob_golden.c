/* blob_golden: saved blobs are the same on every host (DESIGN.md: blobs are little-endian on
   every host, and a blob saved on x86-64 loads on a big-endian host with the same values).

     blob_golden write DIR   builds fixed objects, saves each as DIR/<name>.blob, and writes
                             DIR/values.txt: the values the live objects give before saving
     blob_golden check DIR   loads every blob of kGolden from DIR and checks it against
                             DIR/values.txt

   A folder written on one host is checked on another (x86-64 <-> s390x), so `check` compares
   exactly what a blob pins down, and no more:
   - The blob bytes, exactly: the loaded object, saved again, must give the file's bytes. Every
     field has then gone through this host's load and save and come back the same, so the
     loaded state is the saver's, bit for bit, whatever the host's byte order.
   - Metrics and calibration values, bit for bit: they come from the stored state (the sorted
     scores, counts and exact sums) through integer arithmetic and correctly rounded + - * /
     only, in a library compiled as ISO C (no contraction into FMA), which every IEEE 754 host
     rounds alike.
   - Scorer scores on a fixed probe batch, to a relative SCORE_RTOL of max(|a|, |b|, 1): every
     fitted kind scores through BLIS's GEMM, whose microkernel, and so summation order, depends
     on the CPU (x86-64 Haswell, Zen or SkylakeX kernels; generic C kernels on s390x), and
     through libm's exp and log, whose code can depend on the CPU too (glibc picks FMA variants
     at run time). Their last bits tell nothing about the blob.
   `write` also reloads each blob on the saving host and requires the same bytes on a re-save
   and every value, scores included, bit for bit (same host, same code paths).

   Calibration blobs: calibration.blob in tests/data/blobs is of format version 1, as
   liblogitnorm 1.0 and 1.1 wrote it, and is kept so (it checks that old blobs still load and
   give their values; it holds no classwise sums, so it re-saves as version 1). `write` makes
   the same object with this library, which saves it as version 2: when the committed folder
   is updated, keep that file and its lines. calibration_v2 (equal width, with the classwise
   sums) and calibration_mass (equal-mass bins) are of version 2.

   values.txt, one value per line: <blob> <value> <bits in hex> <value in decimal>; a double
   has 16 hex digits (and %.17g), a float score 8 (and %.9g); only the bits are compared.
   Inputs come from an integer recipe (mix), the same on every host. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"

#define SCORE_RTOL 1e-5

enum {
  C = 4,           /* scorer classes */
  D = 8,           /* scorer features */
  FIT_N = 48,      /* scorer fit rows */
  PROBE_N = 6,     /* scored probe rows */
  CAL_C = 5,       /* calibration classes */
  CAL_N = 120,     /* calibration rows */
  MAX_VALUES = 16, /* values of one object */
  MAX_LINES = 256  /* lines of values.txt */
};

/* ---- inputs ---- */

/* A value in [0, m) from a multiplicative hash of i: integer arithmetic only (uint32_t wraps
   mod 2^32 everywhere), so every host makes the same inputs. */
static int32_t mix(uint32_t i, int32_t m) {
  uint32_t x = i * 2654435761u;
  x ^= x >> 16;
  return (int32_t)(x % (uint32_t)m);
}

/* Scorer inputs; every float is a small integer over a power of two, so exact. */
typedef struct inputs {
  float fit_h[FIT_N * D], fit_z[FIT_N * C], probe_h[PROBE_N * D], probe_z[PROBE_N * C];
  float w[C * D], b[C]; /* the head of VIM, REACT and DICE */
  int32_t fit_y[FIT_N];
} inputs;

static void make_inputs(inputs *in) {
  for (uint32_t k = 0; k < FIT_N * D; ++k) in->fit_h[k] = (float)(mix(k, 33) - 8) / 8.0f;
  for (uint32_t k = 0; k < FIT_N * C; ++k) in->fit_z[k] = (float)(mix(5000 + k, 41) - 20) / 4.0f;
  for (uint32_t k = 0; k < PROBE_N * D; ++k) in->probe_h[k] = (float)(mix(20000 + k, 29) - 6) / 8.0f;
  for (uint32_t k = 0; k < PROBE_N * C; ++k) in->probe_z[k] = (float)(mix(21000 + k, 37) - 18) / 4.0f;
  for (uint32_t k = 0; k < C * D; ++k) in->w[k] = (float)(mix(9000 + k, 17) - 8) / 8.0f;
  for (uint32_t k = 0; k < C; ++k) in->b[k] = (float)(mix(9500 + k, 9) - 4) / 4.0f;
  for (int i = 0; i < FIT_N; ++i) in->fit_y[i] = i % C;
}

/* ---- the objects ---- */

typedef enum object_type { METRICS, CALIBRATION, SCORER } object_type;

typedef struct golden {
  const char *name; /* DIR/<name>.blob, and the first word of its lines in values.txt */
  object_type type;
  int variant; /* METRICS: 0, 1 or 2 (make_metrics); CALIBRATION: 0, 1 or 2 (make_calibration); SCORER: the
                  score kind */
} golden;

static const golden kGolden[] = {
    {.name = "metrics_id", .type = METRICS, .variant = 0},
    {.name = "metrics_ood", .type = METRICS, .variant = 1},
    {.name = "metrics_selective", .type = METRICS, .variant = 2}, /* metrics format 2 */
    {.name = "calibration", .type = CALIBRATION, .variant = 0},
    {.name = "calibration_v2", .type = CALIBRATION, .variant = 1},
    {.name = "calibration_mass", .type = CALIBRATION, .variant = 2},
    {.name = "kl_matching", .type = SCORER, .variant = LOGITNORM_SCORE_KL_MATCHING},
    {.name = "mahalanobis", .type = SCORER, .variant = LOGITNORM_SCORE_MAHALANOBIS},
    {.name = "rmds", .type = SCORER, .variant = LOGITNORM_SCORE_RMDS},
    {.name = "knn", .type = SCORER, .variant = LOGITNORM_SCORE_KNN},
    {.name = "vim", .type = SCORER, .variant = LOGITNORM_SCORE_VIM},
    {.name = "react", .type = SCORER, .variant = LOGITNORM_SCORE_REACT},
    {.name = "dice", .type = SCORER, .variant = LOGITNORM_SCORE_DICE},
};
#define N_GOLDEN ((int)(sizeof kGolden / sizeof kGolden[0]))

/* One handle; the pointer of its type is set. */
typedef struct object {
  logitnorm_metrics *metrics;
  logitnorm_calibration *calibration;
  logitnorm_scorer *scorer;
} object;

static void object_free(object *o) {
  logitnorm_metrics_free(o->metrics);
  logitnorm_calibration_free(o->calibration);
  logitnorm_scorer_free(o->scorer);
  *o = (object){0};
}

/* Reports a failed library call; returns 1 when st is not OK. */
static int fail_status(logitnorm_status st, const char *what, const char *name) {
  if (st == LOGITNORM_OK) return 0;
  printf("FAIL %s: %s: %s (%s)\n", name, what, logitnorm_status_string(st), logitnorm_last_error());
  return 1;
}

/* Variant 0: double scores in thirds (not floats, so the sort keeps 64-bit keys), many ties,
   default settings. Variant 1: float scores in eighths with a -0.0, OOD positive, TPR 0.9,
   the OpenOOD FPR rule and the trapezoid AUPR. Variant 2 (a format-2 blob): confidences in
   sixteenths, correct ones as ID and errors as OOD, with coverage 0.75, risk 0.125 and the
   PER_SAMPLE risk rule; its values are the selective ones. */
static logitnorm_status make_metrics(int variant, logitnorm_metrics **out) {
  logitnorm_metrics *m = NULL;
  logitnorm_status st = logitnorm_metrics_create(&m);
  if (st != LOGITNORM_OK) return st;
  if (variant == 0) {
    double id[240], ood[160];
    for (uint32_t i = 0; i < 240; ++i) id[i] = (double)(mix(i, 40) + 4) / 3.0;
    for (uint32_t i = 0; i < 160; ++i) ood[i] = (double)mix(1000 + i, 40) / 3.0;
    st = logitnorm_metrics_add_f64(m, id, 240, 0);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f64(m, ood, 160, 1);
  } else if (variant == 2) {
    float correct[90], wrong[30];
    for (uint32_t i = 0; i < 90; ++i) correct[i] = (float)(mix(4000 + i, 16) + 1) / 16.0f;
    for (uint32_t i = 0; i < 30; ++i) wrong[i] = (float)(mix(5000 + i, 12) + 1) / 16.0f;
    st = logitnorm_metrics_set(m, LOGITNORM_METRICS_COVERAGE, 0.75);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_RISK, 0.125);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_RISK_RULE, LOGITNORM_RISK_RULE_PER_SAMPLE);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, correct, 90, 0);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, wrong, 30, 1);
  } else {
    float id[150], ood[100];
    for (uint32_t i = 0; i < 150; ++i) id[i] = (float)(mix(2000 + i, 24) - 4) * 0.125f;
    for (uint32_t i = 0; i < 100; ++i) ood[i] = (float)(mix(3000 + i, 24) - 12) * 0.125f;
    ood[0] = -0.0f;
    st = logitnorm_metrics_set(m, LOGITNORM_METRICS_TPR_LEVEL, 0.9);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_POSITIVE, LOGITNORM_POSITIVE_OOD);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_OPENOOD);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_AUPR_RULE, LOGITNORM_AUPR_TRAPEZOID);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, id, 150, 0);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, ood, 100, 1);
  }
  if (st != LOGITNORM_OK) {
    logitnorm_metrics_free(m);
    return st;
  }
  *out = m;
  return LOGITNORM_OK;
}

/* 10 bins, temperature 1.5, logits in quarters. Variant 0 is the object of the version 1 blob
   (6 values); variant 1 the same with a masked class in every fifth row and 7 bins (8 values);
   variant 2 that with equal-mass bins (7 values: no classwise ECE). */
static logitnorm_status make_calibration(int variant, logitnorm_calibration **out) {
  float z[CAL_N * CAL_C];
  int32_t y[CAL_N];
  for (uint32_t k = 0; k < CAL_N * CAL_C; ++k) z[k] = (float)(mix(7000 + k, 25) - 8) * 0.25f;
  for (uint32_t i = 0; i < CAL_N; ++i) y[i] = mix(8000 + i, CAL_C);
  logitnorm_calibration *c = NULL;
  logitnorm_status st = logitnorm_calibration_create(&c, CAL_C);
  if (st != LOGITNORM_OK) return st;
  if (variant > 0)
    for (uint32_t i = 0; i < CAL_N; i += 5) z[i * CAL_C + (uint32_t)(y[i] + 1) % CAL_C] = -INFINITY;
  st = logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, variant > 0 ? 7 : 10);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_TEMPERATURE, 1.5);
  if (st == LOGITNORM_OK && variant == 2)
    st = logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, LOGITNORM_BINNING_EQUAL_MASS);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_add_f32(c, CAL_N, z, CAL_C, y);
  if (st != LOGITNORM_OK) {
    logitnorm_calibration_free(c);
    return st;
  }
  *out = c;
  return LOGITNORM_OK;
}

/* A fitted, prepared scorer of `kind`, with the kind's parameters away from their defaults. */
static logitnorm_status make_scorer(int kind, const inputs *in, logitnorm_scorer **out) {
  logitnorm_scorer *s = NULL;
  logitnorm_status st = logitnorm_scorer_create(&s, (logitnorm_score_kind)kind, C, D);
  if (st != LOGITNORM_OK) return st;
  switch (kind) {
    case LOGITNORM_SCORE_MAHALANOBIS:
    case LOGITNORM_SCORE_RMDS: st = logitnorm_scorer_set(s, LOGITNORM_SCORER_RIDGE, 1e-3); break;
    case LOGITNORM_SCORE_KNN: st = logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 5); break;
    case LOGITNORM_SCORE_VIM:
      st = logitnorm_scorer_set(s, LOGITNORM_SCORER_VIM_DIM, 3);
      if (st == LOGITNORM_OK) st = logitnorm_scorer_set_head_f32(s, in->w, D, in->b);
      break;
    case LOGITNORM_SCORE_REACT:
      st = logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, 80);
      if (st == LOGITNORM_OK) st = logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, 1.5);
      if (st == LOGITNORM_OK) st = logitnorm_scorer_set_head_f32(s, in->w, D, in->b);
      break;
    case LOGITNORM_SCORE_DICE: /* and no bias: the blob's has_bias = 0 path */
      st = logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, 70);
      if (st == LOGITNORM_OK) st = logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, 2.0);
      if (st == LOGITNORM_OK) st = logitnorm_scorer_set_head_f32(s, in->w, D, NULL);
      break;
  }
  if (st == LOGITNORM_OK) st = logitnorm_scorer_fit_f32(s, FIT_N, in->fit_h, D, in->fit_z, C, in->fit_y);
  if (st == LOGITNORM_OK) st = logitnorm_scorer_prepare(s);
  if (st != LOGITNORM_OK) {
    logitnorm_scorer_free(s);
    return st;
  }
  *out = s;
  return LOGITNORM_OK;
}

static logitnorm_status object_make(const golden *g, const inputs *in, object *o) {
  *o = (object){0};
  switch (g->type) {
    case METRICS: return make_metrics(g->variant, &o->metrics);
    case CALIBRATION: return make_calibration(g->variant, &o->calibration);
    case SCORER: return make_scorer(g->variant, in, &o->scorer);
  }
  return LOGITNORM_ERR_INVALID_ARGUMENT;
}

static logitnorm_status object_load(const golden *g, const unsigned char *buf, size_t size, object *o) {
  *o = (object){0};
  switch (g->type) {
    case METRICS: return logitnorm_metrics_load(&o->metrics, buf, size);
    case CALIBRATION: return logitnorm_calibration_load(&o->calibration, buf, size);
    case SCORER: return logitnorm_scorer_load(&o->scorer, buf, size);
  }
  return LOGITNORM_ERR_INVALID_ARGUMENT;
}

static logitnorm_status object_save_to(const object *o, void *buf, size_t capacity, size_t *size) {
  if (o->metrics != NULL) return logitnorm_metrics_save(o->metrics, buf, capacity, size);
  if (o->calibration != NULL) return logitnorm_calibration_save(o->calibration, buf, capacity, size);
  return logitnorm_scorer_save(o->scorer, buf, capacity, size);
}

/* The blob in a new buffer (the caller frees it). */
static logitnorm_status object_save(const object *o, unsigned char **buf, size_t *size) {
  logitnorm_status st = object_save_to(o, NULL, 0, size);
  if (st != LOGITNORM_OK) return st;
  *buf = malloc(*size);
  if (*buf == NULL) return LOGITNORM_ERR_OUT_OF_MEMORY;
  st = object_save_to(o, *buf, *size, size);
  if (st != LOGITNORM_OK) {
    free(*buf);
    *buf = NULL;
  }
  return st;
}

/* ---- values ---- */

typedef struct value {
  char name[24];
  int is_float;  /* a float score (8 hex digits) or a double (16) */
  uint64_t bits; /* the value's bit pattern */
} value;

typedef struct value_list {
  value v[MAX_VALUES];
  int n;
} value_list;

static void add_double(value_list *l, const char *name, double v) {
  value *e = &l->v[l->n++];
  *e = (value){.is_float = 0};
  snprintf(e->name, sizeof e->name, "%s", name);
  memcpy(&e->bits, &v, sizeof v);
}

static void add_float(value_list *l, const char *name, float v) {
  value *e = &l->v[l->n++];
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  *e = (value){.is_float = 1, .bits = u};
  snprintf(e->name, sizeof e->name, "%s", name);
}

static double value_as_double(const value *v) {
  if (v->is_float) {
    uint32_t u = (uint32_t)v->bits;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
  }
  double d;
  memcpy(&d, &v->bits, sizeof d);
  return d;
}

static const char *const kMetricNames[] = {"auroc",           "aupr_in",         "aupr_out", "fpr_at_tpr",
                                           "threshold_at_tpr", "detection_error", "count_id", "count_ood",
                                           "aurc",             "e_aurc",          "augrc",    "risk_at_coverage",
                                           "coverage_at_risk"};
static const char *const kCalibrationNames[] = {"ece",   "mce",   "accuracy",     "nll",
                                                 "brier", "count", "rmsce", "classwise_ece"};
static const int kCalibrationValues[] = {6, 8, 7}; /* by variant (make_calibration) */

/* Every value kind of a metrics or calibration handle, or a scorer's scores of the probe. */
static logitnorm_status object_values(const golden *g, const object *o, const inputs *in, value_list *out) {
  out->n = 0;
  logitnorm_status st = LOGITNORM_OK;
  if (o->metrics != NULL) {
    /* the OOD values, or for the selective blob (a selective parameter set: format 2) the
       counts and the selective values */
    double rule = 0.0, coverage = 0.8;
    st = logitnorm_metrics_get(o->metrics, LOGITNORM_METRICS_RISK_RULE, &rule);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_get(o->metrics, LOGITNORM_METRICS_COVERAGE, &coverage);
    int selective = rule != 0.0 || coverage != 0.8;
    int first = selective ? LOGITNORM_METRIC_COUNT_ID : 0, last = selective ? LOGITNORM_METRIC_COVERAGE_AT_RISK : 7;
    for (int k = first; k <= last && st == LOGITNORM_OK; ++k) {
      double v = 0.0;
      st = logitnorm_metrics_value(o->metrics, (logitnorm_metric)k, &v);
      add_double(out, kMetricNames[k], v);
    }
  } else if (o->calibration != NULL) {
    for (int k = 0; k < kCalibrationValues[g->variant] && st == LOGITNORM_OK; ++k) {
      double v = 0.0;
      st = logitnorm_calibration_value(o->calibration, k, &v);
      add_double(out, kCalibrationNames[k], v);
    }
  } else {
    float scores[PROBE_N];
    st = logitnorm_scorer_score_f32(o->scorer, PROBE_N, in->probe_z, C, in->probe_h, D, scores);
    for (int i = 0; i < PROBE_N && st == LOGITNORM_OK; ++i) {
      char name[16];
      snprintf(name, sizeof name, "score%d", i);
      add_float(out, name, scores[i]);
    }
  }
  return st;
}

/* ---- files ---- */

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t cap = 4096, n = 0;
  unsigned char *buf = malloc(cap);
  while (buf != NULL) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    unsigned char *grown = realloc(buf, cap * 2);
    if (grown == NULL) free(buf);
    buf = grown;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  *size = n;
  return buf;
}

static int write_file(const char *path, const unsigned char *buf, size_t size) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return -1;
  size_t put = fwrite(buf, 1, size, f);
  return fclose(f) != 0 || put != size ? -1 : 0;
}

static void blob_path(char *path, size_t cap, const char *dir, const char *name) {
  snprintf(path, cap, "%s/%s.blob", dir, name);
}

/* Index of the first byte where a and b differ, or -1 when they are equal. */
static long first_difference(const unsigned char *a, size_t na, const unsigned char *b, size_t nb) {
  size_t n = na < nb ? na : nb;
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return (long)i;
  return na == nb ? -1 : (long)n;
}

/* ---- write ---- */

static void print_value(FILE *f, const char *blob, const value *v) {
  if (v->is_float)
    fprintf(f, "%s %s %08" PRIx32 " %.9g\n", blob, v->name, (uint32_t)v->bits, value_as_double(v));
  else
    fprintf(f, "%s %s %016" PRIx64 " %.17g\n", blob, v->name, v->bits, value_as_double(v));
}

/* Builds one object, saves it, and checks the host round trip: the reloaded object re-saves
   to the same bytes and gives the live object's values bit for bit. Returns 0 on success. */
static int write_one(const golden *g, const inputs *in, const char *dir, FILE *values) {
  object live, back = {0};
  value_list want, got;
  unsigned char *blob = NULL, *again = NULL;
  size_t size = 0, size_again = 0;
  char path[4096];
  int bad = fail_status(object_make(g, in, &live), "building", g->name);
  bad = bad || fail_status(object_values(g, &live, in, &want), "values of the live object", g->name);
  bad = bad || fail_status(object_save(&live, &blob, &size), "save", g->name);
  blob_path(path, sizeof path, dir, g->name);
  if (!bad && write_file(path, blob, size) != 0) {
    printf("FAIL %s: cannot write %s\n", g->name, path);
    bad = 1;
  }
  bad = bad || fail_status(object_load(g, blob, size, &back), "load", g->name);
  bad = bad || fail_status(object_save(&back, &again, &size_again), "save of the loaded object", g->name);
  if (!bad && first_difference(blob, size, again, size_again) >= 0) {
    printf("FAIL %s: the loaded object saves to other bytes (from byte %ld)\n", g->name,
           first_difference(blob, size, again, size_again));
    bad = 1;
  }
  bad = bad || fail_status(object_values(g, &back, in, &got), "values of the loaded object", g->name);
  for (int i = 0; !bad && i < want.n; ++i)
    if (got.v[i].bits != want.v[i].bits) {
      printf("FAIL %s: %s is %.17g after the round trip, %.17g before\n", g->name, want.v[i].name,
             value_as_double(&got.v[i]), value_as_double(&want.v[i]));
      bad = 1;
    }
  for (int i = 0; !bad && i < want.n; ++i) print_value(values, g->name, &want.v[i]);
  if (!bad) printf("wrote %s (%zu bytes, %d values)\n", path, size, want.n);
  free(blob);
  free(again);
  object_free(&live);
  object_free(&back);
  return bad;
}

static int host_is_little_endian(void) {
  const uint32_t one = 1;
  unsigned char first;
  memcpy(&first, &one, 1);
  return first == 1;
}

static int cmd_write(const char *dir, const inputs *in) {
  char path[4096];
  snprintf(path, sizeof path, "%s/values.txt", dir);
  FILE *values = fopen(path, "w");
  if (values == NULL) {
    printf("FAIL cannot write %s\n", path);
    return 1;
  }
  fprintf(values, "# blob_golden values: <blob> <value> <bits in hex> <value>; written on a %s host\n",
          host_is_little_endian() ? "little-endian" : "big-endian");
  int bad = 0;
  for (int i = 0; i < N_GOLDEN; ++i) bad |= write_one(&kGolden[i], in, dir, values);
  if (fclose(values) != 0) {
    printf("FAIL cannot write %s\n", path);
    bad = 1;
  }
  return bad;
}

/* ---- check ---- */

typedef struct line {
  char blob[24];
  value v;
  int used;    /* matched by a computed value */
  int claimed; /* its blob is one of kGolden */
} line;

/* Reads values.txt into lines; returns their number, or -1 with a message. */
static int read_values(const char *dir, line *lines, int cap) {
  char path[4096], text[256];
  snprintf(path, sizeof path, "%s/values.txt", dir);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    printf("FAIL cannot read %s\n", path);
    return -1;
  }
  int n = 0, bad = 0;
  while (!bad && fgets(text, sizeof text, f) != NULL) {
    if (text[0] == '#' || text[0] == '\n') continue;
    char hex[32];
    line *l = &lines[n];
    *l = (line){.used = 0, .claimed = 0};
    char *end = NULL;
    if (n == cap || sscanf(text, "%23s %23s %31s", l->blob, l->v.name, hex) != 3) {
      bad = 1;
    } else {
      l->v.bits = strtoull(hex, &end, 16);
      l->v.is_float = strlen(hex) == 8;
      bad = *end != '\0' || (strlen(hex) != 8 && strlen(hex) != 16);
    }
    if (bad) printf("FAIL %s: cannot read the line: %s", path, text);
    n += !bad;
  }
  fclose(f);
  return bad ? -1 : n;
}

static line *find_line(line *lines, int n, const char *blob, const char *name) {
  for (int i = 0; i < n; ++i)
    if (strcmp(lines[i].blob, blob) == 0 && strcmp(lines[i].v.name, name) == 0) return &lines[i];
  return NULL;
}

/* The difference of two scores relative to max(|a|, |b|, 1). */
static double score_difference(const value *got, const value *want) {
  double a = value_as_double(got), b = value_as_double(want);
  return fabs(a - b) / fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* Compares one computed value with its line: float scores within SCORE_RTOL (see the top of
   the file), everything else bit for bit. */
static int value_agrees(const value *got, const value *want) {
  if (got->is_float != want->is_float) return 0;
  if (got->bits == want->bits) return 1;
  return got->is_float && score_difference(got, want) <= SCORE_RTOL;
}

static int check_one(const golden *g, const inputs *in, const char *dir, line *lines, int n_lines) {
  char path[4096];
  blob_path(path, sizeof path, dir, g->name);
  size_t size = 0, size_again = 0;
  unsigned char *blob = read_file(path, &size), *again = NULL;
  object back = {0};
  value_list got = {.n = 0};
  int bad = 0, n_exact = 0;
  double largest = 0.0; /* the largest score_difference */
  if (blob == NULL) {
    printf("FAIL %s: cannot read %s\n", g->name, path);
    bad = 1;
  }
  bad = bad || fail_status(object_load(g, blob, size, &back), "load", g->name);
  bad = bad || fail_status(object_save(&back, &again, &size_again), "save of the loaded object", g->name);
  if (!bad && first_difference(blob, size, again, size_again) >= 0) {
    printf("FAIL %s: the loaded object saves to other bytes than the file's (from byte %ld)\n", g->name,
           first_difference(blob, size, again, size_again));
    bad = 1;
  }
  bad = bad || fail_status(object_values(g, &back, in, &got), "values of the loaded object", g->name);
  int compared = !bad; /* every value is compared, so that a failure lists all of them */
  for (int i = 0; compared && i < got.n; ++i) {
    const value *v = &got.v[i];
    line *l = find_line(lines, n_lines, g->name, v->name);
    if (l == NULL) {
      printf("FAIL %s: values.txt has no %s\n", g->name, v->name);
      bad = 1;
      continue;
    }
    l->used = 1;
    if (!value_agrees(v, &l->v)) {
      printf("FAIL %s: %s is %.17g (bits %" PRIx64 "), values.txt has %.17g (bits %" PRIx64 ")\n", g->name, v->name,
             value_as_double(v), v->bits, value_as_double(&l->v), l->v.bits);
      bad = 1;
    } else if (v->bits == l->v.bits) {
      ++n_exact;
    } else if (score_difference(v, &l->v) > largest) {
      largest = score_difference(v, &l->v);
    }
  }
  for (int i = 0; i < n_lines; ++i) {
    if (strcmp(lines[i].blob, g->name) != 0) continue;
    if (compared && !lines[i].used) {
      printf("FAIL %s: values.txt has %s, which this program does not compute\n", g->name, lines[i].v.name);
      bad = 1;
    }
    lines[i].claimed = 1;
  }
  if (!bad && n_exact == got.n)
    printf("ok   %s: %zu bytes re-saved identically; %d values bit for bit\n", g->name, size, got.n);
  else if (!bad)
    printf("ok   %s: %zu bytes re-saved identically; %d of %d values bit for bit, the others within %.1e "
           "(largest difference %.1e)\n", g->name, size, n_exact, got.n, SCORE_RTOL, largest);
  free(blob);
  free(again);
  object_free(&back);
  return bad;
}

static int cmd_check(const char *dir, const inputs *in) {
  static line lines[MAX_LINES];
  int n_lines = read_values(dir, lines, MAX_LINES);
  int passed = 0, failures = 0;
  if (n_lines < 0) { /* counted as one failure; every blob then fails for want of its values */
    failures = 1;
    n_lines = 0;
  }
  for (int i = 0; i < N_GOLDEN; ++i) {
    if (check_one(&kGolden[i], in, dir, lines, n_lines)) ++failures;
    else ++passed;
  }
  int stray = 0; /* lines of a blob not in kGolden: counted as one failure */
  for (int i = 0; i < n_lines; ++i)
    if (!lines[i].claimed) {
      printf("FAIL values.txt: %s %s is of no blob this program knows\n", lines[i].blob, lines[i].v.name);
      stray = 1;
    }
  failures += stray;
  printf("%d passed, %d failed\n", passed, failures);
  return failures > 0;
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "check") != 0)) {
    fprintf(stderr, "usage: %s write|check DIR\n", argv[0]);
    return 2;
  }
  static inputs in;
  make_inputs(&in);
  return strcmp(argv[1], "write") == 0 ? cmd_write(argv[2], &in) : cmd_check(argv[2], &in);
}
