/* Temperature scaling (Guo et al., 2017): the T > 0 minimising the mean NLL of softmax(z / T).

   In b = 1/T, with p = softmax(b z) over the unmasked classes of a row,
     NLL_i(b)   = logsumexp_j(b z_ij) - b z_iy
     NLL_i'(b)  = E_p[z_i] - z_iy
     NLL_i''(b) = Var_p[z_i] >= 0,
   so the mean NLL is convex in b and its slope g(b) = mean_i (E_p[z_i] - z_iy) increases from
     g(0)   = mean_i (mean_j z_ij - z_iy)   (uniform p)
   to
     g(inf) = mean_i (max_j z_ij - z_iy) >= 0.
   A minimiser b* in (0, inf) exists exactly when g(0) < 0 < g(inf); it is unique, since then
   some row has unequal logits and Var_p > 0 there. g(inf) = 0 means every label is an argmax
   of its row (the NLL falls all the way to T -> 0); g(0) >= 0 means the NLL is smallest at
   b = 0 (T -> infinity), which includes data whose every row has equal logits. The first is
   decided exactly (a comparison per row, not a rounded sum), the second from g(0) as computed.

   The root of g is found by Newton's method, b <- b - g(b) / g'(b), kept inside a bracket
   lo < b* < hi that every evaluation narrows (g < 0 raises lo, g > 0 lowers hi). A step that
   leaves the bracket, is not finite, or is more than half the step before the last (as in
   Numerical Recipes' rtsafe) is replaced by bisection (geometric while the bracket spans more
   than a factor 4, since b* may lie anywhere in [1e-100, 1e100]). The search stops when a
   Newton step moves b by at most 1e-12 b (quadratic convergence leaves the error far below
   that), when g(b) is exactly 0, or when the bracket is narrower than 2e-11 hi, so T = 1/b is
   the minimiser to 1e-10 relative.

   Per row, each evaluation costs one exp per unmasked class: the weights w_j = exp(b (z_j -
   max z)) are folded into a weighted mean and variance in one pass (West's update), with
   all sums in double for float and double logits alike. */
#include <math.h>

#include "common/error.h"
#include "common/validate.h"
#include "logitnorm.h"

#define LN_FIT_B_MIN 1e-100 /* b = 1/T: T in [1e-100, 1e100], the range of the TEMPERATURE param */
#define LN_FIT_B_MAX 1e100
#define LN_FIT_STEP_TOL 1e-12
#define LN_FIT_BRACKET_TOL 2e-11
#define LN_FIT_MAX_ITER 400 /* bisection alone takes ~60 steps over the whole range */

/* The logits as the fit sees them: f32 when is_f64 is 0, f64 otherwise. */
typedef struct ln_fit_rows {
  int64_t n, C, ld;
  int is_f64;
  const float *f32;
  const double *f64;
  const int32_t *labels;
} ln_fit_rows;

static inline double ln_fit_z(const ln_fit_rows *x, int64_t i, int64_t j) {
  return x->is_f64 ? x->f64[i * x->ld + j] : (double)x->f32[i * x->ld + j];
}

/* The slope g and the curvature h of the mean NLL at b. For a row with max m and d_j = z_j - m
   (0 at the max, -inf for a masked class, whose weight is exactly 0 and which is skipped):
   E_p[z] - z_y = E_p[d] - d_y and Var_p[z] = Var_p[d]. */
static void ln_fit_slope(const ln_fit_rows *x, double b, double *g, double *h) {
  double sum_g = 0.0, sum_h = 0.0;
  for (int64_t i = 0; i < x->n; ++i) {
    double m = -INFINITY;
    for (int64_t j = 0; j < x->C; ++j) m = fmax(m, ln_fit_z(x, i, j));
    double weight = 0.0, mean = 0.0, m2 = 0.0;
    for (int64_t j = 0; j < x->C; ++j) {
      double d = ln_fit_z(x, i, j) - m;
      double w = exp(b * d);
      if (w == 0.0) continue; /* masked, or too far below the max to count */
      weight += w;
      double delta = d - mean;
      mean += (w / weight) * delta;
      m2 += w * delta * (d - mean);
    }
    sum_g += mean - (ln_fit_z(x, i, x->labels[i]) - m);
    sum_h += m2 / weight;
  }
  *g = sum_g / (double)x->n;
  *h = sum_h / (double)x->n;
}

/* Classifies the data (see the top of the file): OK when a finite minimiser exists. */
static logitnorm_status ln_fit_classify(const ln_fit_rows *x) {
  int label_below_max = 0, row_unequal = 0;
  double sum0 = 0.0;
  for (int64_t i = 0; i < x->n; ++i) {
    double m = -INFINITY, lo = INFINITY, mean = 0.0;
    int64_t kept = 0;
    for (int64_t j = 0; j < x->C; ++j) {
      double z = ln_fit_z(x, i, j);
      if (z == -INFINITY) continue;
      m = fmax(m, z);
      lo = fmin(lo, z);
      ++kept;
      mean += (z - mean) / (double)kept;
    }
    double zy = ln_fit_z(x, i, x->labels[i]);
    label_below_max |= zy < m;
    row_unequal |= lo < m;
    sum0 += mean - zy;
  }
  if (!row_unequal)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "no temperature can be fitted: every row's unmasked logits are "
                   "equal, so the NLL is the same for every T");
  if (!label_below_max)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "no finite temperature minimises the NLL: every label is an argmax "
                   "of its row, so the NLL keeps falling as T -> 0");
  if (!(sum0 < 0.0))
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "no finite temperature minimises the NLL: its slope in 1/T at "
                   "1/T = 0 is mean(mean_j z_j - z_y) = %g >= 0, so the NLL is smallest as T -> infinity "
                   "(uniform probabilities)", sum0 / (double)x->n);
  return LOGITNORM_OK;
}

/* The next trial point inside (lo, hi) when Newton's step is not usable. */
static double ln_fit_bisect(double lo, double hi) {
  if (hi > 4.0 * lo) return sqrt(lo) * sqrt(hi); /* geometric; lo >= b_min / 2 > 0 */
  return lo + 0.5 * (hi - lo);
}

static logitnorm_status ln_fit(const ln_fit_rows *x, double *temperature) {
  logitnorm_status st = ln_fit_classify(x);
  if (st != LOGITNORM_OK) return st;
  /* lo: g(lo) < 0 is known, or the end of the allowed range below it; hi likewise above */
  double lo = 0.5 * LN_FIT_B_MIN, hi = 2.0 * LN_FIT_B_MAX, b = 1.0;
  double step = hi - lo, step_before = step;
  int converged = 0;
  for (int it = 0; it < LN_FIT_MAX_ITER && !converged; ++it) {
    double g, h;
    ln_fit_slope(x, b, &g, &h);
    if (g == 0.0) { /* b is the root */
      converged = 1;
      break;
    }
    if (g < 0.0) lo = b;
    else hi = b;
    /* Newton's step, unless it leaves the bracket, is not finite (h can overflow for double
       logits spread beyond 1e154) or shrinks slower than halving every other step */
    double newton = b - g / h;
    int use_newton = h > 0.0 && isfinite(h) && isfinite(newton) && newton > lo && newton < hi &&
                     2.0 * fabs(newton - b) <= fabs(step_before);
    step_before = step;
    double next = use_newton ? newton : ln_fit_bisect(lo, hi);
    step = next - b;
    converged = (use_newton && fabs(step) <= LN_FIT_STEP_TOL * b) || hi - lo <= LN_FIT_BRACKET_TOL * hi;
    b = next;
  }
  if (!converged)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the temperature fit did not converge in %d steps (1/T within "
                   "[%g, %g])", LN_FIT_MAX_ITER, lo, hi);
  if (b < LN_FIT_B_MIN || b > LN_FIT_B_MAX)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the NLL is smallest at T = %g, outside [1e-100, 1e100]", 1.0 / b);
  *temperature = 1.0 / b;
  return LOGITNORM_OK;
}

/* Validation as the loss calls do it: sizes, the matrix, labels in range, then the mask rule
   (NaN and +inf NONFINITE, a label on a masked class INVALID_LABEL, a row masked whole
   INVALID_ARGUMENT). */
static logitnorm_status ln_fit_check(const ln_fit_rows *x, const void *logits, size_t elem, double *temperature) {
  logitnorm_status st = ln_check_count(x->n, "n");
  if (st == LOGITNORM_OK && x->n == 0)
    st = ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "n = 0: a temperature needs at least one row");
  if (st == LOGITNORM_OK && (x->C < 1 || x->C > INT32_MAX))
    st = ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "num_classes = %lld is outside [1, %d]", (long long)x->C, INT32_MAX);
  if (st == LOGITNORM_OK) st = ln_check_matrix(logits, x->n, x->C, x->ld, elem, "logits");
  if (st == LOGITNORM_OK) st = ln_check_ptr(x->labels, "labels");
  if (st == LOGITNORM_OK) st = ln_check_ptr(temperature, "temperature");
  if (st == LOGITNORM_OK) st = ln_check_labels(x->labels, x->n, x->C, INT64_MIN);
  if (st != LOGITNORM_OK) return st;
  if (!x->is_f64) return ln_check_masked_labelled_f32(x->f32, x->n, x->C, x->ld, x->labels, INT64_MIN, "logits");
  return ln_check_masked_labelled_f64(x->f64, x->n, x->C, x->ld, x->labels, INT64_MIN, "logits");
}

LOGITNORM_API logitnorm_status logitnorm_calibration_fit_temperature_f32(int64_t n, int64_t num_classes,
    const float *logits, int64_t ld, const int32_t *labels, double *temperature) {
  ln_fit_rows x = {.n = n, .C = num_classes, .ld = ld, .is_f64 = 0, .f32 = logits, .f64 = NULL, .labels = labels};
  logitnorm_status st = ln_fit_check(&x, logits, sizeof *logits, temperature);
  return st == LOGITNORM_OK ? ln_fit(&x, temperature) : st;
}

LOGITNORM_API logitnorm_status logitnorm_calibration_fit_temperature_f64(int64_t n, int64_t num_classes,
    const double *logits, int64_t ld, const int32_t *labels, double *temperature) {
  ln_fit_rows x = {.n = n, .C = num_classes, .ld = ld, .is_f64 = 1, .f32 = NULL, .f64 = logits, .labels = labels};
  logitnorm_status st = ln_fit_check(&x, logits, sizeof *logits, temperature);
  return st == LOGITNORM_OK ? ln_fit(&x, temperature) : st;
}
