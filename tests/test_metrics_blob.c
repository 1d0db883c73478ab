/* Corrupt blobs for the metrics and calibration accumulators: every single-byte flip, every
   truncation, a wrong magic, a newer version, and semantic damage behind a valid CRC. Each
   must give LOGITNORM_ERR_CORRUPT_DATA with an error text and leave *out untouched; run
   under valgrind or ASan this also shows that no byte outside the blob is read. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "metrics_ref.h"
#include "test_util.h"

typedef logitnorm_status (*load_fn)(void **out, const void *buf, size_t size);

static logitnorm_status load_metrics(void **out, const void *buf, size_t size) {
  return logitnorm_metrics_load((logitnorm_metrics **)out, buf, size);
}

static logitnorm_status load_calibration(void **out, const void *buf, size_t size) {
  return logitnorm_calibration_load((logitnorm_calibration **)out, buf, size);
}

/* Loads a private heap copy of exactly `size` bytes, so over-reads are caught by tools. */
static void expect_corrupt(load_fn load, const unsigned char *blob, size_t size) {
  unsigned char *copy = malloc(size > 0 ? size : 1);
  memcpy(copy, blob, size);
  static int marker;
  void *out = &marker;
  ck_assert_int_eq(load(&out, copy, size), LOGITNORM_ERR_CORRUPT_DATA);
  ck_assert_str_ne(logitnorm_last_error(), "");
  ck_assert_ptr_eq(out, &marker);
  free(copy);
}

static unsigned char *metrics_blob(size_t *size) {
  const float id[6] = {0.9f, 1.0f, 1.0f, 0.25f, -3.5f, 0.5f}, ood[5] = {0.5f, 0.1f, 1.0f, -0.0f, 7.0f};
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f32(m, id, 6, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f32(m, ood, 5, 1), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_save(m, NULL, 0, size), LOGITNORM_OK);
  unsigned char *b = malloc(*size);
  ck_assert_int_eq(logitnorm_metrics_save(m, b, *size, size), LOGITNORM_OK);
  logitnorm_metrics_free(m);
  return b;
}

static unsigned char *calibration_blob(size_t *size, int64_t bins) {
  const float z[6] = {2.0f, 0.5f, -1.0f, 0.0f, 0.1f, 3.0f};
  const int32_t y[2] = {0, 1};
  logitnorm_calibration *c = NULL;
  ck_assert_int_eq(logitnorm_calibration_create(&c, 3), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, (double)bins), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(c, 2, z, 3, y), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_save(c, NULL, 0, size), LOGITNORM_OK);
  unsigned char *b = malloc(*size);
  ck_assert_int_eq(logitnorm_calibration_save(c, b, *size, size), LOGITNORM_OK);
  logitnorm_calibration_free(c);
  return b;
}

static void flip_and_truncate(load_fn load, unsigned char *blob, size_t size) {
  /* The intact blob loads. */
  void *ok = NULL;
  ck_assert_int_eq(load(&ok, blob, size), LOGITNORM_OK);
  if (load == load_metrics) logitnorm_metrics_free(ok);
  else logitnorm_calibration_free(ok);
  /* Any change of one byte is caught (the CRC-32 detects every single-byte error, and a
     change of the CRC itself no longer matches). Three patterns per byte. */
  const unsigned char patterns[3] = {0xFF, 0x01, 0x80};
  for (size_t i = 0; i < size; ++i)
    for (int p = 0; p < 3; ++p) {
      blob[i] ^= patterns[p];
      expect_corrupt(load, blob, size);
      blob[i] ^= patterns[p];
    }
  for (size_t len = 0; len < size; ++len) expect_corrupt(load, blob, len);
}

START_TEST(metrics_every_byte_and_length) {
  size_t size = 0;
  unsigned char *blob = metrics_blob(&size);
  flip_and_truncate(load_metrics, blob, size);
  free(blob);
}
END_TEST

START_TEST(calibration_every_byte_and_length) {
  size_t size = 0;
  unsigned char *blob = calibration_blob(&size, 3);
  flip_and_truncate(load_calibration, blob, size);
  free(blob);
}
END_TEST

/* Header fields (common/blob.h): magic at 0, version at 4, object at 6. Each edit below gets
   a valid CRC, so only the field check can reject it. `newest` is the newest format version
   the object's loader reads. */
static void header_checks(load_fn load, unsigned char *blob, size_t size, unsigned other_object, unsigned newest) {
  unsigned char *b = malloc(size);
  memcpy(b, blob, size);
  b[0] = 'X';
  mref_blob_fix_crc(b, size);
  expect_corrupt(load, b, size);
  memcpy(b, blob, size);
  b[4] = (unsigned char)(newest + 1); /* a newer format version */
  mref_blob_fix_crc(b, size);
  expect_corrupt(load, b, size);
  memcpy(b, blob, size);
  b[4] = 0; /* no format has version 0 */
  mref_blob_fix_crc(b, size);
  expect_corrupt(load, b, size);
  memcpy(b, blob, size);
  b[6] = (unsigned char)other_object; /* another object's blob */
  mref_blob_fix_crc(b, size);
  expect_corrupt(load, b, size);
  free(b);
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  put_u64(p, u);
}

/* Metrics payload at 24: f64 level, u32 positive, fpr_rule, aupr_rule, reserved; u64 n_id at
   48, 6 scores at 56; u64 n_ood at 104, 5 scores at 112. */
START_TEST(metrics_semantic_damage) {
  size_t size = 0;
  unsigned char *blob = metrics_blob(&size);
  ck_assert_uint_eq(size, 24 + 24 + 8 + 48 + 8 + 40 + 4);
  header_checks(load_metrics, blob, size, 2, 2); /* metrics formats: 1 and 2 */
  unsigned char *b = malloc(size);
  struct {
    size_t at;
    int kind; /* 0: f64, 1: u32, 2: u64 */
    double f;
    uint64_t u;
  } edits[] = {
      {24, 0, 0.0, 0}, {24, 0, 1.5, 0}, {24, 0, NAN, 0},  /* tpr_level outside (0, 1] */
      {32, 1, 0, 2},   {36, 1, 0, 3},   {40, 1, 0, 2},    /* unknown enums */
      {44, 1, 0, 1},                                      /* reserved */
      {48, 2, 0, 7},   {48, 2, 0, 1000}, {48, 2, 0, UINT64_MAX}, /* n_id not matching the bytes */
      {104, 2, 0, 6},  {56, 0, NAN, 0}, {64, 0, INFINITY, 0}, {112, 0, -INFINITY, 0}, /* scores */
  };
  for (size_t e = 0; e < sizeof edits / sizeof *edits; ++e) {
    memcpy(b, blob, size);
    if (edits[e].kind == 0) put_f64(b + edits[e].at, edits[e].f);
    else if (edits[e].kind == 1)
      for (int i = 0; i < 4; ++i) b[edits[e].at + i] = (unsigned char)(edits[e].u >> (8 * i));
    else put_u64(b + edits[e].at, edits[e].u);
    mref_blob_fix_crc(b, size);
    expect_corrupt(load_metrics, b, size);
  }
  free(b);
  free(blob);
}
END_TEST

/* Calibration payload (format version 2) at 24: i64 classes, f64 T, i64 count, i64 correct,
   u64 bins (at 56); bin k at 64 + 296 k: i64 count, i64 correct, 70 u32 digits; then NLL and
   Brier digits; then u32 binning, u32 reserved and 3 x 3 classwise cells of 32 bytes. The
   version 2 part is damaged in test_calibration_binning.c. */
START_TEST(calibration_semantic_damage) {
  size_t size = 0;
  unsigned char *blob = calibration_blob(&size, 3);
  ck_assert_uint_eq(size, 24 + 40 + 3 * 296 + 2 * 280 + 8 + 9 * 32 + 4);
  header_checks(load_calibration, blob, size, 1, 2);
  unsigned char *b = malloc(size);
  struct {
    size_t at;
    int f64;
    double f;
    uint64_t u;
  } edits[] = {
      {24, 0, 0, 0}, {24, 0, 0, UINT64_MAX},       /* classes */
      {32, 1, 0.0, 0}, {32, 1, NAN, 0},            /* temperature */
      {40, 0, 0, 3}, {40, 0, 0, UINT64_MAX},       /* count differs from the bins' sum */
      {48, 0, 0, 3},                               /* correct > count */
      {56, 0, 0, 4}, {56, 0, 0, 0}, {56, 0, 0, 100000}, /* bins */
      {64, 0, 0, UINT64_MAX},                      /* a negative bin count */
  };
  for (size_t e = 0; e < sizeof edits / sizeof *edits; ++e) {
    memcpy(b, blob, size);
    if (edits[e].f64) put_f64(b + edits[e].at, edits[e].f);
    else put_u64(b + edits[e].at, edits[e].u);
    mref_blob_fix_crc(b, size);
    expect_corrupt(load_calibration, b, size);
  }
  /* A confidence sum larger than its bin's count: set a high digit of every bin's sum. */
  memcpy(b, blob, size);
  for (int k = 0; k < 3; ++k) b[64 + 296 * k + 16 + 4 * 40] = 1;
  mref_blob_fix_crc(b, size);
  expect_corrupt(load_calibration, b, size);
  /* A Brier sum above 2 per sample. */
  memcpy(b, blob, size);
  b[64 + 3 * 296 + 280 + 4 * 50] = 1;
  mref_blob_fix_crc(b, size);
  expect_corrupt(load_calibration, b, size);
  free(b);
  free(blob);
}
END_TEST

int main(void) {
  Suite *s = suite_create("metrics_blob");
  TCase *t = tcase_create("corrupt");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, metrics_every_byte_and_length);
  tcase_add_test(t, calibration_every_byte_and_length);
  tcase_add_test(t, metrics_semantic_damage);
  tcase_add_test(t, calibration_semantic_damage);
  suite_add_tcase(s, t);
  return tu_run_suite(s);
}
