#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct ln_job {
  void (*fn)(void *ctx, int part);
  void *ctx;
  int parts;
  atomic_int next;
} ln_job;

static void *ln_worker(void *arg) {
  ln_job *job = arg;
  for (;;) {
    int p = atomic_fetch_add(&job->next, 1);
    if (p >= job->parts) return NULL;
    job->fn(job->ctx, p);
  }
}

void ln_parallel_parts(int threads, int parts, void (*fn)(void *ctx, int part), void *ctx) {
  if (threads > parts) threads = parts;
  if (threads <= 1) {
    for (int p = 0; p < parts; ++p) fn(ctx, p);
    return;
  }
  if (threads > 64) threads = 64;
  ln_job job = {fn, ctx, parts, 0};
  pthread_t tid[64];
  int started = 0;
  for (int t = 1; t < threads; ++t) {
    if (pthread_create(&tid[started], NULL, ln_worker, &job) != 0) break;
    ++started;
  }
  ln_worker(&job);
  for (int t = 0; t < started; ++t) pthread_join(tid[t], NULL);
}
