/* Half-precision benchmark: forward_backward of bf16 and f16 logits against the f32 call on the
   same (widened) values, one thread, MEAN, hard labels, beta = 0 into a separate gradient,
   CHECK_FINITE on, LogitNorm and CROSS_ENTROPY, at 256 x 50,304 (ld 50,304), 65,536 x 10 and
   16,384 x 100. Measured in the same run, in turns (a call of each per round, 11 rounds after 2
   untimed, medians), so that a change in the machine's load falls on all of them alike:
     f32        logitnorm_loss_forward_backward_f32
     bf16, f16  the half calls
     up bf16/f16  the upcast recipe a caller without half entry points runs: widen the N x C
                half logits into a float copy, the f32 call into a float gradient, narrow the
                gradient back (half_convert.c, -O3 -march=native: F16C for f16)
     stream h   g[i] = -x[i] over the half bit patterns: 2 bytes read and 2 written per element,
                what any fused half loss must move (the streaming bound for the half bytes)
     stream f   g[i] = 0.5 x[i] in float: 4 + 4 bytes, the bound of the f32 call
   with the goals: at 256 x 50,304 each half call <= 0.8x the f32 call and >= 2x faster than its
   upcast recipe; at the small shapes each half call <= 1.1x the f32 call. The run also checks
   that the half call and the upcast recipe write the same gradient bits (they must: a half call
   computes the f32 call on the widened values and rounds once). --quick runs rows / 64, 1 rep. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "half_convert.h"
#include "logitnorm.h"
#include "timing.h"

static void ok(logitnorm_status st, const char *what) {
  if (st != LOGITNORM_OK) {
    fprintf(stderr, "%s: %s\n", what, logitnorm_last_error());
    exit(1);
  }
}

/* One shape and kind: the logits in float and in both half types (the float ones are the
   widened bf16 or f16 values of the recipe being timed), and the buffers of every recipe. */
typedef struct hb_case {
  int64_t n, C;
  size_t total;
  logitnorm_loss *loss;
  const int32_t *y;
  float *zf[2], *up_z, *up_g, *gf; /* zf[t]: the widened logits of type t (0 bf16, 1 f16) */
  uint16_t *zh[2], *gh, *gh_up;
} hb_case;

typedef void (*hb_fn)(hb_case *b);

static void hb_f32(hb_case *b) {
  double l;
  ok(logitnorm_loss_forward_backward_f32(b->loss, b->n, b->zf[0], b->C, b->y, &l, NULL, 1.0f, 0.0f, b->gf, b->C),
     "forward_backward_f32");
}
static void hb_bf16(hb_case *b) {
  double l;
  ok(logitnorm_loss_forward_backward_bf16(b->loss, b->n, b->zh[0], b->C, b->y, &l, NULL, 1.0f, 0.0f, b->gh, b->C),
     "forward_backward_bf16");
}
static void hb_f16(hb_case *b) {
  double l;
  ok(logitnorm_loss_forward_backward_f16(b->loss, b->n, b->zh[1], b->C, b->y, &l, NULL, 1.0f, 0.0f, b->gh, b->C),
     "forward_backward_f16");
}
static void hb_upcast(hb_case *b, int f16) {
  double l;
  hc_widen(f16, b->zh[f16], b->up_z, b->total);
  ok(logitnorm_loss_forward_backward_f32(b->loss, b->n, b->up_z, b->C, b->y, &l, NULL, 1.0f, 0.0f, b->up_g, b->C),
     "forward_backward_f32 (upcast)");
  hc_narrow(f16, b->up_g, b->gh_up, b->total);
}
static void hb_up_bf16(hb_case *b) { hb_upcast(b, 0); }
static void hb_up_f16(hb_case *b) { hb_upcast(b, 1); }
static void hb_stream_h(hb_case *b) { hc_stream_half(b->zh[0], b->gh, b->total); }
static void hb_stream_f(hb_case *b) { hc_stream_f32(b->zf[0], b->gf, b->total); }

enum { R_F32, R_BF16, R_F16, R_UP_BF16, R_UP_F16, R_STREAM_H, R_STREAM_F, R_COUNT };

static void measure_all(hb_case *b, int warmup, int reps, double *median) {
  static const hb_fn fns[R_COUNT] = {hb_f32, hb_bf16, hb_f16, hb_up_bf16, hb_up_f16, hb_stream_h, hb_stream_f};
  double t[R_COUNT][64];
  if (reps > 64) reps = 64;
  for (int r = 0; r < warmup + reps; ++r)
    for (int k = 0; k < R_COUNT; ++k) {
      const double t0 = now_ms();
      fns[k](b);
      if (r >= warmup) t[k][r - warmup] = now_ms() - t0;
    }
  for (int k = 0; k < R_COUNT; ++k) {
    qsort(t[k], (size_t)reps, sizeof t[k][0], cmp_double);
    median[k] = t[k][reps / 2];
  }
}

/* Whether the half call of type f16 and its upcast recipe write the same gradient bits. */
static int same_bits(hb_case *b, int f16) {
  (f16 ? hb_f16 : hb_bf16)(b);
  hb_upcast(b, f16);
  return memcmp(b->gh, b->gh_up, b->total * sizeof *b->gh) == 0;
}

static const char *verdict(int met) { return met ? "met" : "MISSED"; }

int main(int argc, char **argv) {
  const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  const int64_t shapes[3][2] = {{256, 50304}, {65536, 10}, {16384, 100}};
  const int warmup = quick ? 1 : 2, reps = quick ? 1 : 11;
  uint64_t state = 12345;
  printf("bench_half: forward_backward, MEAN, hard labels, beta = 0, 1 thread, CHECK_FINITE on%s\n",
         quick ? " (quick: rows / 64, 1 rep)" : "");
  printf("ms medians; x f32 = time / f32 call; up/x = upcast recipe / half call; x stream = time / the streaming\n"
         "bound of its own bytes (half: 2 + 2 bytes per element, f32: 4 + 4)\n");
  printf("%-12s %-12s %8s %8s %8s %8s %8s %9s %9s %8s %8s %8s %8s\n", "shape", "kind", "f32", "bf16", "f16",
         "up bf16", "up f16", "stream h", "stream f", "bf16 xf", "f16 xf", "up/bf16", "up/f16");
  int all_same = 1;
  for (int s = 0; s < 3; ++s)
    for (int kind = 0; kind < 2; ++kind) {
      hb_case b = {.n = quick ? shapes[s][0] / 64 : shapes[s][0], .C = shapes[s][1]};
      b.total = (size_t)(b.n * b.C);
      int32_t *y = malloc((size_t)b.n * sizeof *y);
      for (int t = 0; t < 2; ++t) {
        b.zf[t] = malloc(b.total * sizeof(float));
        b.zh[t] = malloc(b.total * sizeof(uint16_t));
      }
      b.up_z = malloc(b.total * sizeof(float));
      b.up_g = malloc(b.total * sizeof(float));
      b.gf = malloc(b.total * sizeof(float));
      b.gh = malloc(b.total * sizeof(uint16_t));
      b.gh_up = malloc(b.total * sizeof(uint16_t));
      if (!y || !b.zf[0] || !b.zf[1] || !b.zh[0] || !b.zh[1] || !b.up_z || !b.up_g || !b.gf || !b.gh || !b.gh_up) {
        fprintf(stderr, "out of memory\n");
        return 1;
      }
      for (size_t j = 0; j < b.total; ++j) { /* uniform in [-3, 3), rounded to each half type */
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        b.up_z[j] = (float)(6.0 * ((double)(state >> 11) * 0x1.0p-53) - 3.0);
      }
      for (int t = 0; t < 2; ++t) {
        hc_narrow(t, b.up_z, b.zh[t], b.total);
        hc_widen(t, b.zh[t], b.zf[t], b.total);
      }
      memset(b.gf, 0, b.total * sizeof(float));
      memset(b.up_g, 0, b.total * sizeof(float));
      memset(b.gh, 0, b.total * sizeof(uint16_t));
      memset(b.gh_up, 0, b.total * sizeof(uint16_t));
      for (int64_t i = 0; i < b.n; ++i) y[i] = (int32_t)((uint64_t)i * 2654435761u % (uint64_t)b.C);
      b.y = y;
      ok(logitnorm_loss_create(&b.loss, kind ? LOGITNORM_LOSS_CROSS_ENTROPY : LOGITNORM_LOSS_LOGITNORM, b.C),
         "loss_create");
      ok(logitnorm_loss_set(b.loss, LOGITNORM_LOSS_THREADS, 1), "loss_set");
      ok(logitnorm_loss_set(b.loss, LOGITNORM_LOSS_CHECK_FINITE, 1), "loss_set");
      double m[R_COUNT];
      measure_all(&b, warmup, reps, m);
      const int same = same_bits(&b, 0) && same_bits(&b, 1);
      all_same &= same;
      char shape[32];
      snprintf(shape, sizeof shape, "%lldx%lld", (long long)b.n, (long long)b.C);
      printf("%-12s %-12s %8.3f %8.3f %8.3f %8.3f %8.3f %9.3f %9.3f %8.2f %8.2f %8.2f %8.2f\n", shape,
             kind ? "cross_entr" : "logitnorm", m[R_F32], m[R_BF16], m[R_F16], m[R_UP_BF16], m[R_UP_F16],
             m[R_STREAM_H], m[R_STREAM_F], m[R_BF16] / m[R_F32], m[R_F16] / m[R_F32], m[R_UP_BF16] / m[R_BF16],
             m[R_UP_F16] / m[R_F16]);
      printf("%-12s x stream: f32 %.2f, bf16 %.2f, f16 %.2f; same gradient bits as the upcast recipe: %s\n", "",
             m[R_F32] / m[R_STREAM_F], m[R_BF16] / m[R_STREAM_H], m[R_F16] / m[R_STREAM_H], same ? "yes" : "NO");
      const double lim = s == 0 ? 0.8 : 1.1;
      printf("%-12s <= %.1fx f32: bf16 %s, f16 %s", "", lim, verdict(m[R_BF16] / m[R_F32] <= lim),
             verdict(m[R_F16] / m[R_F32] <= lim));
      if (s == 0)
        printf("; >= 2x the upcast recipe: bf16 %s, f16 %s", verdict(m[R_UP_BF16] / m[R_BF16] >= 2.0),
               verdict(m[R_UP_F16] / m[R_F16] >= 2.0));
      printf("\n");
      logitnorm_loss_free(b.loss);
      free(y);
      for (int t = 0; t < 2; ++t) free(b.zf[t]), free(b.zh[t]);
      free(b.up_z), free(b.up_g), free(b.gf), free(b.gh), free(b.gh_up);
    }
  return all_same ? 0 : 1;
}
