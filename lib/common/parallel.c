#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct ln_job {
  void (*fn)(void *ctx, int part, int worker);
  void *ctx;
  int parts;
  atomic_int next;
} ln_job;

typedef struct ln_worker_arg {
  ln_job *job;
  int worker;
} ln_worker_arg;

static void *ln_worker(void *arg) {
  const ln_worker_arg *w = arg;
  for (;;) {
    int p = atomic_fetch_add(&w->job->next, 1);
    if (p >= w->job->parts) return NULL;
    w->job->fn(w->job->ctx, p, w->worker);
  }
}

void ln_parallel_parts_w(int threads, int parts, void (*fn)(void *ctx, int part, int worker), void *ctx) {
  if (threads > parts) threads = parts;
  if (threads <= 1) {
    for (int p = 0; p < parts; ++p) fn(ctx, p, 0);
    return;
  }
  if (threads > 64) threads = 64;
  ln_job job = {.fn = fn, .ctx = ctx, .parts = parts, .next = 0};
  pthread_t tid[64];
  ln_worker_arg args[64];
  int started = 0;
  for (int t = 1; t < threads; ++t) {
    args[started] = (ln_worker_arg){.job = &job, .worker = started + 1};
    if (pthread_create(&tid[started], NULL, ln_worker, &args[started]) != 0) break;
    ++started;
  }
  ln_worker_arg self = {.job = &job, .worker = 0};
  ln_worker(&self);
  for (int t = 0; t < started; ++t) pthread_join(tid[t], NULL);
}

typedef struct ln_plain_ctx {
  void (*fn)(void *ctx, int part);
  void *ctx;
} ln_plain_ctx;

static void ln_plain_part(void *ctx, int part, int worker) {
  const ln_plain_ctx *c = ctx;
  (void)worker;
  c->fn(c->ctx, part);
}

void ln_parallel_parts(int threads, int parts, void (*fn)(void *ctx, int part), void *ctx) {
  ln_plain_ctx c = {.fn = fn, .ctx = ctx};
  ln_parallel_parts_w(threads, parts, ln_plain_part, &c);
}
