/* Loss-kernel benchmark: f32 LogitNorm forward_backward (mean reduction, hard labels) at four
   shapes, against two references measured in the same run:
     stream  g[i] = a * x[i] over the N x C logits: reads and writes what any fused loss must;
     naive   a plain scalar loop (libm expf, three passes per row) computing the same loss.
   Each timing warms up, then repeats; the table gives the median and min-max in ms, GB/s
   (8 bytes per element: logits read once, grad written once), the ratios to stream and to
   naive, the speedup of THREADS = 2 over 1, and the f64 and probability-target (soft) times
   relative to f32 hard labels. "nocheck" is the same call with CHECK_FINITE off, against
   stream: the kernels without the scan of the logits that must finish before any output is
   written. --quick runs small shapes once, as a smoke test.

   A second table times the large-class-count recipes, CROSS_ENTROPY, MEAN, hard labels, f32, one
   thread, at 256 x 50,257 in rows of 50,304 (ld = 50,304, as llm.c pads GPT-2's vocabulary) and
   512 x 32,000:
     (a) stats    forward_stats, then backward_stats (beta = 0, separate grad)
     (b) inplace  forward_backward with grad == logits (logits restored, untimed, before each rep)
     (c) beta1    forward_backward with beta = 1 onto a grad buffer
     (d) fused    forward_backward with beta = 0 into a separate buffer
     (e) split    forward, then backward with beta = 1 (the 1.0 two-call recipe)
     (f) plain    plain_ce_ref.c: softmax into probs, -log p, backward from probs, built with
                  -O3 -march=native -ffast-math
     (g) stream   the stream reference above over the same n x C elements
   with the goals: each of (a)-(d) at least 2x faster than (f) and within 1.25x of (d); (d) within
   2x of (g). The seven recipes take turns, a call each per round (11 rounds after 2 untimed),
   so that a change in the machine's load falls on all of them alike.

   A third table times masked rows: f32 forward_backward (MEAN, hard labels, beta = 0, one
   thread, CHECK_FINITE on) with 20 % of the logits -inf (never the label's), LogitNorm and
   CROSS_ENTROPY, at 64 x 50,257, 16,384 x 100 and 65,536 x 10, each next to the same shape
   unmasked: the median of each and masked / unmasked. The four calls of a shape take turns in
   the same way. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logitnorm.h"
#include "plain_ce_ref.h"
#include "timing.h"

typedef struct timing {
  double median, min, max;
} timing;

typedef struct bench_case {
  int64_t n, C;
  const float *z;
  const double *zd;
  const float *t;
  const int32_t *y;
  float *g;
  double *gd;
  logitnorm_loss *loss;
  int threads;
} bench_case;

typedef void (*bench_fn)(bench_case *b);

static timing measure(bench_fn fn, bench_case *b, int warmup, int reps) {
  double t[64];
  if (reps > 64) reps = 64;
  for (int r = 0; r < warmup; ++r) fn(b);
  for (int r = 0; r < reps; ++r) {
    double t0 = now_ms();
    fn(b);
    t[r] = now_ms() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  timing out = {t[reps / 2], t[0], t[reps - 1]};
  return out;
}

/* ---- the references ---- */

static void run_stream(bench_case *b) {
  const int64_t total = b->n * b->C;
  const float a = 0.5f;
  for (int64_t i = 0; i < total; ++i) b->g[i] = a * b->z[i];
}

/* LogitNorm cross-entropy and its gradient, written the obvious way (tau = 0.04, eps = 1e-7,
   mean over rows). */
static void run_naive(bench_case *b) {
  const int64_t n = b->n, C = b->C;
  const float tau = 0.04f, eps = 1e-7f, inv_n = 1.0f / (float)n;
  for (int64_t i = 0; i < n; ++i) {
    const float *z = b->z + i * C;
    float *g = b->g + i * C;
    double ss = 0.0;
    for (int64_t c = 0; c < C; ++c) ss += (double)z[c] * z[c];
    float norm = (float)sqrt(ss), k = 1.0f / (tau * (norm + eps));
    float m = z[0] * k;
    for (int64_t c = 1; c < C; ++c) m = fmaxf(m, z[c] * k);
    float s = 0.0f, su = 0.0f;
    for (int64_t c = 0; c < C; ++c) {
      float e = expf(z[c] * k - m);
      s += e;
      su += e * z[c] * k;
    }
    int32_t y = b->y[i];
    float gu = su / s - z[y] * k; /* g.u with g = p - onehot(y) */
    float corr = norm > 0.0f ? tau / norm : 0.0f;
    for (int64_t c = 0; c < C; ++c) {
      float u = z[c] * k;
      float p = expf(u - m) / s - (c == y ? 1.0f : 0.0f);
      g[c] = inv_n * (k * p - gu * corr * u);
    }
  }
}

static void run_lib_f32(bench_case *b) {
  double l;
  logitnorm_loss_forward_backward_f32(b->loss, b->n, b->z, b->C, b->y, &l, NULL, 1.0f, 0.0f, b->g, b->C);
}

static void run_lib_f64(bench_case *b) {
  double l;
  logitnorm_loss_forward_backward_f64(b->loss, b->n, b->zd, b->C, b->y, &l, NULL, 1.0, 0.0, b->gd, b->C);
}

static void run_lib_soft(bench_case *b) {
  double l;
  logitnorm_loss_forward_backward_soft_f32(b->loss, b->n, b->z, b->C, b->t, b->C, &l, NULL, 1.0f, 0.0f, b->g, b->C);
}

static void set_check_finite(bench_case *b, int on) {
  if (logitnorm_loss_set(b->loss, LOGITNORM_LOSS_CHECK_FINITE, on) != LOGITNORM_OK) {
    fprintf(stderr, "loss_set: %s\n", logitnorm_last_error());
    exit(1);
  }
}

static void set_threads(bench_case *b, int threads) {
  logitnorm_loss_set(b->loss, LOGITNORM_LOSS_THREADS, threads);
}

/* ---- large class counts ---- */

typedef struct lc_case {
  int64_t n, C, ld;
  const float *z;   /* pristine logits */
  float *work;      /* logits for the in-place recipe, restored before each rep */
  const int32_t *y;
  float *g, *probs;
  double *stats;
  logitnorm_loss *loss;
} lc_case;

typedef void (*lc_fn)(lc_case *b);

static void lc_ok(logitnorm_status st, const char *what) {
  if (st != LOGITNORM_OK) {
    fprintf(stderr, "%s: %s (%s)\n", what, logitnorm_status_string(st), logitnorm_last_error());
    exit(1);
  }
}

static void lc_stats(lc_case *b) {
  double l;
  lc_ok(logitnorm_loss_forward_stats_f32(b->loss, b->n, b->z, b->ld, b->y, &l, NULL, b->stats), "forward_stats");
  lc_ok(logitnorm_loss_backward_stats_f32(b->loss, b->n, b->z, b->ld, b->y, b->stats, NULL, 1.0f, 0.0f, b->g, b->ld),
        "backward_stats");
}
static void lc_inplace(lc_case *b) {
  double l;
  lc_ok(logitnorm_loss_forward_backward_f32(b->loss, b->n, b->work, b->ld, b->y, &l, NULL, 1.0f, 0.0f, b->work, b->ld),
        "forward_backward in place");
}
static void lc_beta1(lc_case *b) {
  double l;
  lc_ok(logitnorm_loss_forward_backward_f32(b->loss, b->n, b->z, b->ld, b->y, &l, NULL, 1.0f, 1.0f, b->g, b->ld),
        "forward_backward beta = 1");
}
static void lc_fused(lc_case *b) {
  double l;
  lc_ok(logitnorm_loss_forward_backward_f32(b->loss, b->n, b->z, b->ld, b->y, &l, NULL, 1.0f, 0.0f, b->g, b->ld),
        "forward_backward beta = 0");
}
static void lc_split(lc_case *b) {
  double l;
  lc_ok(logitnorm_loss_forward_f32(b->loss, b->n, b->z, b->ld, b->y, &l, NULL), "forward");
  lc_ok(logitnorm_loss_backward_f32(b->loss, b->n, b->z, b->ld, b->y, NULL, 1.0f, 1.0f, b->g, b->ld), "backward");
}
static volatile double lc_sink;
static void lc_plain(lc_case *b) {
  lc_sink = plain_ce_forward(b->n, b->C, b->z, b->ld, b->y, b->probs);
  plain_ce_backward(b->n, b->C, b->probs, b->ld, b->y, b->g);
}
static void lc_stream(lc_case *b) {
  const float a = 0.5f;
  for (int64_t i = 0; i < b->n; ++i) {
    const float *z = b->z + i * b->ld;
    float *g = b->g + i * b->ld;
    for (int64_t c = 0; c < b->C; ++c) g[c] = a * z[c];
  }
}
static void lc_restore(lc_case *b) {
  memcpy(b->work, b->z, (size_t)(b->n * b->ld) * sizeof *b->work);
}

/* The recipes of one shape, measured in turns: each round runs every recipe once (after an
   untimed step before it: restoring the in-place recipe's logits), so that a change in the
   machine's load falls on all of them alike; each recipe's median over the rounds. */
static void lc_measure_all(const lc_fn *fns, int count, lc_case *b, int warmup, int reps, timing *out) {
  double t[7][64];
  if (reps > 64) reps = 64;
  for (int r = 0; r < warmup + reps; ++r)
    for (int k = 0; k < count; ++k) {
      if (fns[k] == lc_inplace) lc_restore(b);
      double t0 = now_ms();
      fns[k](b);
      if (r >= warmup) t[k][r - warmup] = now_ms() - t0;
    }
  for (int k = 0; k < count; ++k) {
    qsort(t[k], (size_t)reps, sizeof t[k][0], cmp_double);
    out[k] = (timing){t[k][reps / 2], t[k][0], t[k][reps - 1]};
  }
}

static const char *verdict(int met) { return met ? "met" : "MISSED"; }

static int bench_large_classes(int quick, uint64_t *state) {
  const int64_t shapes[2][3] = {{256, 50257, 50304}, {512, 32000, 32000}};
  const int warmup = quick ? 1 : 2, reps = quick ? 1 : 11;
  static const char *const names[7] = {"(a) stats", "(b) inplace", "(c) beta1", "(d) fused",
                                       "(e) split", "(f) plain", "(g) stream"};
  const lc_fn fns[7] = {lc_stats, lc_inplace, lc_beta1, lc_fused, lc_split, lc_plain, lc_stream};
  for (int pass = 0; pass < 4; ++pass) { /* each shape with CHECK_FINITE on, then off */
    const int s = pass / 2, check = pass % 2 == 0;
    printf("\nlarge class counts: f32 CROSS_ENTROPY, MEAN, hard labels, 1 thread, CHECK_FINITE %s%s\n",
           check ? "on" : "off", quick ? " (quick: rows / 64, 1 rep)" : "");
    int64_t n = quick ? shapes[s][0] / 64 : shapes[s][0], C = shapes[s][1], ld = shapes[s][2];
    size_t total = (size_t)(n * ld);
    float *z = malloc(total * sizeof *z), *work = malloc(total * sizeof *work);
    float *g = calloc(total, sizeof *g), *probs = calloc(total, sizeof *probs);
    double *stats = malloc((size_t)n * LOGITNORM_LOSS_ROW_STATS * sizeof *stats);
    int32_t *y = malloc((size_t)n * sizeof *y);
    if (!z || !work || !g || !probs || !stats || !y) {
      fprintf(stderr, "out of memory\n");
      return 1;
    }
    for (size_t j = 0; j < total; ++j) {
      *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
      z[j] = (float)(6.0 * ((double)(*state >> 11) * 0x1.0p-53) - 3.0);
    }
    for (int64_t i = 0; i < n; ++i) y[i] = (int32_t)((uint64_t)i * 2654435761u % (uint64_t)C);
    lc_case b = {n, C, ld, z, work, y, g, probs, stats, NULL};
    lc_ok(logitnorm_loss_create(&b.loss, LOGITNORM_LOSS_CROSS_ENTROPY, C), "loss_create");
    lc_ok(logitnorm_loss_set(b.loss, LOGITNORM_LOSS_THREADS, 1), "loss_set");
    lc_ok(logitnorm_loss_set(b.loss, LOGITNORM_LOSS_CHECK_FINITE, check), "loss_set");
    timing t[7];
    lc_measure_all(fns, 7, &b, warmup, reps, t);
    const double plain = t[5].median, fused = t[3].median, stream = t[6].median;
    printf("%lld x %lld (ld %lld): %.1f MB of logits\n", (long long)n, (long long)C, (long long)ld,
           4.0 * (double)(n * C) / 1e6);
    printf("  %-12s %24s %9s %9s\n", "recipe", "ms median [min-max]", "plain/x", "x/fused");
    for (int r = 0; r < 7; ++r) {
      char ms[48];
      snprintf(ms, sizeof ms, "%.2f [%.2f-%.2f]", t[r].median, t[r].min, t[r].max);
      printf("  %-12s %24s %9.2f %9.2f", names[r], ms, plain / t[r].median, t[r].median / fused);
      if (r < 4)
        printf("   >= 2x plain: %s, <= 1.25x fused: %s", verdict(plain / t[r].median >= 2.0),
               verdict(t[r].median / fused <= 1.25));
      printf("\n");
    }
    printf("  (d) fused / (g) stream = %.2f   <= 2x stream: %s\n", fused / stream, verdict(fused / stream <= 2.0));
    logitnorm_loss_free(b.loss);
    free(z); free(work); free(g); free(probs); free(stats); free(y);
  }
  return 0;
}

/* ---- masked rows ---- */

/* One call of the masked-rows table: a handle (kind) on the unmasked or the masked logits. */
typedef struct mk_recipe {
  const char *kind;
  int masked;
  logitnorm_loss *loss;
  const float *z;
} mk_recipe;

typedef struct mk_case {
  int64_t n, C;
  const int32_t *y;
  float *g;
} mk_case;

static void mk_run(const mk_case *b, const mk_recipe *r) {
  double l;
  lc_ok(logitnorm_loss_forward_backward_f32(r->loss, b->n, r->z, b->C, b->y, &l, NULL, 1.0f, 0.0f, b->g, b->C),
        r->masked ? "forward_backward, masked" : "forward_backward");
}

/* The recipes take turns, a call each per round; each recipe's median over the rounds. */
static void mk_measure_all(const mk_recipe *rs, int count, const mk_case *b, int warmup, int reps, timing *out) {
  double t[4][64];
  if (reps > 64) reps = 64;
  for (int r = 0; r < warmup + reps; ++r)
    for (int k = 0; k < count; ++k) {
      double t0 = now_ms();
      mk_run(b, &rs[k]);
      if (r >= warmup) t[k][r - warmup] = now_ms() - t0;
    }
  for (int k = 0; k < count; ++k) {
    qsort(t[k], (size_t)reps, sizeof t[k][0], cmp_double);
    out[k] = (timing){t[k][reps / 2], t[k][0], t[k][reps - 1]};
  }
}

static int bench_masked(int quick, uint64_t *state) {
  const int64_t shapes[3][2] = {{64, 50257}, {16384, 100}, {65536, 10}};
  const int warmup = quick ? 1 : 2, reps = quick ? 1 : 11;
  printf("\nmasked rows: f32 forward_backward, MEAN, hard labels, 1 thread, CHECK_FINITE on, 20 %% of the logits "
         "-inf (never the label's)%s\n",
         quick ? " (quick: rows / 64, 1 rep)" : "");
  printf("%-10s %-14s %24s %24s %16s\n", "shape", "kind", "unmasked ms [min-max]", "masked ms [min-max]",
         "masked/unmasked");
  for (int s = 0; s < 3; ++s) {
    const int64_t n = quick ? shapes[s][0] / 64 : shapes[s][0], C = shapes[s][1];
    const size_t total = (size_t)(n * C);
    float *z = malloc(total * sizeof *z), *zm = malloc(total * sizeof *zm), *g = calloc(total, sizeof *g);
    int32_t *y = malloc((size_t)n * sizeof *y);
    if (!z || !zm || !g || !y) {
      fprintf(stderr, "out of memory\n");
      return 1;
    }
    for (int64_t i = 0; i < n; ++i) y[i] = (int32_t)((uint64_t)i * 2654435761u % (uint64_t)C);
    /* each logit but the label's is masked with probability p: 20 % of all of them on average */
    const double p = 0.2 * (double)C / (double)(C - 1);
    int64_t masked = 0;
    for (size_t j = 0; j < total; ++j) {
      *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
      const double u = (double)(*state >> 11) * 0x1.0p-53;
      z[j] = zm[j] = (float)(6.0 * u - 3.0);
      /* a second draw decides the mask, so that it does not follow the value */
      *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
      const int64_t i = (int64_t)j / C, c = (int64_t)j % C;
      if ((double)(*state >> 11) * 0x1.0p-53 < p && c != y[i]) {
        zm[j] = -INFINITY;
        ++masked;
      }
    }
    logitnorm_loss *ln = NULL, *ce = NULL;
    lc_ok(logitnorm_loss_create(&ln, LOGITNORM_LOSS_LOGITNORM, C), "loss_create");
    lc_ok(logitnorm_loss_create(&ce, LOGITNORM_LOSS_CROSS_ENTROPY, C), "loss_create");
    const mk_recipe rs[4] = {{.kind = "LogitNorm", .masked = 0, .loss = ln, .z = z},
                             {.kind = "LogitNorm", .masked = 1, .loss = ln, .z = zm},
                             {.kind = "cross-entropy", .masked = 0, .loss = ce, .z = z},
                             {.kind = "cross-entropy", .masked = 1, .loss = ce, .z = zm}};
    const mk_case b = {.n = n, .C = C, .y = y, .g = g};
    timing t[4];
    mk_measure_all(rs, 4, &b, warmup, reps, t);
    char shape[32];
    snprintf(shape, sizeof shape, "%lldx%lld", (long long)n, (long long)C);
    for (int k = 0; k < 4; k += 2) {
      char un[48], ms[48];
      snprintf(un, sizeof un, "%.3f [%.3f-%.3f]", t[k].median, t[k].min, t[k].max);
      snprintf(ms, sizeof ms, "%.3f [%.3f-%.3f]", t[k + 1].median, t[k + 1].min, t[k + 1].max);
      printf("%-10s %-14s %24s %24s %16.2f\n", k == 0 ? shape : "", rs[k].kind, un, ms,
             t[k + 1].median / t[k].median);
    }
    printf("%-10s %.1f %% of the logits masked\n", "", 100.0 * (double)masked / (double)total);
    logitnorm_loss_free(ln);
    logitnorm_loss_free(ce);
    free(z); free(zm); free(g); free(y);
  }
  return 0;
}

int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  const int64_t shapes[4][2] = {{65536, 10}, {16384, 100}, {4096, 1000}, {512, 32000}};
  const int warmup = quick ? 1 : 3, reps = quick ? 1 : 21;
  uint64_t state = 12345;
  printf("bench_loss: f32 LogitNorm forward_backward, mean reduction%s\n", quick ? " (quick: shapes / 64, 1 rep)" : "");
  printf("%-10s %24s %7s %8s %8s %8s %8s %8s %8s\n", "shape", "lib ms median [min-max]", "GB/s", "x stream",
         "nocheck", "naive/x", "1t/2t", "f64/f32", "soft/f32");
  for (int s = 0; s < 4; ++s) {
    int64_t n = quick ? shapes[s][0] / 64 : shapes[s][0], C = shapes[s][1];
    size_t total = (size_t)(n * C);
    float *z = malloc(total * sizeof *z), *t = malloc(total * sizeof *t), *g = malloc(total * sizeof *g);
    double *zd = malloc(total * sizeof *zd), *gd = malloc(total * sizeof *gd);
    int32_t *y = malloc((size_t)n * sizeof *y);
    if (!z || !t || !g || !zd || !gd || !y) {
      fprintf(stderr, "out of memory\n");
      return 1;
    }
    for (size_t j = 0; j < total; ++j) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      double u = (double)(state >> 11) * 0x1.0p-53;
      z[j] = (float)(6.0 * u - 3.0);
      zd[j] = z[j];
      t[j] = (float)(1.0 / (double)C);
      g[j] = 0.0f;
      gd[j] = 0.0;
    }
    for (int64_t i = 0; i < n; ++i) y[i] = (int32_t)((uint64_t)i * 2654435761u % (uint64_t)C);
    bench_case b = {n, C, z, zd, t, y, g, gd, NULL, 1};
    if (logitnorm_loss_create(&b.loss, LOGITNORM_LOSS_LOGITNORM, C) != LOGITNORM_OK) {
      fprintf(stderr, "loss_create: %s\n", logitnorm_last_error());
      return 1;
    }
    timing stream = measure(run_stream, &b, warmup, reps);
    timing naive = measure(run_naive, &b, warmup, quick ? 1 : 5);
    set_threads(&b, 1);
    timing lib = measure(run_lib_f32, &b, warmup, reps);
    timing f64 = measure(run_lib_f64, &b, warmup, reps);
    timing soft = measure(run_lib_soft, &b, warmup, reps);
    set_check_finite(&b, 0);
    timing unchecked = measure(run_lib_f32, &b, warmup, reps);
    set_check_finite(&b, 1);
    set_threads(&b, 2);
    timing lib2 = measure(run_lib_f32, &b, warmup, reps);
    char shape[32], ms[48];
    snprintf(shape, sizeof shape, "%lldx%lld", (long long)n, (long long)C);
    snprintf(ms, sizeof ms, "%.3f [%.3f-%.3f]", lib.median, lib.min, lib.max);
    printf("%-10s %24s %7.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", shape, ms,
           8.0 * (double)total / (lib.median * 1e6), lib.median / stream.median, unchecked.median / stream.median,
           naive.median / lib.median, lib.median / lib2.median,
           f64.median / lib.median, soft.median / lib.median);
    printf("%-10s stream %.3f ms (%.2f GB/s), naive %.3f ms, 2 threads %.3f ms, f64 %.3f ms, soft %.3f ms\n", "",
           stream.median, 8.0 * (double)total / (stream.median * 1e6), naive.median, lib2.median, f64.median,
           soft.median);
    logitnorm_loss_free(b.loss);
    free(z); free(t); free(g); free(zd); free(gd); free(y);
  }
  if (bench_large_classes(quick, &state) != 0) return 1;
  return bench_masked(quick, &state);
}
