/* Fixed-partition parallel loop. Work is cut into LN_PARTS parts whose boundaries depend
   only on the problem size, never on the thread count; each part writes its own result
   slot and the caller reduces the slots in order. So results are bitwise identical for
   every thread count, and with one thread nothing is started. */
#ifndef LN_COMMON_PARALLEL_H
#define LN_COMMON_PARALLEL_H

#include <stdint.h>

#define LN_PARTS 64

/* Part p of n items covers [ln_part_begin(n, p), ln_part_begin(n, p + 1)). */
static inline int64_t ln_part_begin(int64_t n, int part) {
  int64_t per = n / LN_PARTS, rest = n % LN_PARTS;
  return part * per + (part < rest ? part : rest);
}

/* Runs fn(ctx, part) for every part in [0, parts) on up to `threads` threads (the calling
   thread included). If a thread cannot be started, its parts run on the caller. */
void ln_parallel_parts(int threads, int parts, void (*fn)(void *ctx, int part), void *ctx);

/* The same, telling fn which worker runs the part: worker is in [0, min(threads, parts, 64)),
   so a caller can give each worker its own scratch block. */
void ln_parallel_parts_w(int threads, int parts, void (*fn)(void *ctx, int part, int worker), void *ctx);

#endif
