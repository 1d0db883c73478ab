/* Writes the seed corpora of the fuzz targets: valid blobs of metrics, calibration and
   every scorer kind, and a few loss API inputs; with a second directory, also the
   regression inputs that are made rather than found (see regression_seeds).
   Usage: make_fuzz_seeds <corpus directory> [<regressions directory>]. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"

static const char *root;

static void write_file(const char *dir, const char *target, const char *name, const void *buf, size_t size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(buf, 1, size, f) != size) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
}

static void write_seed(const char *target, const char *name, const void *buf, size_t size) {
  write_file(root, target, name, buf, size);
}

#define SAVE_SEED(target, name, save_fn, h)                   \
  do {                                                        \
    size_t need = 0, got = 0;                                 \
    if (save_fn(h, NULL, 0, &need) != LOGITNORM_OK) exit(1);  \
    unsigned char *buf = malloc(need);                        \
    if (save_fn(h, buf, need, &got) != LOGITNORM_OK) exit(1); \
    write_seed(target, name, buf, got);                       \
    free(buf);                                                \
  } while (0)

static float wave(int i) { return (float)((i * 7919) % 23) * 0.25f - 2.5f; }

static void metrics_seeds(void) {
  logitnorm_metrics *m;
  logitnorm_metrics_create(&m);
  SAVE_SEED("fuzz_metrics_load", "empty", logitnorm_metrics_save, m);
  float id[12], ood[9];
  for (int i = 0; i < 12; ++i) id[i] = wave(i) + 1.0f;
  for (int i = 0; i < 9; ++i) ood[i] = wave(i + 40);
  logitnorm_metrics_add_f32(m, id, 12, 0);
  logitnorm_metrics_add_f32(m, ood, 9, 1);
  SAVE_SEED("fuzz_metrics_load", "small", logitnorm_metrics_save, m);
  logitnorm_metrics_set(m, LOGITNORM_METRICS_POSITIVE, LOGITNORM_POSITIVE_OOD);
  logitnorm_metrics_set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_OPENOOD);
  logitnorm_metrics_set(m, LOGITNORM_METRICS_TPR_LEVEL, 0.8);
  SAVE_SEED("fuzz_metrics_load", "settings", logitnorm_metrics_save, m);
  /* format 2: the selective-classification parameters away from their defaults */
  logitnorm_metrics_set(m, LOGITNORM_METRICS_COVERAGE, 0.7);
  logitnorm_metrics_set(m, LOGITNORM_METRICS_RISK, 0.1);
  logitnorm_metrics_set(m, LOGITNORM_METRICS_RISK_RULE, LOGITNORM_RISK_RULE_PER_SAMPLE);
  SAVE_SEED("fuzz_metrics_load", "selective", logitnorm_metrics_save, m);
  logitnorm_metrics_free(m);
}

/* Format version 2 (an accumulator with rows saves so) for both binnings; "empty" is of
   version 1, as an accumulator that never had rows saves. The corpus also keeps v1_small and
   v1_settings, blobs of format version 1 written by liblogitnorm 1.1 from the accumulators of
   "small" and "settings", which this library cannot write any more. */
static void calibration_seeds(void) {
  float z[6 * 4];
  int32_t y[6] = {0, 1, 2, 3, 1, 0};
  for (int i = 0; i < 24; ++i) z[i] = wave(i);
  z[9] = -INFINITY; /* a masked class in row 2 (label 2) */
  for (int binning = 0; binning < 2; ++binning) {
    const char *names[3][2] = {{"empty", "equal_mass_empty"}, {"small", "equal_mass_small"},
                               {"settings", "equal_mass_settings"}};
    logitnorm_calibration *c;
    logitnorm_calibration_create(&c, 4);
    logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, binning);
    SAVE_SEED("fuzz_calibration_load", names[0][binning], logitnorm_calibration_save, c);
    logitnorm_calibration_add_f32(c, 6, z, 4, y);
    SAVE_SEED("fuzz_calibration_load", names[1][binning], logitnorm_calibration_save, c);
    logitnorm_calibration_reset(c);
    logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, 3);
    logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_TEMPERATURE, 1.5);
    logitnorm_calibration_add_f32(c, 6, z, 4, y);
    SAVE_SEED("fuzz_calibration_load", names[2][binning], logitnorm_calibration_save, c);
    logitnorm_calibration_free(c);
  }
}

static void scorer_seeds(void) {
  static const int kinds[] = {0, 1, 2, 3, 4, 5, 6, 20, 21, 22, 23, 24, 30, 31, 32, 33};
  enum { C = 3, D = 4, N = 12 };
  float logits[N * C], feats[N * D], w[C * D], bias[C];
  int32_t labels[N];
  for (int i = 0; i < N * C; ++i) logits[i] = wave(i);
  for (int i = 0; i < N * D; ++i) feats[i] = wave(i + 5) + (float)(i % D == (i / D) % C);
  for (int i = 0; i < N; ++i) labels[i] = i % C;
  for (int i = 0; i < C * D; ++i) w[i] = wave(i + 11) * 0.5f;
  for (int i = 0; i < C; ++i) bias[i] = 0.1f * (float)i;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; ++k) {
    logitnorm_scorer *s;
    int64_t d = kinds[k] >= 21 ? D : 0;
    if (logitnorm_scorer_create(&s, (logitnorm_score_kind)kinds[k], C, d) != LOGITNORM_OK) {
      fprintf(stderr, "scorer kind %d: %s\n", kinds[k], logitnorm_last_error());
      exit(1);
    }
    if (kinds[k] == 23) logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 3);
    if (kinds[k] == 24) logitnorm_scorer_set(s, LOGITNORM_SCORER_VIM_DIM, 2);
    if (kinds[k] == 24 || kinds[k] >= 30) logitnorm_scorer_set_head_f32(s, w, D, bias);
    if (kinds[k] >= 20) {
      logitnorm_scorer_fit_f32(s, N, d ? feats : NULL, d, kinds[k] == 20 ? logits : NULL, C,
                               kinds[k] == 23 || kinds[k] >= 30 ? NULL : labels);
      if (logitnorm_scorer_prepare(s) != LOGITNORM_OK)
        fprintf(stderr, "scorer kind %d prepare: %s\n", kinds[k], logitnorm_last_error());
    }
    char name[32];
    snprintf(name, sizeof name, "kind_%02d", kinds[k]);
    SAVE_SEED("fuzz_scorer_load", name, logitnorm_scorer_save, s);
    logitnorm_scorer_free(s);
  }
}

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320) of the blob frame, to re-seal a patched blob. */
static uint32_t crc32_ieee(const unsigned char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

/* fuzz_scorer_load timed out (10 s) on a Mahalanobis blob whose threads field said 250: the
   loaded scorer then ran BLIS with 250 threads on a 2-core machine. A loaded scorer now has
   THREADS = 1 whatever the blob says. The input is that blob: the seed's layout (C = 3,
   D = 4) with the u32 threads field (payload offset 88: kind, C, D, five f64, three i64,
   ash_variant) set to 250 and the CRC-32 re-sealed. */
static void regression_seeds(const char *dir) {
  enum { C = 3, D = 4, N = 12, THREADS_AT = 24 + 4 + 2 * 8 + 5 * 8 + 3 * 8 + 4 };
  float feats[N * D];
  int32_t labels[N];
  for (int i = 0; i < N * D; ++i) feats[i] = wave(i + 5) + (float)(i % D == (i / D) % C);
  for (int i = 0; i < N; ++i) labels[i] = i % C;
  logitnorm_scorer *s;
  if (logitnorm_scorer_create(&s, LOGITNORM_SCORE_MAHALANOBIS, C, D) != LOGITNORM_OK ||
      logitnorm_scorer_fit_f32(s, N, feats, D, NULL, 0, labels) != LOGITNORM_OK ||
      logitnorm_scorer_prepare(s) != LOGITNORM_OK) {
    fprintf(stderr, "mahalanobis regression seed: %s\n", logitnorm_last_error());
    exit(1);
  }
  size_t need = 0, got = 0;
  if (logitnorm_scorer_save(s, NULL, 0, &need) != LOGITNORM_OK) exit(1);
  unsigned char *buf = malloc(need);
  if (logitnorm_scorer_save(s, buf, need, &got) != LOGITNORM_OK || got < THREADS_AT + 8) exit(1);
  const uint32_t threads = 250;
  for (int i = 0; i < 4; ++i) buf[THREADS_AT + i] = (unsigned char)(threads >> (8 * i));
  uint32_t crc = crc32_ieee(buf, got - 4);
  for (int i = 0; i < 4; ++i) buf[got - 4 + i] = (unsigned char)(crc >> (8 * i));
  write_file(dir, "fuzz_scorer_load", "mahalanobis-threads-250", buf, got);
  free(buf);
  logitnorm_scorer_free(s);
}

static void loss_seeds(void) {
  /* head, C, n, shape, pmask, params..., call, alpha, beta, then values and labels */
  static const unsigned char a[] = {1, 4, 3, 0, 0, 2, 0, 0, 10, 20, 30, 200, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1, 2};
  static const unsigned char b[] = {0, 10, 8, 0x15, 0xff, 2, 1, 2, 3, 4, 5, 1, 1, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                    14, 0, 0, 4, 5, 6, 10, 11, 12, 129, 130, 131, 250, 251, 252, 253, 254, 255};
  static const unsigned char c[] = {1, 2, 1, 0xc0, 3, 0, 2, 0, 0, 4, 5};
  write_seed("fuzz_loss_api", "logitnorm_forward", a, sizeof a);
  write_seed("fuzz_loss_api", "all_params", b, sizeof b);
  write_seed("fuzz_loss_api", "bad_shape", c, sizeof c);
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: make_fuzz_seeds <corpus directory> [<regressions directory>]\n");
    return 2;
  }
  root = argv[1];
  metrics_seeds();
  calibration_seeds();
  scorer_seeds();
  loss_seeds();
  if (argc == 3) regression_seeds(argv[2]);
  return 0;
}
