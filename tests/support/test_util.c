#include "test_util.h"

#include <math.h>
#include <stdlib.h>

void tu_seed(tu_rng *r, uint64_t seed) { r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull; if (!r->s) r->s = 1; }

uint64_t tu_next(tu_rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1Dull;
}

double tu_uniform(tu_rng *r) { return (double)(tu_next(r) >> 11) * 0x1.0p-53; }

double tu_normal(tu_rng *r) {
  double u1 = tu_uniform(r), u2 = tu_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int64_t tu_int(tu_rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(tu_next(r) % (uint64_t)(hi - lo + 1));
}

static unsigned char tu_pattern(size_t i) { return (unsigned char)(0xA5u ^ (i * 31u)); }

void tu_sentinel_fill(void *p, size_t size) {
  unsigned char *b = p;
  for (size_t i = 0; i < size; ++i) b[i] = tu_pattern(i);
}

int tu_sentinel_intact(const void *p, size_t size) {
  const unsigned char *b = p;
  for (size_t i = 0; i < size; ++i)
    if (b[i] != tu_pattern(i)) return 0;
  return 1;
}

int tu_quick(void) {
  const char *v = getenv("LN_TEST_QUICK");
  return v != NULL && v[0] != '\0' && !(v[0] == '0' && v[1] == '\0');
}

int tu_run_suite(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
