/* The error of half gradients (docs/math.md, "Half precision"): logitnorm_loss_forward_backward_bf16
   and _f16 against the _f64 call on the same widened logits, at class counts of the half suite's
   shapes, for cross-entropy and LogitNorm (tau 0.5 and 0.04), SUM reduction, hard labels.

   For each case it prints the largest error of an entry in units of the half type's ulp at the
   exact value (half an ulp is the rounding itself; the rest is the float arithmetic underneath),
   and the largest error relative to the size of the terms the row's gradient is made of: g =
   softmax(u) - onehot is formed from terms of size up to 1, so that size is 1 for
   cross-entropy and (1 + |g.zh|) / (tau (|z| + eps)) for LogitNorm, zh = z / |z|. Where the
   softmax saturates (large |u|: small tau), g cancels far below that size, and there the float
   arithmetic's error, not the rounding to half, is what shows in ulps. Not a timing: a measurement of accuracy, run once. --quick runs the first
   class count only. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half_convert.h"
#include "logitnorm.h"

/* The ulp of the half type at |x|: 7 stored mantissa bits for bf16, 10 for f16, and the
   subnormal spacing below each type's smallest normal. */
static double half_ulp(int f16, double x) {
  const int mant = f16 ? 10 : 7, emin = f16 ? -14 : -126;
  int e = 0;
  frexp(fabs(x), &e); /* |x| in [2^(e-1), 2^e) */
  e -= 1;
  if (x == 0.0 || e < emin) e = emin;
  return ldexp(1.0, e - mant);
}

/* Standard normal values from a fixed linear congruential sequence (Box-Muller). */
static uint64_t rng_state = 88172645463325252ull;
static double uniform01(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return ((double)(rng_state >> 11) + 0.5) * 0x1p-53;
}
static double normal(void) { return sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01()); }

typedef struct err_case {
  const char *name;
  logitnorm_loss_kind kind;
  double tau;
} err_case;

/* The size of the terms of row z's gradient (see the top of this file), in double. */
static double term_scale(const err_case *k, const double *z, int64_t C, int32_t y) {
  double norm = 0.0;
  for (int64_t c = 0; c < C; ++c) norm += z[c] * z[c];
  norm = sqrt(norm);
  const int ln = k->kind == LOGITNORM_LOSS_LOGITNORM;
  const double f = ln ? 1.0 / (k->tau * (norm + 1e-7)) : 1.0;
  double m = -INFINITY, sum = 0.0, gz = 0.0;
  for (int64_t c = 0; c < C; ++c) m = fmax(m, f * z[c]);
  for (int64_t c = 0; c < C; ++c) sum += exp(f * z[c] - m);
  for (int64_t c = 0; c < C; ++c) gz += (exp(f * z[c] - m) / sum - (c == y)) * (norm > 0.0 ? z[c] / norm : 0.0);
  return ln ? (1.0 + fabs(gz)) * f : 1.0;
}

/* Runs one case and prints its line. 0 when every call returned OK. */
static int measure(const err_case *k, int64_t C, int f16) {
  const int64_t n = C >= 16384 ? 8 : (int64_t)(1 << 18) / C + 4;
  const size_t total = (size_t)(n * C);
  float *zf = malloc(total * sizeof *zf);
  double *zd = malloc(total * sizeof *zd), *gd = malloc(total * sizeof *gd);
  uint16_t *zh = malloc(total * sizeof *zh), *gh = malloc(total * sizeof *gh);
  float *gw = malloc(total * sizeof *gw);
  int32_t *y = malloc((size_t)n * sizeof *y);
  if (!zf || !zd || !gd || !zh || !gh || !gw || !y) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < total; ++i) zf[i] = (float)(3.0 * normal());
  hc_narrow(f16, zf, zh, total);
  hc_widen(f16, zh, zf, total); /* the exact values the half call sees */
  for (size_t i = 0; i < total; ++i) zd[i] = zf[i];
  for (int64_t i = 0; i < n; ++i) y[i] = (int32_t)((i * 7919) % C);

  logitnorm_loss *L = NULL;
  int bad = logitnorm_loss_create(&L, k->kind, C) != LOGITNORM_OK;
  bad |= logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM) != LOGITNORM_OK;
  if (k->kind == LOGITNORM_LOSS_LOGITNORM) bad |= logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, k->tau) != LOGITNORM_OK;
  double loss_d = 0.0, loss_h = 0.0;
  bad |= logitnorm_loss_forward_backward_f64(L, n, zd, C, y, &loss_d, NULL, 1.0, 0.0, gd, C) != LOGITNORM_OK;
  logitnorm_status st = f16 ? logitnorm_loss_forward_backward_f16(L, n, zh, C, y, &loss_h, NULL, 1.0f, 0.0f, gh, C)
                            : logitnorm_loss_forward_backward_bf16(L, n, zh, C, y, &loss_h, NULL, 1.0f, 0.0f, gh, C);
  bad |= st != LOGITNORM_OK;
  hc_widen(f16, gh, gw, total);

  double max_ulps = 0.0, max_rel_row = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double scale = term_scale(k, zd + i * C, C, y[i]);
    for (int64_t c = 0; c < C; ++c) {
      const double exact = gd[i * C + c], err = fabs((double)gw[i * C + c] - exact);
      max_ulps = fmax(max_ulps, err / half_ulp(f16, exact));
      if (scale > 0.0) max_rel_row = fmax(max_rel_row, err / scale);
    }
  }
  printf("| %-20s | %6lld | %5s | %6lld | %9.3f | %9.2e | %9.2e |\n", k->name, (long long)C, f16 ? "f16" : "bf16",
         (long long)n, max_ulps, max_rel_row, fabs(loss_h - loss_d) / fabs(loss_d));
  logitnorm_loss_free(L);
  free(zf), free(zd), free(gd), free(zh), free(gh), free(gw), free(y);
  return bad;
}

int main(int argc, char **argv) {
  const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  static const err_case cases[] = {
      {.name = "cross-entropy", .kind = LOGITNORM_LOSS_CROSS_ENTROPY, .tau = 1.0},
      {.name = "LogitNorm, tau 0.5", .kind = LOGITNORM_LOSS_LOGITNORM, .tau = 0.5},
      {.name = "LogitNorm, tau 0.04", .kind = LOGITNORM_LOSS_LOGITNORM, .tau = 0.04},
  };
  static const int64_t classes[] = {10, 100, 1000, 50257};
  printf("| case | C | type | rows | max error (half ulps) | max error / term size | loss, relative |\n");
  printf("|---|---|---|---|---|---|---|\n");
  int bad = 0;
  for (int c = 0; c < (quick ? 1 : 4); ++c)
    for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k)
      for (int f16 = 0; f16 <= 1; ++f16) bad |= measure(&cases[k], classes[c], f16);
  if (bad) fprintf(stderr, "a loss call failed\n");
  return bad;
}
