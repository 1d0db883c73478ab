/* The loss's lower bound (infimum over all logit vectors) and its inverse in the temperature.
   docs/math.md, "The loss's lower bound", derives what follows.

   The per-sample loss (no class weights) of normalised logits u, label y, C classes and label
   smoothing s is LSE(u) - sum_c q_c u_c with q_y = 1 - s + s/C and q_c = s/C otherwise. It is
   convex in u and unchanged by adding a constant to u; LogitNorm's u = z / (tau (||z|| + eps))
   fills the open ball ||u|| < 1/tau. The infimum over that ball is taken at a symmetric point
   u_y = a, u_c = b (c != y), a + (C-1) b = 0, where with delta = a - b:
     f(delta) = log(1 + (C-1) e^-delta) + k delta,   k = s (C-1) / C,
     0 <= delta <= delta_max = sqrt(C/(C-1)) / tau.
   f is convex with its unconstrained minimum at delta* = log(1 + C(1-s)/s) (infinite for s = 0),
   where f(delta*) = -log(1 - k) + k delta* is the entropy of q: the smoothed cross-entropy's
   infimum. So bound(tau) = f(min(delta_max, delta*)): constant for tau <= tau* = sqrt(C/(C-1)) /
   delta* and strictly increasing above it, towards f(0) = log C as tau -> infinity. */
#include <float.h>
#include <math.h>

#include "common/error.h"
#include "common/validate.h"
#include "loss.h"

/* Everything about f that depends on the handle only: C and s. */
typedef struct lb_curve {
  double C;
  double log_cm1;    /* log(C - 1) */
  double k;          /* s (C-1) / C, the slope of the smoothing term */
  double delta_star; /* argmin of f; INFINITY when s = 0 */
  double f_star;     /* f(delta_star): the smoothed cross-entropy's infimum; 0 when s = 0 */
  double radius;     /* sqrt(C/(C-1)): delta_max = radius / tau */
} lb_curve;

/* Requires C >= 2. */
static lb_curve lb_curve_of(const logitnorm_loss *L) {
  lb_curve c;
  const double s = L->smoothing;
  c.C = (double)L->num_classes;
  c.log_cm1 = log(c.C - 1.0);
  c.k = s * ((c.C - 1.0) / c.C);
  c.radius = sqrt(1.0 + 1.0 / (c.C - 1.0));
  if (s == 1.0) { /* uniform targets: the minimum is at u = 0, f(0) = log C */
    c.delta_star = 0.0;
    c.f_star = log(c.C);
  } else if (s > 0.0) {
    /* log(1 + C(1-s)/s) = log1p((C-1)(1-s)) - log(s): two non-negative terms, no overflow for tiny s. */
    c.delta_star = log1p((c.C - 1.0) * (1.0 - s)) - log(s);
    c.f_star = -log1p(-c.k) + c.k * c.delta_star;
  } else {
    c.delta_star = INFINITY;
    c.f_star = 0.0;
  }
  return c;
}

/* f(delta); (C-1) e^-delta as one exp so that large C and large delta neither overflow nor lose
   digits in a subnormal e^-delta. */
static double lb_f(const lb_curve *c, double delta) {
  return log1p(exp(c->log_cm1 - delta)) + c->k * delta;
}

/* f'(delta) = k - t / (1 + t), t = (C-1) e^-delta. */
static double lb_df(const lb_curve *c, double delta) {
  const double t = exp(c->log_cm1 - delta);
  return c->k - t / (1.0 + t);
}

/* bound at temperature tau (C >= 2). */
static double lb_bound_at(const lb_curve *c, double tau) {
  const double delta_max = c->radius / tau;
  if (delta_max >= c->delta_star) return c->f_star; /* the constraint does not bind */
  /* f(delta_max) >= f_star exactly; the max keeps rounding from breaking that near tau*. */
  return fmax(lb_f(c, delta_max), c->f_star);
}

/* The delta in (0, delta*) with f(delta) = b, for f_star < b < log C (f is strictly decreasing
   there). Newton on h(delta) = log f(delta) - log b, step -h f / f': in log space because the s = 0
   tail f ~ (C-1) e^-delta is then a straight line (one step), where Newton on f itself would creep
   by about 1 per step. Start: the s = 0 root delta0 = log(C-1) - log(expm1(b)), exact for s = 0
   (for s > 0, f(delta0) = b + k delta0 > b, so the root lies right of it). Safeguard: the bracket
   [lo, hi] with f(lo) > b > f(hi), updated at every evaluation; a step that leaves it (or f' = 0)
   is replaced by a bisection, geometric once lo > 0, so this is bisection on log tau plus Newton. */
static double lb_solve_delta(const lb_curve *c, double b) {
  double lo = 0.0;
  /* For s = 0, f(log(C-1) + 746) = log1p(e^-746) = 0 < b: beyond the root of any positive double.
     For s > 0, f(delta*) = f_star < b. */
  double hi = (c->k > 0.0) ? c->delta_star : c->log_cm1 + 746.0;
  double x = c->log_cm1 - log(expm1(b));
  if (!(x > lo && x < hi)) x = 0.5 * (lo + hi);
  for (int it = 0; it < 400; ++it) {
    const double fx = lb_f(c, x);
    if (fx == b) return x;
    if (fx > b) lo = x;
    else hi = x;
    /* log(fx / b) without overflow of the ratio, and without the cancellation of log fx - log b
       when fx is close to b. */
    const double r = (fx - b) / b;
    const double h = isfinite(r) ? log1p(r) : log(fx) - log(b);
    const double step = -h * fx / lb_df(c, x);
    if (fabs(step) <= 2.0 * DBL_EPSILON * x) return x + step; /* converged to rounding */
    double next = x + step;
    if (!(next > lo && next < hi)) /* NaN (f' = 0) fails the test too */
      next = (lo > 0.0 && hi > 2.0 * lo) ? sqrt(lo) * sqrt(hi) : 0.5 * (lo + hi);
    if (!(hi - lo > 2.0 * DBL_EPSILON * hi)) return next; /* bracket closed */
    x = next;
  }
  return x;
}

LOGITNORM_API logitnorm_status logitnorm_loss_lower_bound(const logitnorm_loss *loss, double *bound) {
  logitnorm_status st = ln_check_ptr(loss, "loss");
  if (st == LOGITNORM_OK) st = ln_check_ptr(bound, "bound");
  if (st != LOGITNORM_OK) return st;
  if (loss->num_classes < 2) { /* one class: p = 1 and the loss is 0 for every logit */
    *bound = 0.0;
    return LOGITNORM_OK;
  }
  const lb_curve c = lb_curve_of(loss);
  /* Cross-entropy has no norm constraint: its infimum is f's unconstrained minimum. */
  *bound = (loss->kind == LOGITNORM_LOSS_LOGITNORM) ? lb_bound_at(&c, loss->tau) : c.f_star;
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_loss_temperature_for_bound(const logitnorm_loss *loss, double bound,
                                                                     double *temperature) {
  logitnorm_status st = ln_check_ptr(loss, "loss");
  if (st == LOGITNORM_OK) st = ln_check_ptr(temperature, "temperature");
  if (st != LOGITNORM_OK) return st;
  if (loss->kind != LOGITNORM_LOSS_LOGITNORM)
    return ln_fail(LOGITNORM_ERR_UNSUPPORTED,
                   "temperature_for_bound applies to LOGITNORM handles only: cross-entropy has no temperature");
  if (!isfinite(bound)) return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "bound = %g is not finite", bound);
  if (loss->num_classes < 2)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT,
                   "bound = %.17g is unreachable: with num_classes = 1 the loss is 0 at every temperature", bound);
  const lb_curve c = lb_curve_of(loss);
  const double sup = log(c.C);
  /* The bound takes every value of the open interval (f_star, log C) at exactly one temperature;
     f_star is taken by every tau <= tau*, so it determines no temperature, and log C by none. */
  if (!(bound > c.f_star && bound < sup)) {
    if (c.k > 0.0)
      return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT,
                     "bound = %.17g is outside the reachable range (%.17g, %.17g) for num_classes = %lld and "
                     "label_smoothing = %g (the lower end is the bound of every temperature <= %.17g)",
                     bound, c.f_star, sup, (long long)loss->num_classes, loss->smoothing, c.radius / c.delta_star);
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT,
                   "bound = %.17g is outside the reachable range (0, %.17g) for num_classes = %lld and "
                   "label_smoothing = 0",
                   bound, sup, (long long)loss->num_classes);
  }
  const double delta = lb_solve_delta(&c, bound);
  const double tau = c.radius / delta;
  if (!(delta > 0.0) || !isfinite(tau) || tau < LN_TAU_MIN)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT,
                   "bound = %.17g is too close to the end of the reachable range (%.17g, %.17g) for its "
                   "temperature to be a finite double",
                   bound, c.f_star, sup);
  *temperature = tau;
  return LOGITNORM_OK;
}
