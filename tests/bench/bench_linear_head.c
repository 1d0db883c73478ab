/* Fused linear head benchmark: logitnorm_loss_linear_forward_backward_f32 (LogitNorm, MEAN,
   bias, dx, dW and dbias all asked for) at (N, D, C) = (256, 768, 50257), (4096, 512, 1000) and
   (1024, 256, 100000), on 1 and 2 threads, against two references in the same run:
     gemm3   the three bli_sgemm_ex calls alone (logits N x C, dx = G W, dW = G^T x), into a full
             N x C buffer: the floor any head reaches;
     mat     the materialised path: the logits GEMM into a full buffer, the fused loss in place
             (logitnorm_loss_forward_backward_f32, grad == logits), then the two GEMMs.
   Goals: head <= 1.15 x gemm3, and head < mat. The table gives medians in ms and the ratios.
   Memory: in a child process per shape, the growth of the peak resident set (getrusage
   ru_maxrss) over one head call and over one materialised call, after inputs are allocated and
   BLIS's own buffers exist; it is compared with WORKSPACE_BYTES (the head's bound).
     bench_linear_head [--quick] [--reps R]
   --quick: small shapes and one repeat (a smoke test; no speed is judged). */
#define _POSIX_C_SOURCE 200809L
#include <blis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "logitnorm.h"
#include "timing.h"

typedef struct problem {
  int64_t n, d, C;
  int threads;
  float *x, *w, *b, *dx, *dw, *db, *z; /* z: the full N x C buffer of the references */
  int32_t *labels;
  logitnorm_loss *loss;
} problem;

static uint64_t rng_state = 88172645463325252ull;
static float frand(void) { /* xorshift64, uniform in [-1, 1) */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((double)(rng_state >> 11) * 0x1p-52 - 1.0);
}

static void gemm(const problem *p, int64_t m, int64_t n, int64_t k, const float *A, int64_t rsa, int64_t csa,
                 const float *B, int64_t rsb, int64_t csb, float beta, float *Cm, int64_t rsc) {
  rntm_t rntm;
  bli_rntm_init(&rntm);
  bli_rntm_set_num_threads(p->threads, &rntm);
  float one = 1.0f;
  bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &one, (float *)A, rsa, csa, (float *)B, rsb, csb,
               &beta, Cm, rsc, 1, NULL, &rntm);
}

static void run_head(problem *p) {
  double loss;
  logitnorm_status st = logitnorm_loss_linear_forward_backward_f32(p->loss, p->n, p->d, p->x, p->d, p->w, p->d,
                                                                   p->b, p->labels, &loss, NULL, p->dx, p->d,
                                                                   p->dw, p->d, p->db);
  if (st != LOGITNORM_OK) {
    fprintf(stderr, "head: %s\n", logitnorm_last_error());
    exit(1);
  }
}

static void run_gemm3(problem *p) {
  gemm(p, p->n, p->C, p->d, p->x, p->d, 1, p->w, 1, p->d, 0.0f, p->z, p->C);
  gemm(p, p->n, p->d, p->C, p->z, p->C, 1, p->w, p->d, 1, 1.0f, p->dx, p->d);
  gemm(p, p->C, p->d, p->n, p->z, 1, p->C, p->x, p->d, 1, 1.0f, p->dw, p->d);
}

static void run_mat(problem *p) {
  for (int64_t i = 0; i < p->n; ++i) memcpy(p->z + i * p->C, p->b, (size_t)p->C * sizeof(float));
  gemm(p, p->n, p->C, p->d, p->x, p->d, 1, p->w, 1, p->d, 1.0f, p->z, p->C);
  double loss;
  if (logitnorm_loss_forward_backward_f32(p->loss, p->n, p->z, p->C, p->labels, &loss, NULL, 1.0f, 0.0f, p->z,
                                          p->C) != LOGITNORM_OK) {
    fprintf(stderr, "mat: %s\n", logitnorm_last_error());
    exit(1);
  }
  gemm(p, p->n, p->d, p->C, p->z, p->C, 1, p->w, p->d, 1, 1.0f, p->dx, p->d);
  gemm(p, p->C, p->d, p->n, p->z, 1, p->C, p->x, p->d, 1, 1.0f, p->dw, p->d);
  for (int64_t i = 0; i < p->n; ++i)
    for (int64_t c = 0; c < p->C; ++c) p->db[c] += p->z[i * p->C + c];
}

static double median_ms(void (*fn)(problem *), problem *p, int reps) {
  double t[32];
  if (reps > 32) reps = 32;
  fn(p); /* warm-up */
  for (int r = 0; r < reps; ++r) {
    double t0 = now_ms();
    fn(p);
    t[r] = now_ms() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  return t[reps / 2];
}

static float *fill(int64_t count, float scale) {
  float *a = malloc((size_t)count * sizeof(float));
  if (a == NULL) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  for (int64_t i = 0; i < count; ++i) a[i] = scale * frand();
  return a;
}

static void problem_init(problem *p, int64_t n, int64_t d, int64_t C, int threads, int with_z) {
  p->n = n;
  p->d = d;
  p->C = C;
  p->threads = threads;
  p->x = fill(n * d, 1.0f);
  p->w = fill(C * d, 0.05f);
  p->b = fill(C, 0.1f);
  p->dx = fill(n * d, 0.0f);
  p->dw = fill(C * d, 0.0f);
  p->db = fill(C, 0.0f);
  p->z = with_z ? fill(n * C, 0.0f) : NULL;
  p->labels = malloc((size_t)n * sizeof(int32_t));
  for (int64_t i = 0; i < n; ++i) p->labels[i] = (int32_t)((uint64_t)(i * 2654435761u) % (uint64_t)C);
  if (logitnorm_loss_create(&p->loss, LOGITNORM_LOSS_LOGITNORM, C) != LOGITNORM_OK ||
      logitnorm_loss_set(p->loss, LOGITNORM_LOSS_THREADS, threads) != LOGITNORM_OK) {
    fprintf(stderr, "loss handle: %s\n", logitnorm_last_error());
    exit(1);
  }
}

static void problem_free(problem *p) {
  free(p->x);
  free(p->w);
  free(p->b);
  free(p->dx);
  free(p->dw);
  free(p->db);
  free(p->z);
  free(p->labels);
  logitnorm_loss_free(p->loss);
}

static double maxrss_mib(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

/* In a child (its peak starts at the parent's current resident set): the peak growth over one
   head call, then over one materialised call (whose full logits buffer is allocated after). */
static void measure_memory(int64_t n, int64_t d, int64_t C, int threads) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    problem p;
    problem_init(&p, n, d, C, threads, 0);
    float *a = fill(256 * 256, 1.0f), *c = fill(256 * 256, 0.0f); /* BLIS's packing buffers */
    gemm(&p, 256, 256, 256, a, 256, 1, a, 256, 1, 0.0f, c, 256);
    free(a);
    free(c);
    double r0 = maxrss_mib();
    run_head(&p);
    double r1 = maxrss_mib();
    p.z = fill(n * C, 0.0f);
    run_mat(&p);
    double r2 = maxrss_mib();
    double bound;
    logitnorm_loss_get(p.loss, LOGITNORM_LOSS_WORKSPACE_BYTES, &bound);
    printf(" peak extra memory: head %.1f MiB (bound WORKSPACE_BYTES %.1f MiB), materialised %.1f MiB "
           "(N x C logits %.1f MiB)\n",
           r1 - r0, bound / 1048576.0, r2 - r0, (double)(n * C) * 4.0 / 1048576.0);
    problem_free(&p);
    fflush(stdout);
    _exit(0);
  }
  int status;
  if (pid > 0) waitpid(pid, &status, 0);
}

int main(int argc, char **argv) {
  int quick = 0, reps = 5;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quick") == 0) quick = 1;
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
  }
  if (quick) reps = 1;
  if (reps < 1) reps = 1;
  static const int64_t full[3][3] = {{256, 768, 50257}, {4096, 512, 1000}, {1024, 256, 100000}};
  static const int64_t small[3][3] = {{32, 48, 3001}, {256, 32, 100}, {64, 16, 6000}};
  const int64_t(*shapes)[3] = quick ? small : full;
  /* Memory first: a child forked after BLIS has started threads in the parent may wait
     forever on them, so no BLIS call happens in this process before the children are done. */
  for (int s = 0; s < 3; ++s)
    for (int threads = 1; threads <= 2; ++threads) {
      printf("N %lld D %lld C %lld, %d thread%s:", (long long)shapes[s][0], (long long)shapes[s][1],
             (long long)shapes[s][2], threads, threads > 1 ? "s" : "");
      measure_memory(shapes[s][0], shapes[s][1], shapes[s][2], threads);
    }
  printf("f32 LogitNorm, MEAN, bias; dx, dW, dbias; medians of %d runs in ms\n", reps);
  printf("%6s %5s %7s %3s | %9s %9s %9s | %10s %9s\n", "N", "D", "C", "thr", "head", "gemm3", "mat",
         "head/gemm3", "head/mat");
  for (int s = 0; s < 3; ++s) {
    int64_t n = shapes[s][0], d = shapes[s][1], C = shapes[s][2];
    for (int threads = 1; threads <= 2; ++threads) {
      problem p;
      problem_init(&p, n, d, C, threads, 1);
      double th = median_ms(run_head, &p, reps);
      double tg = median_ms(run_gemm3, &p, reps);
      double tm = median_ms(run_mat, &p, reps);
      printf("%6lld %5lld %7lld %3d | %9.2f %9.2f %9.2f | %10.3f %9.3f\n", (long long)n, (long long)d, (long long)C,
             threads, th, tg, tm, th / tg, th / tm);
      problem_free(&p);
    }
  }
  return 0;
}
