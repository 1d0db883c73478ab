/* Small helpers shared by the Check suites: a seeded RNG, sentinel-filled buffers for
   "nothing was written" checks, and the suite runner. */
#ifndef LN_TEST_UTIL_H
#define LN_TEST_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* xorshift64* generator: deterministic across platforms. */
typedef struct tu_rng {
  uint64_t s;
} tu_rng;

void tu_seed(tu_rng *r, uint64_t seed);
uint64_t tu_next(tu_rng *r);
double tu_uniform(tu_rng *r);               /* [0, 1) */
double tu_normal(tu_rng *r);                /* N(0, 1), Box-Muller */
int64_t tu_int(tu_rng *r, int64_t lo, int64_t hi); /* [lo, hi] */

/* Fills size bytes with a recognisable byte pattern; tu_sentinel_intact says whether the
   bytes still hold it. */
void tu_sentinel_fill(void *p, size_t size);
int tu_sentinel_intact(const void *p, size_t size);

/* 1 when the environment sets LN_TEST_QUICK to anything but "0" (tests/run.sh does under
   valgrind, which runs the long numeric sweeps some 50 times slower): they then check a
   thinned sample or fewer sizes. */
int tu_quick(void);

/* Runs a Check suite (CK_NORMAL output) and frees it; the exit status for main. */
int tu_run_suite(Suite *s);

#endif
