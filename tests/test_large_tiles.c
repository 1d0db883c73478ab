/* The AVX2 tile path at 64-bit offsets. For C <= TILE_C the AVX2 kernels (lib/loss/tile_avx2.inc)
   take LANES rows at a time (8 floats, 4 doubles), one row per lane. A tile reads its rows'
   label logits z[r ld + y_r] (r < LANES) by one gather with 32-bit offsets when
   (LANES - 1) ld + C <= INT32_MAX, and row by row otherwise. Each case runs at one of two
   leading dimensions around that bound:
     gather:  ld = (INT32_MAX - C) / (LANES - 1), the largest ld that still gathers, so the
              gather's offsets come within a few elements of INT32_MAX;
     scalar:  ld + 1, the smallest that reads z_y row by row. With C = 13 its last lane's
              offset (LANES - 1) ld + y exceeds INT32_MAX for the labels y >= C - 4 (float)
              and y >= C - 2 (double), which the labels below give that lane: a 32-bit
              gather there would read the wrong elements.
   The rows are cut into 64 fixed parts (lib/common/parallel.h) and a tile never crosses a
   part, so every part holds two tiles and one row for the row path: n = 64 (2 LANES + 1).
   The matrices (1.2 TiB of address space per float matrix, 3.0 TiB per double one) live in
   mmap'ed MAP_NORESERVE regions; only the first C columns of each row are touched, so a
   matrix costs a few pages per row. Where such a region cannot be mapped (a 32-bit target,
   an address-space limit, valgrind) the suite reports itself skipped.

   Each case runs forward_backward with beta = 1 (grad read and written at its own stride),
   with row losses and without (then the tile path sums the log of each row's softmax sum as
   one product), forward without row losses, and forward_stats + backward_stats (beta = 1),
   against the double reference of loss_ref.h on the same rows packed densely. The generic
   kernels (LOGITNORM_DISPATCH=generic) have no tiles; there the suite checks their 64-bit
   indexing on the same data. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE under -std=c11 */
#include <check.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "logitnorm.h"
#include "loss_ref.h"
#include "test_util.h"

/* PARTS: the library's fixed row parts (LN_PARTS in lib/common/parallel.h). */
enum { C = 13, PARTS = 64, IGNORE = -100 };

/* One case: element type, loss kind, and which side of the gather bound ld lies on. */
typedef struct tl_case {
  const char *what;
  int f64, kind, scalar;
} tl_case;

static const tl_case CASES[] = {
    {.what = "f32 cross-entropy gather", .f64 = 0, .kind = LOGITNORM_LOSS_CROSS_ENTROPY, .scalar = 0},
    {.what = "f32 cross-entropy scalar", .f64 = 0, .kind = LOGITNORM_LOSS_CROSS_ENTROPY, .scalar = 1},
    {.what = "f32 LogitNorm gather", .f64 = 0, .kind = LOGITNORM_LOSS_LOGITNORM, .scalar = 0},
    {.what = "f32 LogitNorm scalar", .f64 = 0, .kind = LOGITNORM_LOSS_LOGITNORM, .scalar = 1},
    {.what = "f64 cross-entropy gather", .f64 = 1, .kind = LOGITNORM_LOSS_CROSS_ENTROPY, .scalar = 0},
    {.what = "f64 cross-entropy scalar", .f64 = 1, .kind = LOGITNORM_LOSS_CROSS_ENTROPY, .scalar = 1},
    {.what = "f64 LogitNorm gather", .f64 = 1, .kind = LOGITNORM_LOSS_LOGITNORM, .scalar = 0},
    {.what = "f64 LogitNorm scalar", .f64 = 1, .kind = LOGITNORM_LOSS_LOGITNORM, .scalar = 1},
};
enum { NCASES = sizeof CASES / sizeof CASES[0] };

/* The shape of a case: rows, strides and bytes spanned. grad has a stride of its own, so that
   a kernel that indexed grad with ld would write the wrong rows. */
typedef struct tl_shape {
  int lanes;
  int64_t n, ld, ldg;
  size_t elem;
} tl_shape;

static tl_shape tl_shape_of(const tl_case *k) {
  const int lanes = k->f64 ? 4 : 8;
  const int64_t ld = (INT32_MAX - C) / (lanes - 1) + k->scalar;
  return (tl_shape){.lanes = lanes, .n = PARTS * (2 * lanes + 1), .ld = ld, .ldg = ld + 3,
                    .elem = k->f64 ? sizeof(double) : sizeof(float)};
}

/* Bytes of an n-row matrix with leading dimension ld: the last row ends at column C. */
static size_t tl_span(const tl_shape *s, int64_t ld) { return (size_t)((s->n - 1) * ld + C) * s->elem; }

static void *tl_map(size_t bytes) {
  return mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

/* Why the regions of the largest case cannot be mapped here, or NULL when they can. */
static const char *tl_cannot_map(void) {
  static char why[256];
  if (sizeof(void *) < 8)
    return "large_tiles: rows over 2^28 elements apart need a 64-bit address space; this target has 32-bit pointers";
  size_t zb = 0, gb = 0;
  for (int i = 0; i < NCASES; ++i) {
    const tl_shape s = tl_shape_of(&CASES[i]);
    if (tl_span(&s, s.ld) > zb) zb = tl_span(&s, s.ld);
    if (tl_span(&s, s.ldg) > gb) gb = tl_span(&s, s.ldg);
  }
  void *z = tl_map(zb);
  int err = errno;
  void *g = z == MAP_FAILED ? MAP_FAILED : tl_map(gb);
  if (g == MAP_FAILED && z != MAP_FAILED) err = errno;
  if (z != MAP_FAILED) munmap(z, zb);
  if (g != MAP_FAILED) munmap(g, gb);
  if (z != MAP_FAILED && g != MAP_FAILED) return NULL;
  snprintf(why, sizeof why,
           "large_tiles: mmap of %zu + %zu GiB (MAP_NORESERVE) failed here (%s): address space limited "
           "(ulimit -v, vm.overcommit_memory = 2, or valgrind)",
           zb >> 30, gb >> 30, strerror(err));
  return why;
}

/* A case's data: the mapped logits z and grad g, their dense double copies (n x C), the
   labels, and the reference's row losses, gradient and per-row tolerances. */
typedef struct tl_batch {
  const tl_case *k;
  tl_shape s;
  void *z, *g;
  double *zd, *g0, *ref_loss, *ref_grad, *tol_loss, *tol_grad;
  double ref_total, tol_total;
  int32_t *y;
  logitnorm_loss *h;
} tl_batch;

static double tl_get(const tl_batch *b, const void *p, int64_t i) {
  return b->k->f64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}

static void tl_put(const tl_batch *b, void *p, int64_t i, double v) {
  if (b->k->f64)
    ((double *)p)[i] = v;
  else
    ((float *)p)[i] = (float)v;
}

static double *tl_doubles(int64_t n) {
  double *p = malloc((size_t)n * sizeof *p);
  ck_assert_ptr_nonnull(p);
  return p;
}

/* The value grad keeps past column C (never written). */
static const double PAD = 1234.5;

/* Old grad values back in the mapped grad, with PAD in column C of every row. */
static void tl_reset_grad(const tl_batch *b) {
  for (int64_t i = 0; i < b->s.n; ++i) {
    for (int64_t c = 0; c < C; ++c) tl_put(b, b->g, i * b->s.ldg + c, b->g0[i * C + c]);
    tl_put(b, b->g, i * b->s.ldg + C, PAD);
  }
}

/* Labels y_i = 5 i mod C, every 23rd row ignored. Tiles start at the parts' first rows, which
   are 2 LANES + 1 apart, so over the parts every lane meets every class: the last lane also
   the largest ones, whose offsets a 32-bit gather at the scalar ld would wrap. Logits
   and old grad are multiples of 1/64 in [-4, 4] and [-2, 2]: exact in float. Tolerances as in
   loss_case.h: with u_T, u_d the unit roundoffs of the element type and double, Q the row's
   target mass, k = du/dz and umax = max |u|,
     row loss: 16 (u_T (umax + 10) + u_d C) Q + 4 u_T |l|
     grad:     16 (u_T (umax + 10) + u_d C) k Q + 4 u_T (|g0| + |grad|)   (alpha = beta = 1). */
static void tl_setup(tl_batch *b, const tl_case *k) {
  memset(b, 0, sizeof *b);
  b->k = k;
  b->s = tl_shape_of(k);
  const int64_t n = b->s.n;
  /* the two sides of the bound; at the scalar ld, label C - 1 in the last lane is past INT32_MAX */
  const int64_t last = (b->s.lanes - 1) * b->s.ld;
  if (k->scalar)
    ck_assert(last + C - 1 > INT32_MAX);
  else
    ck_assert(last + C <= INT32_MAX);
  b->z = tl_map(tl_span(&b->s, b->s.ld));
  b->g = tl_map(tl_span(&b->s, b->s.ldg));
  ck_assert_msg(b->z != MAP_FAILED && b->g != MAP_FAILED, "%s: mmap (MAP_NORESERVE) failed", k->what);
  b->zd = tl_doubles(n * C);
  b->g0 = tl_doubles(n * C);
  b->ref_loss = tl_doubles(n);
  b->ref_grad = tl_doubles(n * C);
  b->tol_loss = tl_doubles(n);
  b->tol_grad = tl_doubles(n);
  b->y = malloc((size_t)n * sizeof *b->y);
  ck_assert_ptr_nonnull(b->y);

  tu_rng rng;
  tu_seed(&rng, 0x7113 + (uint64_t)(k - CASES));
  for (int64_t i = 0; i < n; ++i) {
    b->y[i] = i % 23 == 6 ? IGNORE : (int32_t)(5 * i % C);
    for (int64_t c = 0; c < C; ++c) {
      b->zd[i * C + c] = (double)tu_int(&rng, -256, 256) / 64.0;
      b->g0[i * C + c] = (double)tu_int(&rng, -128, 128) / 64.0;
      tl_put(b, b->z, i * b->s.ld + c, b->zd[i * C + c]);
    }
  }
  tl_reset_grad(b);

  lr_config cfg;
  lr_config_init(&cfg, k->kind, C);
  cfg.reduction = LOGITNORM_REDUCTION_SUM;
  cfg.ignore_index = IGNORE;
  b->ref_total = lr_batch_hard(&cfg, n, b->zd, C, b->y, b->ref_loss, b->ref_grad);
  const double uT = k->f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2, ud = DBL_EPSILON / 2;
  double q[C];
  for (int64_t i = 0; i < n; ++i) {
    lr_targets_hard(&cfg, b->y[i], q);
    const lr_row_scale rs = lr_row_size(&cfg, b->zd + i * C, q);
    const double base = 16.0 * (uT * (rs.umax + 10.0) + ud * C) * rs.Q;
    b->tol_loss[i] = base + 4.0 * uT * fabs(b->ref_loss[i]);
    b->tol_grad[i] = base * rs.k;
    b->tol_total += b->tol_loss[i];
  }

  ck_assert_int_eq(logitnorm_loss_create(&b->h, (logitnorm_loss_kind)k->kind, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(b->h, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(b->h, LOGITNORM_LOSS_IGNORE_INDEX, IGNORE), LOGITNORM_OK);
}

static void tl_teardown(tl_batch *b) {
  logitnorm_loss_free(b->h);
  munmap(b->z, tl_span(&b->s, b->s.ld));
  munmap(b->g, tl_span(&b->s, b->s.ldg));
  free(b->zd);
  free(b->g0);
  free(b->ref_loss);
  free(b->ref_grad);
  free(b->tol_loss);
  free(b->tol_grad);
  free(b->y);
}

/* The element checks below call Check only on a mismatch: every passing ck_assert costs Check
   a write to its pipe, and there are some 10^5 of them here. */

/* loss_out against the reference's sum, and (row_loss != NULL) every row loss. */
static void tl_check_loss(const tl_batch *b, const char *call, double loss, const void *row_loss) {
  ck_assert_msg(fabs(loss - b->ref_total) <= b->tol_total, "%s, %s: loss %.17g, reference %.17g", b->k->what, call,
                loss, b->ref_total);
  if (row_loss == NULL) return;
  for (int64_t i = 0; i < b->s.n; ++i) {
    const double got = tl_get(b, row_loss, i);
    if (!(fabs(got - b->ref_loss[i]) <= b->tol_loss[i]))
      ck_abort_msg("%s, %s: row %lld (label %d): loss %.17g, reference %.17g", b->k->what, call, (long long)i,
                   (int)b->y[i], got, b->ref_loss[i]);
  }
}

/* grad = old grad + the reference gradient (alpha = beta = 1), column C untouched. */
static void tl_check_grad(const tl_batch *b, const char *call) {
  const double uT = b->k->f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2;
  for (int64_t i = 0; i < b->s.n; ++i) {
    for (int64_t c = 0; c < C; ++c) {
      const double got = tl_get(b, b->g, i * b->s.ldg + c), old = b->g0[i * C + c];
      const double want = old + b->ref_grad[i * C + c];
      const double tol = b->tol_grad[i] + 4.0 * uT * (fabs(old) + fabs(want));
      if (!(fabs(got - want) <= tol))
        ck_abort_msg("%s, %s: grad[%lld][%lld] (label %d) = %.17g, reference %.17g", b->k->what, call, (long long)i,
                     (long long)c, (int)b->y[i], got, want);
    }
    if (tl_get(b, b->g, i * b->s.ldg + C) != PAD)
      ck_abort_msg("%s, %s: grad[%lld][C] written", b->k->what, call, (long long)i);
  }
}

/* The public calls in the case's element type; alpha = beta = 1. */
static logitnorm_status tl_forward_backward(const tl_batch *b, double *loss, void *row_loss) {
  if (b->k->f64)
    return logitnorm_loss_forward_backward_f64(b->h, b->s.n, b->z, b->s.ld, b->y, loss, row_loss, 1.0, 1.0, b->g,
                                               b->s.ldg);
  return logitnorm_loss_forward_backward_f32(b->h, b->s.n, b->z, b->s.ld, b->y, loss, row_loss, 1.0f, 1.0f, b->g,
                                             b->s.ldg);
}

static logitnorm_status tl_forward(const tl_batch *b, double *loss, void *row_loss) {
  if (b->k->f64) return logitnorm_loss_forward_f64(b->h, b->s.n, b->z, b->s.ld, b->y, loss, row_loss);
  return logitnorm_loss_forward_f32(b->h, b->s.n, b->z, b->s.ld, b->y, loss, row_loss);
}

static logitnorm_status tl_forward_stats(const tl_batch *b, double *loss, void *row_loss, double *stats) {
  if (b->k->f64) return logitnorm_loss_forward_stats_f64(b->h, b->s.n, b->z, b->s.ld, b->y, loss, row_loss, stats);
  return logitnorm_loss_forward_stats_f32(b->h, b->s.n, b->z, b->s.ld, b->y, loss, row_loss, stats);
}

static logitnorm_status tl_backward_stats(const tl_batch *b, const double *stats) {
  if (b->k->f64)
    return logitnorm_loss_backward_stats_f64(b->h, b->s.n, b->z, b->s.ld, b->y, stats, NULL, 1.0, 1.0, b->g,
                                             b->s.ldg);
  return logitnorm_loss_backward_stats_f32(b->h, b->s.n, b->z, b->s.ld, b->y, stats, NULL, 1.0f, 1.0f, b->g,
                                           b->s.ldg);
}

START_TEST(test_tiles_far_apart) {
  tl_batch b;
  tl_setup(&b, &CASES[_i]);
  const int64_t n = b.s.n;
  void *row_loss = malloc((size_t)n * b.s.elem);
  double *stats = tl_doubles(n * LOGITNORM_LOSS_ROW_STATS);
  ck_assert_ptr_nonnull(row_loss);
  double loss;

  ck_assert_int_eq(tl_forward_backward(&b, &loss, row_loss), LOGITNORM_OK);
  tl_check_loss(&b, "forward_backward", loss, row_loss);
  tl_check_grad(&b, "forward_backward");

  tl_reset_grad(&b);
  ck_assert_int_eq(tl_forward_backward(&b, &loss, NULL), LOGITNORM_OK);
  tl_check_loss(&b, "forward_backward without row losses", loss, NULL);
  tl_check_grad(&b, "forward_backward without row losses");

  ck_assert_int_eq(tl_forward(&b, &loss, NULL), LOGITNORM_OK);
  tl_check_loss(&b, "forward without row losses", loss, NULL);

  ck_assert_int_eq(tl_forward_stats(&b, &loss, NULL, stats), LOGITNORM_OK);
  tl_check_loss(&b, "forward_stats without row losses", loss, NULL);
  ck_assert_int_eq(tl_forward_stats(&b, &loss, row_loss, stats), LOGITNORM_OK);
  tl_check_loss(&b, "forward_stats", loss, row_loss);
  tl_reset_grad(&b);
  ck_assert_int_eq(tl_backward_stats(&b, stats), LOGITNORM_OK);
  tl_check_grad(&b, "backward_stats");

  free(row_loss);
  free(stats);
  tl_teardown(&b);
}
END_TEST

int main(void) {
  Suite *s = suite_create("large_tiles");
  const char *why = tl_cannot_map();
  if (why != NULL) return tu_run_suite_partial(s, why);
  TCase *tc = tcase_create("tiles");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_tiles_far_apart, 0, NCASES);
  suite_add_tcase(s, tc);
  return tu_run_suite(s);
}
