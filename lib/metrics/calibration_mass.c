/* Equal-mass (adaptive) bins: every row's confidence is kept, filed by correctness, and the
   bins are formed from a sorted copy when a value is asked for. The rows are ordered by
   (confidence, correct), so a tie of confidences puts the misclassified rows first; the
   order depends only on the multiset of rows, so any add or merge order gives the same bins. */
#include <string.h>

#include "calibration.h"
#include "common/alloc.h"
#include "common/error.h"
#include "radix_sort.h"

logitnorm_status ln_mass_reserve(logitnorm_calibration *c, int correct, int64_t extra) {
  int64_t need = c->mass_count[correct] + extra;
  if (need <= c->mass_capacity[correct]) return LOGITNORM_OK;
  int64_t cap = c->mass_capacity[correct] < 1024 ? 1024 : c->mass_capacity[correct];
  while (cap < need) cap = cap > INT64_MAX / 2 ? need : cap * 2;
  uint64_t *grown = ln_realloc(c->mass_keys[correct], cap, sizeof *grown);
  if (grown == NULL)
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the confidences of %lld rows (8 bytes each)",
                   (long long)need);
  c->mass_keys[correct] = grown;
  c->mass_capacity[correct] = cap;
  return LOGITNORM_OK;
}

void ln_mass_free(logitnorm_calibration *c) {
  for (int k = 0; k < 2; ++k) {
    ln_free(c->mass_keys[k]);
    c->mass_keys[k] = NULL;
    c->mass_count[k] = 0;
    c->mass_capacity[k] = 0;
  }
}

/* The table's arrays, in one allocation: count, correct (int64) and conf (ln_xsum) of bins. */
typedef struct ln_mass_bins {
  int64_t *count, *correct;
  ln_xsum *conf;
} ln_mass_bins;

/* Sorted copies of both key arrays (one block, freed by the caller). */
static logitnorm_status ln_mass_sorted(const logitnorm_calibration *c, uint64_t **block) {
  int64_t n0 = c->mass_count[0], n1 = c->mass_count[1];
  uint64_t *keys = ln_malloc(n0 + n1, sizeof *keys);
  if (keys == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for a sorted copy of %lld confidences",
                                   (long long)(n0 + n1));
  if (n0 > 0) memcpy(keys, c->mass_keys[0], (size_t)n0 * sizeof *keys);
  if (n1 > 0) memcpy(keys + n0, c->mass_keys[1], (size_t)n1 * sizeof *keys);
  if (ln_radix_sort(keys, n0) != 0 || ln_radix_sort(keys + n0, n1) != 0) {
    ln_free(keys);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for sorting %lld confidences", (long long)(n0 + n1));
  }
  *block = keys;
  return LOGITNORM_OK;
}

/* Bin sizes of numpy's array_split of N rows into B parts: q + 1 for the first r = N mod B
   parts, q = N div B for the rest; with N < B the parts after the first N are empty and left
   out. Rows enter in ascending (confidence, correct): the two sorted runs are merged on the
   fly, the misclassified run first among equal confidences. */
static void ln_mass_fill(const uint64_t *wrong, int64_t n0, const uint64_t *right, int64_t n1, int64_t B,
                         ln_mass_bins *out, int64_t n_bins) {
  int64_t N = n0 + n1, q = N / B, r = N % B, i0 = 0, i1 = 0;
  for (int64_t b = 0; b < n_bins; ++b) {
    int64_t size = q + (b < r);
    ln_xsum *conf = &out->conf[b];
    for (int64_t j = 0; j < size; ++j) {
      int take_right = i0 == n0 || (i1 < n1 && right[i1] < wrong[i0]);
      uint64_t key = take_right ? right[i1++] : wrong[i0++];
      ln_xsum_add(conf, ln_double_from_key(key));
      out->correct[b] += take_right;
      if ((j + 1) % LN_XSUM_ADDS_PER_NORMALIZE == 0) ln_xsum_normalize(conf);
    }
    ln_xsum_normalize(conf);
    out->count[b] = size;
  }
}

static logitnorm_status ln_mass_table(const logitnorm_calibration *c, ln_bin_table *t) {
  int64_t N = c->mass_count[0] + c->mass_count[1];
  int64_t n_bins = N < c->bins ? N : c->bins;
  uint64_t *keys = NULL;
  logitnorm_status st = ln_mass_sorted(c, &keys);
  if (st != LOGITNORM_OK) return st;
  /* count and correct first (8-byte aligned), then the sums */
  unsigned char *block = ln_calloc(n_bins, 2 * sizeof(int64_t) + sizeof(ln_xsum));
  if (block == NULL) {
    ln_free(keys);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for %lld bins", (long long)n_bins);
  }
  ln_mass_bins bins = {.count = (int64_t *)(void *)block,
                       .correct = (int64_t *)(void *)block + n_bins,
                       .conf = (ln_xsum *)(void *)(block + 2 * (size_t)n_bins * sizeof(int64_t))};
  ln_mass_fill(keys, c->mass_count[0], keys + c->mass_count[0], c->mass_count[1], c->bins, &bins, n_bins);
  ln_free(keys);
  *t = (ln_bin_table){.n = n_bins, .count = bins.count, .correct = bins.correct, .conf = bins.conf, .owned = block};
  return LOGITNORM_OK;
}

logitnorm_status ln_bin_table_make(const logitnorm_calibration *c, ln_bin_table *t) {
  if (c->binning == LOGITNORM_BINNING_EQUAL_MASS) return ln_mass_table(c, t);
  *t = (ln_bin_table){.n = c->bins, .count = c->bin_count, .correct = c->bin_correct, .conf = c->bin_conf,
                      .owned = NULL};
  return LOGITNORM_OK;
}

void ln_bin_table_free(ln_bin_table *t) {
  ln_free(t->owned);
  t->owned = NULL;
}
