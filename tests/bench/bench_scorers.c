/* Scorer benchmark: KNN (10,000 queries against a 50,000 x 512 bank), Mahalanobis and
   NNGuide on the same data, FDBD, SCALE and DML through a head of 1,000 classes (an
   ImageNet-sized head: with 10 classes their GEMM is too thin to say anything about), and
   MSP / energy on 1,000,000 x 10 logits. For the feature kinds the GEMM rate of the whole
   scoring call is compared with bli_sgemm_ex alone on the same block shapes, in the same run,
   with the same thread count. Times are medians of the repeats.
     bench_scorers [--quick] [--threads T] [--reps R]
   --quick: tiny shapes and one repeat (a smoke test; no speed is judged). */
#define _POSIX_C_SOURCE 200809L

#include <blis.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logitnorm.h"
#include "timing.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t rng_state = 88172645463325252ull;
static float randn(void) { /* xorshift + Box-Muller, good enough for timing data */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  double u = ((rng_state >> 11) + 0.5) / 9007199254740992.0;
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  double v = (rng_state >> 11) / 9007199254740992.0;
  return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}

static void check(logitnorm_status st, const char *what) {
  if (st != LOGITNORM_OK) {
    fprintf(stderr, "%s failed: %s (%s)\n", what, logitnorm_status_string(st), logitnorm_last_error());
    exit(1);
  }
}

/* bli_sgemm_ex over the blocks a scorer call uses: for each block of `mb` rows of A (m x k)
   and of `nb` columns of B, C_blk = A_blk B_blk. B is given as rows (n x k, row-major) and
   read transposed in place, as the scorers do. */
static double gemm_blocks(int64_t m, int64_t n, int64_t k, int64_t mb, int64_t nb, const float *a, const float *b,
                          float *c, int threads) {
  rntm_t rntm;
  bli_rntm_init(&rntm);
  bli_rntm_set_num_threads(threads, &rntm);
  float one = 1.0f, zero = 0.0f;
  double t0 = now();
  for (int64_t i0 = 0; i0 < m; i0 += mb) {
    int64_t rows = m - i0 < mb ? m - i0 : mb;
    for (int64_t j0 = 0; j0 < n; j0 += nb) {
      int64_t cols = n - j0 < nb ? n - j0 : nb;
      bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, rows, cols, k, &one, (float *)a + i0 * k, k, 1,
                   (float *)b + j0 * k, 1, k, &zero, c, cols, 1, NULL, &rntm);
    }
  }
  return now() - t0;
}

int main(int argc, char **argv) {
  int quick = 0, threads = 1, reps = 5;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quick") == 0) quick = 1;
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
  }
  if (quick) reps = 1;
  if (reps < 1) reps = 1;
  if (reps > 64) reps = 64;
  int64_t bank = quick ? 3000 : 50000, dim = quick ? 64 : 512, nq = quick ? 700 : 10000, classes = 10;
  int64_t nlog = quick ? 20000 : 1000000;
  printf("scorer benchmark: bank %lld x %lld, %lld queries, %d thread(s), median of %d\n", (long long)bank,
         (long long)dim, (long long)nq, threads, reps);

  float *h = malloc(sizeof(float) * (size_t)(bank * dim)), *q = malloc(sizeof(float) * (size_t)(nq * dim));
  int32_t *y = malloc(sizeof(int32_t) * (size_t)bank);
  float *scores = malloc(sizeof(float) * (size_t)(nq > nlog ? nq : nlog));
  float *cbuf = malloc(sizeof(float) * 512 * 4096);
  if (!h || !q || !y || !scores || !cbuf) return 1;
  for (int64_t i = 0; i < bank; ++i) {
    y[i] = (int32_t)(i % classes);
    for (int64_t j = 0; j < dim; ++j) h[i * dim + j] = randn() + (j % classes == y[i] ? 2.0f : 0.0f);
  }
  for (int64_t i = 0; i < nq * dim; ++i) q[i] = randn();
  double t[64], tb[64];

  /* ---- KNN ---- */
  logitnorm_scorer *knn = NULL;
  check(logitnorm_scorer_create(&knn, LOGITNORM_SCORE_KNN, classes, dim), "create");
  check(logitnorm_scorer_set(knn, LOGITNORM_SCORER_THREADS, threads), "set threads");
  double t0 = now();
  check(logitnorm_scorer_fit_f32(knn, bank, h, dim, NULL, 0, NULL), "knn fit");
  check(logitnorm_scorer_prepare(knn), "knn prepare");
  printf("knn fit+prepare        %9.3f s\n", now() - t0);
  /* the bank as the scorer holds it: normalised rows */
  float *hn = malloc(sizeof(float) * (size_t)(bank * dim)), *qn = malloc(sizeof(float) * (size_t)(nq * dim));
  if (!hn || !qn) return 1;
  for (int64_t i = 0; i < bank; ++i) {
    double s = 0;
    for (int64_t j = 0; j < dim; ++j) s += (double)h[i * dim + j] * h[i * dim + j];
    for (int64_t j = 0; j < dim; ++j) hn[i * dim + j] = (float)(h[i * dim + j] / sqrt(s));
  }
  memcpy(qn, q, sizeof(float) * (size_t)(nq * dim));
  for (int r = 0; r < reps; ++r) {
    t0 = now();
    check(logitnorm_scorer_score_f32(knn, nq, NULL, 0, q, dim, scores), "knn score");
    t[r] = now() - t0;
    tb[r] = gemm_blocks(nq, bank, dim, 512, 4096, qn, hn, cbuf, threads);
  }
  double flops = 2.0 * (double)nq * (double)bank * (double)dim;
  double tk = median(t, reps), tg = median(tb, reps);
  printf("knn score              %9.3f s  %7.2f GFLOP/s (whole call)\n", tk, flops / tk * 1e-9);
  printf("bli_sgemm same blocks  %9.3f s  %7.2f GFLOP/s\n", tg, flops / tg * 1e-9);
  printf("knn / sgemm            %9.1f %%\n", 100.0 * tg / tk);
  logitnorm_scorer_free(knn);

  /* ---- Mahalanobis ---- */
  logitnorm_scorer *maha = NULL;
  check(logitnorm_scorer_create(&maha, LOGITNORM_SCORE_MAHALANOBIS, classes, dim), "create");
  check(logitnorm_scorer_set(maha, LOGITNORM_SCORER_THREADS, threads), "set threads");
  t0 = now();
  check(logitnorm_scorer_fit_f32(maha, bank, h, dim, NULL, 0, y), "maha fit");
  check(logitnorm_scorer_prepare(maha), "maha prepare");
  printf("mahalanobis fit+prep   %9.3f s\n", now() - t0);
  float *wt = malloc(sizeof(float) * (size_t)(dim * dim));
  if (!wt) return 1;
  for (int64_t i = 0; i < dim * dim; ++i) wt[i] = randn();
  for (int r = 0; r < reps; ++r) {
    t0 = now();
    check(logitnorm_scorer_score_f32(maha, nq, NULL, 0, q, dim, scores), "maha score");
    t[r] = now() - t0;
    tb[r] = gemm_blocks(nq, dim, dim, 256, dim, q, wt, cbuf, threads);
  }
  flops = 2.0 * (double)nq * (double)dim * (double)dim;
  tk = median(t, reps);
  tg = median(tb, reps);
  printf("mahalanobis score      %9.3f s  %7.2f GFLOP/s of its GEMM (whole call, %lld classes)\n", tk,
         flops / tk * 1e-9, (long long)classes);
  printf("bli_sgemm same blocks  %9.3f s  %7.2f GFLOP/s\n", tg, flops / tg * 1e-9);
  printf("mahalanobis / sgemm    %9.1f %%\n", 100.0 * tg / tk);
  logitnorm_scorer_free(maha);

  /* ---- NNGuide: the bank GEMM in KNN's blocks, and the head logits ---- */
  float *head = malloc(sizeof(float) * (size_t)(classes * dim));
  if (!head) return 1;
  for (int64_t i = 0; i < classes * dim; ++i) head[i] = 0.05f * randn();
  logitnorm_scorer *nng = NULL;
  check(logitnorm_scorer_create(&nng, LOGITNORM_SCORE_NNGUIDE, classes, dim), "create");
  check(logitnorm_scorer_set(nng, LOGITNORM_SCORER_THREADS, threads), "set threads");
  check(logitnorm_scorer_set_head_f32(nng, head, dim, NULL), "nnguide head");
  t0 = now();
  check(logitnorm_scorer_fit_f32(nng, bank, h, dim, NULL, 0, NULL), "nnguide fit");
  check(logitnorm_scorer_prepare(nng), "nnguide prepare");
  printf("nnguide fit+prepare    %9.3f s\n", now() - t0);
  for (int r = 0; r < reps; ++r) {
    t0 = now();
    check(logitnorm_scorer_score_f32(nng, nq, NULL, 0, q, dim, scores), "nnguide score");
    t[r] = now() - t0;
    tb[r] = gemm_blocks(nq, bank, dim, 512, 4096, q, hn, cbuf, threads) +
            gemm_blocks(nq, classes, dim, 512, classes, q, head, cbuf, threads);
  }
  flops = 2.0 * (double)nq * (double)(bank + classes) * (double)dim;
  tk = median(t, reps);
  tg = median(tb, reps);
  printf("nnguide score          %9.3f s  %7.2f GFLOP/s (whole call, K = 100)\n", tk, flops / tk * 1e-9);
  printf("bli_sgemm same blocks  %9.3f s  %7.2f GFLOP/s\n", tg, flops / tg * 1e-9);
  printf("nnguide / sgemm        %9.1f %%\n", 100.0 * tg / tk);
  logitnorm_scorer_free(nng);

  /* ---- FDBD, SCALE and DML: one GEMM with the head per block of 256 rows ---- */
  int64_t wide = quick ? 50 : 1000;
  float *wbig = malloc(sizeof(float) * (size_t)(wide * dim)), *bbig = malloc(sizeof(float) * (size_t)wide);
  if (!wbig || !bbig) return 1;
  for (int64_t i = 0; i < wide * dim; ++i) wbig[i] = 0.05f * randn();
  for (int64_t i = 0; i < wide; ++i) bbig[i] = 0.1f * randn();
  for (int64_t i = 0; i < nq * dim; ++i) qn[i] = fabsf(q[i]); /* post-ReLU-like rows for SCALE */
  const int head_kinds[3] = {LOGITNORM_SCORE_FDBD, LOGITNORM_SCORE_SCALE, LOGITNORM_SCORE_DML};
  const char *head_names[3] = {"fdbd", "scale", "dml"};
  for (int k = 0; k < 3; ++k) {
    logitnorm_scorer *s = NULL;
    check(logitnorm_scorer_create(&s, head_kinds[k], wide, dim), "create");
    check(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, threads), "set threads");
    check(logitnorm_scorer_set_head_f32(s, wbig, dim, bbig), "head");
    if (head_kinds[k] == LOGITNORM_SCORE_FDBD) {
      check(logitnorm_scorer_fit_f32(s, bank, h, dim, NULL, 0, NULL), "fdbd fit");
      check(logitnorm_scorer_prepare(s), "fdbd prepare");
    }
    for (int r = 0; r < reps; ++r) {
      t0 = now();
      check(logitnorm_scorer_score_f32(s, nq, NULL, 0, qn, dim, scores), "score");
      t[r] = now() - t0;
      tb[r] = gemm_blocks(nq, wide, dim, 256, wide, qn, wbig, cbuf, threads);
    }
    flops = 2.0 * (double)nq * (double)wide * (double)dim;
    tk = median(t, reps);
    tg = median(tb, reps);
    printf("%-5s score            %9.3f s  %7.2f GFLOP/s (whole call, %lld classes)\n", head_names[k], tk,
           flops / tk * 1e-9, (long long)wide);
    printf("bli_sgemm same blocks  %9.3f s  %7.2f GFLOP/s\n", tg, flops / tg * 1e-9);
    printf("%-5s / sgemm          %9.1f %%\n", head_names[k], 100.0 * tg / tk);
    logitnorm_scorer_free(s);
  }
  free(head);
  free(wbig);
  free(bbig);

  /* ---- MSP and energy ---- */
  float *z = malloc(sizeof(float) * (size_t)(nlog * 10));
  if (!z) return 1;
  for (int64_t i = 0; i < nlog * 10; ++i) z[i] = 3.0f * randn();
  const int kinds[2] = {LOGITNORM_SCORE_MSP, LOGITNORM_SCORE_ENERGY};
  const char *names[2] = {"msp", "energy"};
  for (int k = 0; k < 2; ++k) {
    logitnorm_scorer *s = NULL;
    check(logitnorm_scorer_create(&s, kinds[k], 10, 0), "create");
    check(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, threads), "set threads");
    for (int r = 0; r < reps; ++r) {
      t0 = now();
      check(logitnorm_scorer_score_f32(s, nlog, z, 10, NULL, 0, scores), "score");
      t[r] = now() - t0;
    }
    tk = median(t, reps);
    printf("%-6s %lld x 10       %9.4f s  %7.1f M rows/s\n", names[k], (long long)nlog, tk, nlog / tk * 1e-6);
    logitnorm_scorer_free(s);
  }
  free(h);
  free(q);
  free(y);
  free(scores);
  free(cbuf);
  free(hn);
  free(qn);
  free(wt);
  free(z);
  return 0;
}
