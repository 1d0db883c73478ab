/* The pinned loss cases and their runner (see pin_cases.h). Inputs come from integer hashing and
   exact scaling by powers of two (no rand()), so every platform builds the same bits. */
#include "pin_cases.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#endif

/* ---- the case list: element types x shapes x kinds x scenarios ---- */

/* The library cuts a call into 64 fixed row parts (lib/common/parallel.h) and runs each part's
   rows as tiles of 8 float or 4 double rows while C <= TILE_C (104 for float, 48 for double,
   lib/loss/rows_avx2.c), the remaining rows one at a time on the row path. 599 rows make parts
   of 9 or 10 rows: one float tile (two double tiles) and 1 or 2 rows on the row path in each.
   C = 1000 and 50,257 take the row path only; 150 rows give parts of 2 or 3 rows, so the row
   path's look-ahead (the next row's first pass run before this row's last) is used. 50,257
   always runs in rows of 50,304 (GPT-2's vocabulary padded as llm.c pads it); the other shapes
   get `pad` extra columns in the scenarios that ask for padding. */
typedef struct pin_shape {
  int64_t n, C, pad;
  int always_padded;
} pin_shape;

#define PIN_SHAPES 6
static const pin_shape pin_shapes[2][PIN_SHAPES] = {
    {{.n = 599, .C = 1, .pad = 3},
     {.n = 599, .C = 5, .pad = 3},
     {.n = 599, .C = 10, .pad = 3},
     {.n = 599, .C = 104, .pad = 3},
     {.n = 150, .C = 1000, .pad = 24},
     {.n = 3, .C = 50257, .pad = 47, .always_padded = 1}},
    {{.n = 599, .C = 1, .pad = 3},
     {.n = 599, .C = 5, .pad = 3},
     {.n = 599, .C = 10, .pad = 3},
     {.n = 599, .C = 48, .pad = 3},
     {.n = 150, .C = 1000, .pad = 24},
     {.n = 3, .C = 50257, .pad = 47, .always_padded = 1}},
};

typedef struct pin_scenario {
  const char *name;
  pin_call call;
  int soft;
  logitnorm_reduction reduction;
  double smoothing, tau;
  int weights, ignore, row_scale, row_loss, in_place, padded;
  double alpha, beta;
} pin_scenario;

/* Every scenario runs on every shape, for both kinds and both element types. */
static const pin_scenario pin_scenarios[] = {
    /* hard labels: forward_backward */
    {.name = "fb", .call = PIN_FORWARD_BACKWARD, .ignore = 1, .row_loss = 1, .alpha = 1.0},
    {.name = "fb_noloss", .call = PIN_FORWARD_BACKWARD, .ignore = 1, .padded = 1, .alpha = 1.0},
    {.name = "fb_sw", .call = PIN_FORWARD_BACKWARD, .reduction = LOGITNORM_REDUCTION_SUM, .smoothing = 0.1,
     .tau = 0.5, .weights = 1, .row_loss = 1, .alpha = 0.5, .beta = 0.75},
    {.name = "fb_inpl", .call = PIN_FORWARD_BACKWARD, .reduction = LOGITNORM_REDUCTION_NONE, .smoothing = 0.05,
     .ignore = 1, .row_loss = 1, .in_place = 1, .alpha = 1.0},
    {.name = "fb_inpl_b", .call = PIN_FORWARD_BACKWARD, .weights = 1, .in_place = 1, .padded = 1, .alpha = 1.0,
     .beta = -1.5},
    /* hard labels: forward, backward */
    {.name = "fwd", .call = PIN_FORWARD, .smoothing = 0.1, .weights = 1, .ignore = 1, .row_loss = 1},
    {.name = "fwd_noloss", .call = PIN_FORWARD, .reduction = LOGITNORM_REDUCTION_SUM, .ignore = 1, .padded = 1},
    {.name = "bwd", .call = PIN_BACKWARD, .smoothing = 0.1, .ignore = 1, .row_scale = 1, .padded = 1, .alpha = 1.0,
     .beta = 0.75},
    /* probability targets */
    {.name = "sfb", .call = PIN_FORWARD_BACKWARD, .soft = 1, .smoothing = 0.1, .row_loss = 1, .alpha = 1.0},
    {.name = "sfb_w", .call = PIN_FORWARD_BACKWARD, .soft = 1, .reduction = LOGITNORM_REDUCTION_SUM, .weights = 1,
     .in_place = 1, .alpha = 1.0, .beta = -1.5},
    {.name = "sfwd", .call = PIN_FORWARD, .soft = 1, .reduction = LOGITNORM_REDUCTION_NONE, .padded = 1},
    {.name = "sbwd", .call = PIN_BACKWARD, .soft = 1, .row_scale = 1, .padded = 1, .alpha = 1.0},
    /* saved statistics */
    {.name = "st", .call = PIN_STATS, .smoothing = 0.1, .ignore = 1, .alpha = 1.0},
    {.name = "st_w", .call = PIN_STATS, .reduction = LOGITNORM_REDUCTION_SUM, .weights = 1, .ignore = 1,
     .row_scale = 1, .row_loss = 1, .padded = 1, .alpha = 1.0, .beta = 0.75},
    {.name = "sst", .call = PIN_STATS, .soft = 1, .smoothing = 0.05, .row_scale = 1, .row_loss = 1, .alpha = 1.0},
    /* probabilities */
    {.name = "probs", .call = PIN_PROBS, .padded = 1},
};
#define PIN_SCENARIOS ((int)(sizeof pin_scenarios / sizeof pin_scenarios[0]))

int pin_case_count(void) { return 2 * PIN_SHAPES * 2 * PIN_SCENARIOS; }

/* Case i: scenario fastest, then kind, shape, element type. */
pin_case pin_case_at(int i) {
  const pin_scenario *s = &pin_scenarios[i % PIN_SCENARIOS];
  const int ln = i / PIN_SCENARIOS % 2, f64 = i / (2 * PIN_SCENARIOS) / PIN_SHAPES;
  const pin_shape *sh = &pin_shapes[f64][i / (2 * PIN_SCENARIOS) % PIN_SHAPES];
  pin_case c = {
      .f64 = f64,
      .kind = ln ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY,
      .call = s->call,
      .soft = s->soft,
      .n = sh->n,
      .C = sh->C,
      .ld = sh->C + (s->padded || sh->always_padded ? sh->pad : 0),
      .reduction = s->reduction,
      .smoothing = s->smoothing,
      .tau = ln ? s->tau : 0.0,
      .weights = s->weights,
      .ignore = s->ignore,
      .row_scale = s->row_scale,
      .row_loss = s->row_loss,
      .in_place = s->in_place,
      .alpha = s->alpha,
      .beta = s->beta,
  };
  snprintf(c.name, sizeof c.name, "%s.%s.C%" PRId64 ".%s", f64 ? "f64" : "f32", ln ? "ln" : "ce", sh->C, s->name);
  return c;
}

/* ---- inputs ---- */

/* A 32-bit hash of (a, b, salt): multiply-xorshift rounds, in unsigned arithmetic only. */
static uint32_t pin_mix(uint64_t a, uint64_t b, uint32_t salt) {
  uint32_t h = (uint32_t)a * 0x9E3779B1u ^ ((uint32_t)b + 0x7F4A7C15u) * 0x85EBCA77u ^ salt * 0xC2B2AE3Du;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  h *= 0x297A2D39u;
  h ^= h >> 15;
  return h;
}

/* Row i's scale: most rows hold multiples of 1/128 in [-4, 4]; rows 1, 2, 10 and 19 of every
   32 are scaled by a power of two (exact) to a large norm (double: its sum of squares
   overflows), a tiny one (below the kernels' plain sum of squares), zero, and in row 10 a huge
   one for cross-entropy (a range of logits past a quarter of the type's largest value, where
   the target sums are formed again in double) and a large one for LogitNorm (whose norm must
   stay finite). */
static double pin_row_scale(const pin_case *c, int64_t i) {
  const int f64 = c->f64;
  switch (i % 32) {
    case 1: return ldexp(1.0, f64 ? 600 : 60);
    case 2: return ldexp(1.0, f64 ? -520 : -70);
    case 10:
      if (c->kind == LOGITNORM_LOSS_CROSS_ENTROPY) return ldexp(1.0, f64 ? 1020 : 124);
      return ldexp(1.0, f64 ? 300 : 30);
    case 19: return 0.0;
    default: return 1.0;
  }
}

static double pin_logit(const pin_case *c, int64_t i, int64_t col) {
  return ((double)(pin_mix((uint64_t)i, (uint64_t)col, 1) % 1025u) - 512.0) / 128.0 * pin_row_scale(c, i);
}

/* Rows 4, 11, 18, ... are ignored when the case asks for it (the default ignore_index). */
static int32_t pin_label(const pin_case *c, int64_t i) {
  if (c->ignore && i % 7 == 4) return -100;
  return (int32_t)(pin_mix((uint64_t)i, 0, 2) % (uint32_t)c->C);
}

/* Targets: multiples of 1/(8 C) in [0, 1/C] (rows need not sum to 1). */
static double pin_target(int64_t C, int64_t i, int64_t c) {
  return (double)(pin_mix((uint64_t)i, (uint64_t)c, 3) % 9u) / (8.0 * (double)C);
}

/* Class weights in [0.25, 1], and 0 for classes 4, 15, 26, ... */
static float pin_weight(int64_t c) { return c % 11 == 4 ? 0.0f : (float)(0.25 + (double)(c % 7) * 0.125); }

static double pin_row_scale_value(int64_t i) { return 0.5 + (double)(i % 5) * 0.25; }

/* The gradient buffer before a call with beta != 0: multiples of 1/64 in [-1.5625, 1.5625]. */
static double pin_old_grad(int64_t i, int64_t c) {
  return ((double)(pin_mix((uint64_t)i, (uint64_t)c, 4) % 201u) - 100.0) / 64.0;
}

static void pin_put(void *p, int f64, int64_t k, double v) {
  if (f64)
    ((double *)p)[k] = v;
  else
    ((float *)p)[k] = (float)v;
}

/* The case's n x ld matrix of value(c, i, col) in its first C columns and NaN in the padding,
   which the library must not read (a read would turn results into NaN). */
typedef double (*pin_value_fn)(const pin_case *c, int64_t i, int64_t col);

static void pin_fill(void *p, const pin_case *c, pin_value_fn value) {
  for (int64_t i = 0; i < c->n; ++i)
    for (int64_t col = 0; col < c->ld; ++col) pin_put(p, c->f64, i * c->ld + col, col < c->C ? value(c, i, col) : NAN);
}

static double pin_target_of(const pin_case *c, int64_t i, int64_t col) { return pin_target(c->C, i, col); }
static double pin_old_grad_of(const pin_case *c, int64_t i, int64_t col) {
  (void)c;
  return pin_old_grad(i, col);
}

/* ---- records ---- */

static uint64_t pin_bits(const void *p, int width, int64_t k) {
  if (width == 4) {
    uint32_t b;
    memcpy(&b, (const float *)p + k, sizeof b);
    return b;
  }
  uint64_t b;
  memcpy(&b, (const double *)p + k, sizeof b);
  return b;
}

/* An output array: rows x cols values of `width` bytes with leading dimension ld. */
typedef struct pin_span {
  const void *p;
  int width;
  int64_t rows, cols, ld;
} pin_span;

/* The record of an array: FNV-1a over each value's bytes, least significant first, and the
   values at the first, middle and last index. */
static void pin_describe(pin_record *r, const char *case_name, const char *array, pin_span a) {
  memset(r, 0, sizeof *r);
  snprintf(r->case_name, sizeof r->case_name, "%s", case_name);
  snprintf(r->array, sizeof r->array, "%s", array);
  r->count = a.rows * a.cols;
  r->width = a.width;
  uint64_t h = 0xcbf29ce484222325ull;
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t c = 0; c < a.cols; ++c) {
      const uint64_t b = pin_bits(a.p, a.width, i * a.ld + c);
      for (int byte = 0; byte < a.width; ++byte) {
        h ^= (b >> (8 * byte)) & 0xffu;
        h *= 0x100000001b3ull;
      }
    }
  r->hash = h;
  r->samples = r->count < PIN_SAMPLES ? (int)r->count : PIN_SAMPLES;
  for (int k = 0; k < r->samples; ++k) {
    const int64_t idx = r->samples == 1 ? 0 : (r->count - 1) * k / (r->samples - 1);
    r->index[k] = idx;
    r->bits[k] = pin_bits(a.p, a.width, idx / a.cols * a.ld + idx % a.cols);
  }
}

void pin_write(FILE *f, const pin_record *r) {
  fprintf(f, "%s %s %" PRId64 " %016" PRIx64, r->case_name, r->array, r->count, r->hash);
  for (int k = 0; k < r->samples; ++k) fprintf(f, " %" PRId64 ":%0*" PRIx64, r->index[k], 2 * r->width, r->bits[k]);
  fputc('\n', f);
}

int pin_parse(const char *line, pin_record *r) {
  memset(r, 0, sizeof *r);
  if (line[0] == '#') return 0;
  long long count;
  unsigned long long hash;
  int used = 0;
  if (sscanf(line, "%39s %11s %lld %llx%n", r->case_name, r->array, &count, &hash, &used) != 4) return 0;
  r->count = count;
  r->hash = hash;
  const char *p = line + used;
  while (r->samples < PIN_SAMPLES) {
    long long idx;
    unsigned long long bits;
    int a = 0, b = 0;
    if (sscanf(p, " %lld:%n%llx%n", &idx, &a, &bits, &b) != 2) break;
    r->index[r->samples] = idx;
    r->bits[r->samples] = bits;
    r->width = (b - a) / 2;
    ++r->samples;
    p += b;
  }
  return r->samples > 0 && (r->width == 4 || r->width == 8);
}

void pin_toolchain(char *buf, size_t size) {
#if defined(__clang__)
  const char *cc = "clang " __clang_version__;
#elif defined(__GNUC__)
  const char *cc = "gcc " __VERSION__;
#else
  const char *cc = "unknown compiler";
#endif
#if defined(__GLIBC__)
  snprintf(buf, size, "%s, glibc %s", cc, gnu_get_libc_version());
#else
  snprintf(buf, size, "%s, not glibc", cc);
#endif
}

/* ---- the runner ---- */

typedef struct pin_io {
  void *z, *t, *rs, *rl, *g;
  int32_t *y;
  double *stats;
  double loss;
} pin_io;

/* The case's public call(s), on the buffers of io. */
static logitnorm_status pin_call_api(const pin_case *c, const logitnorm_loss *L, pin_io *io) {
  const int64_t n = c->n, ld = c->ld;
  const int64_t ldg = ld; /* grad == logits needs ldg == ld; the other cases keep it */
  const void *rs = c->row_scale ? io->rs : NULL;
  void *rl = c->row_loss ? io->rl : NULL;
  const void *z = io->z, *t = io->t;
  const int32_t *y = io->y;
  void *g = io->g;
  double *loss = &io->loss, *stats = io->stats;
  logitnorm_status st = LOGITNORM_OK;
  if (c->f64) {
    const double a = c->alpha, b = c->beta;
    switch (c->call) {
      case PIN_FORWARD:
        return c->soft ? logitnorm_loss_forward_soft_f64(L, n, z, ld, t, ld, loss, rl)
                       : logitnorm_loss_forward_f64(L, n, z, ld, y, loss, rl);
      case PIN_BACKWARD:
        return c->soft ? logitnorm_loss_backward_soft_f64(L, n, z, ld, t, ld, rs, a, b, g, ldg)
                       : logitnorm_loss_backward_f64(L, n, z, ld, y, rs, a, b, g, ldg);
      case PIN_FORWARD_BACKWARD:
        return c->soft ? logitnorm_loss_forward_backward_soft_f64(L, n, z, ld, t, ld, loss, rl, a, b, g, ldg)
                       : logitnorm_loss_forward_backward_f64(L, n, z, ld, y, loss, rl, a, b, g, ldg);
      case PIN_STATS:
        st = c->soft ? logitnorm_loss_forward_stats_soft_f64(L, n, z, ld, t, ld, loss, rl, stats)
                     : logitnorm_loss_forward_stats_f64(L, n, z, ld, y, loss, rl, stats);
        if (st != LOGITNORM_OK) return st;
        return c->soft ? logitnorm_loss_backward_stats_soft_f64(L, n, z, ld, t, ld, stats, rs, a, b, g, ldg)
                       : logitnorm_loss_backward_stats_f64(L, n, z, ld, y, stats, rs, a, b, g, ldg);
      case PIN_PROBS:
        return logitnorm_loss_probs_f64(L, n, z, ld, g, ldg);
    }
  } else {
    const float a = (float)c->alpha, b = (float)c->beta;
    switch (c->call) {
      case PIN_FORWARD:
        return c->soft ? logitnorm_loss_forward_soft_f32(L, n, z, ld, t, ld, loss, rl)
                       : logitnorm_loss_forward_f32(L, n, z, ld, y, loss, rl);
      case PIN_BACKWARD:
        return c->soft ? logitnorm_loss_backward_soft_f32(L, n, z, ld, t, ld, rs, a, b, g, ldg)
                       : logitnorm_loss_backward_f32(L, n, z, ld, y, rs, a, b, g, ldg);
      case PIN_FORWARD_BACKWARD:
        return c->soft ? logitnorm_loss_forward_backward_soft_f32(L, n, z, ld, t, ld, loss, rl, a, b, g, ldg)
                       : logitnorm_loss_forward_backward_f32(L, n, z, ld, y, loss, rl, a, b, g, ldg);
      case PIN_STATS:
        st = c->soft ? logitnorm_loss_forward_stats_soft_f32(L, n, z, ld, t, ld, loss, rl, stats)
                     : logitnorm_loss_forward_stats_f32(L, n, z, ld, y, loss, rl, stats);
        if (st != LOGITNORM_OK) return st;
        return c->soft ? logitnorm_loss_backward_stats_soft_f32(L, n, z, ld, t, ld, stats, rs, a, b, g, ldg)
                       : logitnorm_loss_backward_stats_f32(L, n, z, ld, y, stats, rs, a, b, g, ldg);
      case PIN_PROBS:
        return logitnorm_loss_probs_f32(L, n, z, ld, g, ldg);
    }
  }
  return LOGITNORM_ERR_INVALID_ARGUMENT;
}

static void pin_error(char *err, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, size, fmt, ap);
  va_end(ap);
}

/* The handle of a case: its kind, C and settings (ignore_index stays at the default -100). */
static logitnorm_status pin_handle(const pin_case *c, logitnorm_loss **out) {
  logitnorm_loss *L = NULL;
  logitnorm_status st = logitnorm_loss_create(&L, c->kind, c->C);
  if (st == LOGITNORM_OK) st = logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, (double)c->reduction);
  if (st == LOGITNORM_OK) st = logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, c->smoothing);
  if (st == LOGITNORM_OK && c->tau > 0.0) st = logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, c->tau);
  if (st == LOGITNORM_OK && c->weights) {
    float *w = malloc((size_t)c->C * sizeof *w);
    if (w == NULL) {
      st = LOGITNORM_ERR_OUT_OF_MEMORY;
    } else {
      for (int64_t k = 0; k < c->C; ++k) w[k] = pin_weight(k);
      st = logitnorm_loss_set_class_weights(L, w);
      free(w);
    }
  }
  if (st != LOGITNORM_OK) {
    logitnorm_loss_free(L);
    L = NULL;
  }
  *out = L;
  return st;
}

/* Fills the inputs of io, runs the case and describes its outputs (see pin_run). */
static int pin_run_io(const pin_case *c, pin_io *io, pin_record out[PIN_MAX_RECORDS], char *err, size_t err_size) {
  const int f64 = c->f64, width = f64 ? 8 : 4;
  const int64_t n = c->n;
  pin_fill(io->z, c, pin_logit);
  if (c->soft) pin_fill(io->t, c, pin_target_of);
  if (c->in_place)
    io->g = io->z;
  else
    pin_fill(io->g, c, pin_old_grad_of);
  for (int64_t i = 0; i < n; ++i) {
    io->y[i] = pin_label(c, i);
    pin_put(io->rs, f64, i, pin_row_scale_value(i));
    pin_put(io->rl, f64, i, NAN);
  }
  memset(io->stats, 0, (size_t)n * LOGITNORM_LOSS_ROW_STATS * sizeof(double));

  logitnorm_loss *L = NULL;
  logitnorm_status st = pin_handle(c, &L);
  if (st == LOGITNORM_OK) st = pin_call_api(c, L, io);
  logitnorm_loss_free(L);
  if (st != LOGITNORM_OK) {
    pin_error(err, err_size, "%s: %s (%s)", c->name, logitnorm_status_string(st), logitnorm_last_error());
    return -1;
  }
  int records = 0;
  const int forward = c->call == PIN_FORWARD || c->call == PIN_FORWARD_BACKWARD || c->call == PIN_STATS;
  const int64_t nstats = n * LOGITNORM_LOSS_ROW_STATS;
  const pin_span loss_out = {.p = &io->loss, .width = 8, .rows = 1, .cols = 1, .ld = 1};
  const pin_span row_loss = {.p = io->rl, .width = width, .rows = 1, .cols = n, .ld = n};
  const pin_span stats = {.p = io->stats, .width = 8, .rows = 1, .cols = nstats, .ld = nstats};
  const pin_span grad = {.p = io->g, .width = width, .rows = n, .cols = c->C, .ld = c->ld};
  if (forward) pin_describe(&out[records++], c->name, "loss_out", loss_out);
  if (forward && c->row_loss) pin_describe(&out[records++], c->name, "row_loss", row_loss);
  if (c->call == PIN_STATS) pin_describe(&out[records++], c->name, "row_stats", stats);
  if (c->call != PIN_FORWARD) pin_describe(&out[records++], c->name, c->call == PIN_PROBS ? "probs" : "grad", grad);
  return records;
}

int pin_run(const pin_case *c, pin_record out[PIN_MAX_RECORDS], char *err, size_t err_size) {
  const size_t width = c->f64 ? sizeof(double) : sizeof(float);
  const size_t mat = (size_t)(c->n * c->ld) * width, vec = (size_t)c->n * width;
  pin_io io = {
      .z = malloc(mat),
      .t = c->soft ? malloc(mat) : NULL,
      .rs = malloc(vec),
      .rl = malloc(vec),
      .g = c->in_place ? NULL : malloc(mat),
      .y = malloc((size_t)c->n * sizeof(int32_t)),
      .stats = malloc((size_t)c->n * LOGITNORM_LOSS_ROW_STATS * sizeof(double)),
      .loss = 0.0,
  };
  void *own_g = io.g; /* io.g becomes the logits in place */
  int records = -1;
  if (!io.z || (c->soft && !io.t) || !io.rs || !io.rl || (!c->in_place && !io.g) || !io.y || !io.stats)
    pin_error(err, err_size, "%s: out of memory", c->name);
  else
    records = pin_run_io(c, &io, out, err, err_size);
  free(own_g);
  free(io.z);
  free(io.t);
  free(io.rs);
  free(io.rl);
  free(io.y);
  free(io.stats);
  return records;
}
