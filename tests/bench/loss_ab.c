/* One loss call timed on its own, for comparing two builds of the library process by process
   (tests/bench/compare_builds.sh runs it against each build in turn through LD_LIBRARY_PATH).
   Uses only the 1.0 API, so that it runs against 1.0 and 1.1 alike.
     loss_ab N C KIND CHECK REPS   f32 forward_backward (MEAN, hard labels i mod C, beta = 0, one
                                   thread) on N x C logits uniform in [-5, 5); KIND 0 cross-entropy,
                                   1 LogitNorm; CHECK the CHECK_FINITE setting. Prints the best of
                                   REPS calls in ms.
     loss_ab --quick               one small call, a smoke test. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logitnorm.h"
#include "timing.h"

int main(int argc, char **argv) {
  int64_t n = 64, C = 10;
  int kind = 1, check = 1, reps = 1;
  if (!(argc == 2 && strcmp(argv[1], "--quick") == 0)) {
    if (argc != 6) {
      fprintf(stderr, "usage: loss_ab N C KIND CHECK REPS | loss_ab --quick\n");
      return 2;
    }
    n = atoll(argv[1]);
    C = atoll(argv[2]);
    kind = atoi(argv[3]);
    check = atoi(argv[4]);
    reps = atoi(argv[5]);
    if (n < 1 || C < 1 || (kind != 0 && kind != 1) || (check != 0 && check != 1) || reps < 1) {
      fprintf(stderr, "loss_ab: N, C, REPS >= 1; KIND, CHECK 0 or 1\n");
      return 2;
    }
  }
  float *z = malloc((size_t)(n * C) * sizeof *z), *g = malloc((size_t)(n * C) * sizeof *g);
  int32_t *y = malloc((size_t)n * sizeof *y);
  if (z == NULL || g == NULL || y == NULL) {
    fprintf(stderr, "loss_ab: out of memory\n");
    return 1;
  }
  uint32_t s = 1;
  for (int64_t i = 0; i < n * C; ++i) {
    s = s * 1664525u + 1013904223u;
    z[i] = (float)((s >> 8) % 2000) / 200.0f - 5.0f;
  }
  for (int64_t i = 0; i < n; ++i) y[i] = (int32_t)(i % C);
  logitnorm_loss *L = NULL;
  if (logitnorm_loss_create(&L, kind ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY, C) != LOGITNORM_OK ||
      logitnorm_loss_set(L, LOGITNORM_LOSS_CHECK_FINITE, check) != LOGITNORM_OK) {
    fprintf(stderr, "loss_ab: %s\n", logitnorm_last_error());
    return 1;
  }
  double best = 1e300, loss = 0.0;
  for (int r = 0; r < reps; ++r) {
    double t0 = now_ms();
    if (logitnorm_loss_forward_backward_f32(L, n, z, C, y, &loss, NULL, 1.0f, 0.0f, g, C) != LOGITNORM_OK) {
      fprintf(stderr, "loss_ab: %s\n", logitnorm_last_error());
      return 1;
    }
    double t = now_ms() - t0;
    if (t < best) best = t;
  }
  printf("%.4f\n", best);
  logitnorm_loss_free(L);
  free(z), free(g), free(y);
  return 0;
}
