/* Save and load of every scorer kind: size query, round trip scoring bit for bit, the
   re-saved blob identical, corrupt blobs (each byte flipped, each truncation, and
   re-checksummed field corruption) rejected without a crash, and THREADS left out of the
   model (a loaded scorer has THREADS = 1 whatever the blob holds). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "score_ref.h"
#include "test_util.h"

enum { C = 3, D = 4, N = 40, Q = 9 };

static const int kKinds[] = {
    LOGITNORM_SCORE_MSP,      LOGITNORM_SCORE_MAX_LOGIT,   LOGITNORM_SCORE_ENERGY, LOGITNORM_SCORE_ENTROPY,
    LOGITNORM_SCORE_GEN,      LOGITNORM_SCORE_ODIN,        LOGITNORM_SCORE_MAX_COSINE,
    LOGITNORM_SCORE_KL_MATCHING, LOGITNORM_SCORE_MAHALANOBIS, LOGITNORM_SCORE_RMDS, LOGITNORM_SCORE_KNN,
    LOGITNORM_SCORE_VIM,      LOGITNORM_SCORE_GRADNORM,    LOGITNORM_SCORE_REACT,  LOGITNORM_SCORE_ASH,
    LOGITNORM_SCORE_DICE,     LOGITNORM_SCORE_NNGUIDE,     LOGITNORM_SCORE_FDBD,   LOGITNORM_SCORE_SCALE,
    LOGITNORM_SCORE_DML};
#define N_KINDS ((int)(sizeof kKinds / sizeof kKinds[0]))

typedef struct data {
  float h[N * D], z[N * C], w[C * D], b[C], qh[Q * D], qz[Q * C];
  int32_t y[N];
} data;

static void make_data(data *d) {
  sr_rng r;
  sr_seed(&r, 99);
  for (int i = 0; i < N * D; ++i) d->h[i] = (float)fabs(1.0 + sr_normal(&r));
  for (int i = 0; i < N * C; ++i) d->z[i] = (float)(2.0 * sr_normal(&r));
  for (int i = 0; i < C * D; ++i) d->w[i] = (float)sr_normal(&r);
  for (int i = 0; i < C; ++i) d->b[i] = (float)sr_normal(&r);
  for (int i = 0; i < Q * D; ++i) d->qh[i] = (float)fabs(1.0 + sr_normal(&r));
  for (int i = 0; i < Q * C; ++i) d->qz[i] = (float)(2.0 * sr_normal(&r));
  for (int i = 0; i < N; ++i) d->y[i] = i % C;
}

/* A scorer of `kind`, fitted and prepared where the kind fits, with non-default parameters. */
static logitnorm_scorer *build(int kind, const data *d) {
  logitnorm_scorer *s = NULL;
  ck_assert_int_eq(logitnorm_scorer_create(&s, kind, C, D), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, 1.5), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_GAMMA, 0.3), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TOP_M, 2), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 7), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, 80), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_ASH_VARIANT, LOGITNORM_ASH_B), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_RIDGE, 1e-3), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, 2), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_LAMBDA, 0.4), LOGITNORM_OK);
  if ((kind >= LOGITNORM_SCORE_VIM && kind <= LOGITNORM_SCORE_FDBD) || kind >= LOGITNORM_SCORE_GRADNORM)
    ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, d->w, D, kind == LOGITNORM_SCORE_GRADNORM ? NULL : d->b),
                     LOGITNORM_OK);
  if (kind == LOGITNORM_SCORE_KL_MATCHING || (kind >= LOGITNORM_SCORE_MAHALANOBIS && kind <= LOGITNORM_SCORE_FDBD) ||
      kind == LOGITNORM_SCORE_REACT || kind == LOGITNORM_SCORE_DICE) {
    ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N, d->h, D, d->z, C, d->y), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  }
  return s;
}

static void score(const logitnorm_scorer *s, const data *d, float *out) {
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, d->qz, C, d->qh, D, out), LOGITNORM_OK);
}

static unsigned char *save(const logitnorm_scorer *s, size_t *size) {
  ck_assert_int_eq(logitnorm_scorer_save(s, NULL, 0, size), LOGITNORM_OK);
  unsigned char *buf = malloc(*size);
  size_t got = 0;
  ck_assert_int_eq(logitnorm_scorer_save(s, buf, *size, &got), LOGITNORM_OK);
  ck_assert_uint_eq(got, *size);
  return buf;
}

START_TEST(test_round_trip_bitwise) {
  static data d;
  make_data(&d);
  for (int k = 0; k < N_KINDS; ++k) {
    logitnorm_scorer *s = build(kKinds[k], &d), *t = NULL;
    size_t size;
    unsigned char *blob = save(s, &size);
    ck_assert_int_eq(logitnorm_scorer_load(&t, blob, size), LOGITNORM_OK);
    float a[Q], b[Q];
    score(s, &d, a);
    score(t, &d, b);
    ck_assert_msg(memcmp(a, b, sizeof a) == 0, "kind %d scores differ after load", kKinds[k]);
    double v;
    ck_assert_int_eq(logitnorm_scorer_get(t, LOGITNORM_SCORER_PERCENTILE, &v), LOGITNORM_OK);
    ck_assert(v == 80.0);
    size_t size2;
    unsigned char *blob2 = save(t, &size2); /* the loaded scorer saves the same bytes */
    ck_assert_uint_eq(size, size2);
    ck_assert_msg(memcmp(blob, blob2, size) == 0, "kind %d re-saved blob differs", kKinds[k]);
    free(blob);
    free(blob2);
    logitnorm_scorer_free(s);
    logitnorm_scorer_free(t);
  }
}
END_TEST

START_TEST(test_save_errors) {
  static data d;
  make_data(&d);
  logitnorm_scorer *s = NULL;
  size_t size = 12345;
  unsigned char buf[64];
  ck_assert_int_eq(logitnorm_scorer_create(&s, LOGITNORM_SCORE_KNN, C, D), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N, d.h, D, NULL, 0, NULL), LOGITNORM_OK);
  sr_sentinel_fill(buf, sizeof buf);
  ck_assert_int_eq(logitnorm_scorer_save(s, buf, sizeof buf, &size), LOGITNORM_ERR_INVALID_STATE);
  ck_assert(logitnorm_last_error()[0] != '\0');
  ck_assert(sr_sentinel_intact(buf, sizeof buf) && size == 12345);
  logitnorm_scorer_free(s);
  s = build(LOGITNORM_SCORE_MSP, &d);
  size_t need;
  ck_assert_int_eq(logitnorm_scorer_save(s, NULL, 0, &need), LOGITNORM_OK);
  sr_sentinel_fill(buf, sizeof buf);
  ck_assert_int_eq(logitnorm_scorer_save(s, buf, need - 1, &size), LOGITNORM_ERR_BUFFER_TOO_SMALL);
  ck_assert(logitnorm_last_error()[0] != '\0');
  ck_assert_uint_eq(size, need); /* the size is reported */
  ck_assert(sr_sentinel_intact(buf, sizeof buf));
  ck_assert_int_eq(logitnorm_scorer_save(s, buf, sizeof buf, NULL), LOGITNORM_ERR_NULL_POINTER);
  logitnorm_scorer_free(s);
}
END_TEST

/* CRC-32 (reflected 0xEDB88320), written here independently of the library. */
static uint32_t crc32_ref(const unsigned char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

static void fix_crc(unsigned char *b, size_t size) {
  uint32_t c = crc32_ref(b, size - 4);
  for (int i = 0; i < 4; ++i) b[size - 4 + i] = (unsigned char)(c >> (8 * i));
}

static void expect_corrupt(const unsigned char *b, size_t size, const char *what, size_t at) {
  logitnorm_scorer *t = (logitnorm_scorer *)(uintptr_t)0x1;
  ck_assert_msg(logitnorm_scorer_load(&t, b, size) == LOGITNORM_ERR_CORRUPT_DATA, "%s %zu accepted", what, at);
  ck_assert(logitnorm_last_error()[0] != '\0');
  ck_assert_ptr_eq(t, (logitnorm_scorer *)(uintptr_t)0x1); /* out untouched */
}

START_TEST(test_corrupt_blobs) {
  static data d;
  make_data(&d);
  const int kinds[] = {LOGITNORM_SCORE_MAHALANOBIS, LOGITNORM_SCORE_KNN,     LOGITNORM_SCORE_VIM,
                       LOGITNORM_SCORE_KL_MATCHING, LOGITNORM_SCORE_DICE,    LOGITNORM_SCORE_REACT,
                       LOGITNORM_SCORE_NNGUIDE,     LOGITNORM_SCORE_FDBD,    LOGITNORM_SCORE_DML};
  for (int k = 0; k < (int)(sizeof kinds / sizeof kinds[0]); ++k) {
    logitnorm_scorer *s = build(kinds[k], &d);
    size_t size;
    unsigned char *blob = save(s, &size), *b = malloc(size);
    for (size_t i = 0; i < size; ++i) { /* every byte flipped: the frame or the CRC catches it */
      memcpy(b, blob, size);
      b[i] ^= 0xFF;
      expect_corrupt(b, size, "flipped byte", i);
    }
    for (size_t n = 0; n < size; ++n) expect_corrupt(blob, n, "truncation to", n);
    /* every payload byte changed with a fixed-up CRC: loads or is rejected, never crashes */
    for (size_t i = 24; i + 4 < size; ++i) {
      memcpy(b, blob, size);
      b[i] ^= 0x81;
      fix_crc(b, size);
      logitnorm_scorer *t = NULL;
      logitnorm_status st = logitnorm_scorer_load(&t, b, size);
      ck_assert_msg(st == LOGITNORM_OK || st == LOGITNORM_ERR_CORRUPT_DATA, "status %d at %zu", st, i);
      if (st == LOGITNORM_OK) {
        float out[Q];
        logitnorm_scorer_score_f32(t, Q, d.qz, C, d.qh, D, out);
        logitnorm_scorer_free(t);
      }
    }
    /* the kind field (first payload word) set to another kind, CRC fixed */
    memcpy(b, blob, size);
    b[24] = (unsigned char)(b[24] == 0 ? 1 : 0);
    fix_crc(b, size);
    expect_corrupt(b, size, "kind mismatch", 24);
    /* C set to 0 (bytes 28..35) */
    memcpy(b, blob, size);
    memset(b + 28, 0, 8);
    fix_crc(b, size);
    expect_corrupt(b, size, "zero classes", 28);
    /* temperature (first f64 after C and D, at byte 44) set to NaN: the bits of a quiet NaN,
       little-endian as every blob field is, whatever the host's byte order */
    memcpy(b, blob, size);
    const uint64_t nan_bits = UINT64_C(0x7FF8000000000000);
    for (int j = 0; j < 8; ++j) b[44 + j] = (unsigned char)(nan_bits >> (8 * j));
    fix_crc(b, size);
    expect_corrupt(b, size, "NaN temperature", 44);
    /* a newer format version */
    memcpy(b, blob, size);
    b[4] = 2;
    fix_crc(b, size);
    expect_corrupt(b, size, "version", 4);
    free(b);
    free(blob);
    logitnorm_scorer_free(s);
  }
  logitnorm_scorer *t = NULL;
  ck_assert_int_eq(logitnorm_scorer_load(&t, NULL, 10), LOGITNORM_ERR_NULL_POINTER);
  ck_assert_int_eq(logitnorm_scorer_load(NULL, "x", 1), LOGITNORM_ERR_NULL_POINTER);
}
END_TEST

/* Payload offset of the u32 `threads` field: kind u32, C and D i64, five f64, three i64 and
   ash_variant u32 after the 24-byte frame header (see lib/score/scorer_blob.c). */
enum { THREADS_AT = 24 + 4 + 2 * 8 + 5 * 8 + 3 * 8 + 4 };

static uint32_t get_u32le(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void expect_threads(const logitnorm_scorer *s, double want) {
  double v = -1.0;
  ck_assert_int_eq(logitnorm_scorer_get(s, LOGITNORM_SCORER_THREADS, &v), LOGITNORM_OK);
  ck_assert_msg(v == want, "THREADS = %g, expected %g", v, want);
}

/* A scorer saved with THREADS = 8 loads with THREADS = 1 and scores the same bits; its blob
   is the blob of the same scorer at THREADS = 1; a blob whose threads field holds any other
   value (250, 0, 2^32 - 1: old or foreign blobs) loads the same way. Kinds that use BLIS
   (Mahalanobis, RMDS, ViM), the parallel row loop (MSP) and the parallel KNN selection. */
START_TEST(test_threads_not_loaded) {
  static data d;
  make_data(&d);
  const int kinds[] = {LOGITNORM_SCORE_MAHALANOBIS, LOGITNORM_SCORE_RMDS, LOGITNORM_SCORE_VIM, LOGITNORM_SCORE_MSP,
                       LOGITNORM_SCORE_KNN};
  const uint32_t foreign[] = {250u, 0u, 0xFFFFFFFFu, 8u};
  for (int k = 0; k < 5; ++k) {
    logitnorm_scorer *s = build(kinds[k], &d), *t = NULL;
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, 8), LOGITNORM_OK);
    float want[Q], got[Q];
    score(s, &d, want);
    size_t size8, size1;
    unsigned char *blob8 = save(s, &size8);
    ck_assert_uint_eq(get_u32le(blob8 + THREADS_AT), 1u); /* the field is where this test patches it */
    ck_assert_int_eq(logitnorm_scorer_load(&t, blob8, size8), LOGITNORM_OK);
    expect_threads(t, 1.0);
    score(t, &d, got);
    ck_assert_msg(memcmp(want, got, sizeof want) == 0, "kind %d: scores differ after load", kinds[k]);
    /* the caller may raise it again */
    ck_assert_int_eq(logitnorm_scorer_set(t, LOGITNORM_SCORER_THREADS, 2), LOGITNORM_OK);
    expect_threads(t, 2.0);
    logitnorm_scorer_free(t);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, 1), LOGITNORM_OK);
    unsigned char *blob1 = save(s, &size1);
    ck_assert_uint_eq(size1, size8);
    ck_assert_msg(memcmp(blob1, blob8, size8) == 0, "kind %d: the blob depends on THREADS", kinds[k]);
    for (int f = 0; f < 4; ++f) {
      for (int i = 0; i < 4; ++i) blob8[THREADS_AT + i] = (unsigned char)(foreign[f] >> (8 * i));
      fix_crc(blob8, size8);
      t = NULL;
      ck_assert_msg(logitnorm_scorer_load(&t, blob8, size8) == LOGITNORM_OK, "kind %d, threads field %u: %s",
                    kinds[k], foreign[f], logitnorm_last_error());
      expect_threads(t, 1.0);
      score(t, &d, got);
      ck_assert_msg(memcmp(want, got, sizeof want) == 0, "kind %d, threads field %u: scores differ", kinds[k],
                    foreign[f]);
      logitnorm_scorer_free(t);
    }
    free(blob1);
    free(blob8);
    logitnorm_scorer_free(s);
  }
}
END_TEST

int main(void) {
  Suite *suite = suite_create("scorer_blob");
  TCase *tc = tcase_create("blob");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_round_trip_bitwise);
  tcase_add_test(tc, test_save_errors);
  tcase_add_test(tc, test_corrupt_blobs);
  tcase_add_test(tc, test_threads_not_loaded);
  suite_add_tcase(suite, tc);
  return tu_run_suite(suite);
}
