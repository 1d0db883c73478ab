/* logitnorm_loss_lower_bound and logitnorm_loss_temperature_for_bound, through the public API,
   against minimisations written plainly here:
     - the symmetric family on the sphere ||u|| = 1/tau: u_y = a, u_c = b (c != y) with
       a = R cos(theta), b = R sin(theta) / sqrt(C-1), R = 1/tau, loss = logsumexp(u) - sum_c q_c u_c
       computed term by term; a fine scan over theta, then golden-section search. No Lagrange
       condition and no closed form of the library's derivation is used.
     - for C <= 10, every direction: random restarts of projected gradient descent over z on a
       sphere of large radius (so ||u|| = 1/tau to 1e-13), with the loss and gradient of the
       double reference in tests/support/loss_ref.c. This checks that the optimum is symmetric.
   The sphere suffices for the infimum over the whole ball ||u|| < 1/tau: the loss does not change
   when a constant is added to u, and the line u + t 1 through any point of the ball meets that
   sphere, so every value taken in the ball is also taken on it.
   Also: the library's forward loss at the optimal logits, hand-derived limits, the inverse's
   round trip, and bad input (status, message, nothing written). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "loss_ref.h"
#include "test_util.h"

static const int64_t CLASSES[] = {2, 3, 10, 100, 1000, 100000};
enum { NCLASSES = sizeof CLASSES / sizeof CLASSES[0] };
static const double TAUS[] = {1e-3, 3e-3, 0.01, 0.04, 0.1, 0.3, 1.0, 3.0, 10.0};
enum { NTAUS = sizeof TAUS / sizeof TAUS[0] };
static const double SMOOTHINGS[] = {0.0, 0.1};
static const double PI = 3.14159265358979323846;

static logitnorm_loss *make(logitnorm_loss_kind kind, int64_t C, double tau, double s) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, kind, C), LOGITNORM_OK);
  if (kind == LOGITNORM_LOSS_LOGITNORM) ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, tau), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, s), LOGITNORM_OK);
  return L;
}

static double lib_bound(int64_t C, double tau, double s) {
  logitnorm_loss *L = make(LOGITNORM_LOSS_LOGITNORM, C, tau, s);
  double b = NAN;
  ck_assert_int_eq(logitnorm_loss_lower_bound(L, &b), LOGITNORM_OK);
  logitnorm_loss_free(L);
  return b;
}

/* ---------------- plain references ---------------- */

/* Loss of u = (a, b, ..., b) with label 0: logsumexp(u) - q_0 a - (C-1) q_1 b, q_0 = 1 - s + s/C, q_1 = s/C. */
static double sym_loss(double C, double s, double a, double b) {
  const double m = fmax(a, b);
  const double lse = m + log(exp(a - m) + (C - 1.0) * exp(b - m));
  return lse - (1.0 - s + s / C) * a - (C - 1.0) * (s / C) * b;
}

static double circle_loss(double C, double s, double R, double theta) {
  return sym_loss(C, s, R * cos(theta), R * sin(theta) / sqrt(C - 1.0));
}

/* min over theta of circle_loss: scan, then golden-section search in the best cell. The scan
   resolves the optimum's basin, whose width in theta is about 1/sqrt(C). */
static double sym_sphere_min(double C, double s, double R) {
  const int SCAN = tu_quick() ? 8192 : 65536;
  const double h = 2.0 * PI / SCAN;
  double best = INFINITY, best_t = 0.0;
  for (int j = 0; j < SCAN; ++j) {
    const double t = -PI + h * j;
    const double v = circle_loss(C, s, R, t);
    if (v < best) best = v, best_t = t;
  }
  const double g = 0.5 * (sqrt(5.0) - 1.0);
  double lo = best_t - h, hi = best_t + h;
  double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
  double f1 = circle_loss(C, s, R, x1), f2 = circle_loss(C, s, R, x2);
  for (int it = 0; it < 200 && hi - lo > 1e-16; ++it) {
    if (f1 < f2) {
      hi = x2, x2 = x1, f2 = f1;
      x1 = hi - g * (hi - lo);
      f1 = circle_loss(C, s, R, x1);
    } else {
      lo = x1, x1 = x2, f1 = f2;
      x2 = lo + g * (hi - lo);
      f2 = circle_loss(C, s, R, x2);
    }
    best = fmin(best, fmin(f1, f2));
  }
  return best;
}

/* min over directions w of the reference loss at z = rho w, label 0, by projected gradient descent
   from `restarts` random starts. The step is set in u = z / (tau ||z||) units, where the loss's
   curvature is at most 1; it grows by 1.5 after a step that lowers the loss and halves otherwise
   (the step is then not taken), until it falls below 1e-20. */
static double full_sphere_min(int64_t C, double tau, double s, tu_rng *r, int restarts) {
  lr_config cfg;
  lr_config_init(&cfg, LOGITNORM_LOSS_LOGITNORM, C);
  cfg.tau = tau;
  cfg.smoothing = s;
  double q[16], w[16], wn[16], z[16], g[16];
  ck_assert(C <= 16);
  ck_assert_int_eq(lr_targets_hard(&cfg, 0, q), 1);
  const double rho = 1e6;
  double best = INFINITY;
  for (int rs = 0; rs < restarts; ++rs) {
    double nn = 0.0;
    for (int64_t c = 0; c < C; ++c) w[c] = tu_normal(r), nn += w[c] * w[c];
    for (int64_t c = 0; c < C; ++c) w[c] /= sqrt(nn), z[c] = rho * w[c];
    double f = lr_row_loss(&cfg, z, q), eta = 1.0;
    for (int it = 0; it < 20000 && eta > 1e-20; ++it) {
      lr_row_grad(&cfg, z, q, g);
      nn = 0.0;
      for (int64_t c = 0; c < C; ++c) wn[c] = w[c] - eta * tau * tau * rho * g[c], nn += wn[c] * wn[c];
      for (int64_t c = 0; c < C; ++c) wn[c] /= sqrt(nn), z[c] = rho * wn[c];
      const double fn = lr_row_loss(&cfg, z, q);
      if (fn < f) {
        f = fn, eta *= 1.5;
        memcpy(w, wn, sizeof(double) * (size_t)C);
      } else {
        eta *= 0.5;
      }
      for (int64_t c = 0; c < C; ++c) z[c] = rho * w[c];
    }
    best = fmin(best, f);
  }
  return best;
}

/* The smoothed targets' entropy -sum_c q_c log q_c: cross-entropy's infimum (at p = q). */
static double target_entropy(int64_t C, double s) {
  double h = 0.0;
  const double qy = 1.0 - s + s / (double)C, qc = s / (double)C;
  if (qy > 0.0) h -= qy * log(qy);
  if (qc > 0.0) h -= (double)(C - 1) * qc * log(qc);
  return h;
}

/* The temperature below which the smoothed bound is constant: the norm of the min-norm
   minimiser of smoothed cross-entropy (p = q, so u_y - u_c = log(q_y / q_c), mean 0) is 1/tau*. */
static double tau_star(int64_t C, double s) {
  const double d = log((1.0 - s + s / (double)C) / (s / (double)C));
  const double a = d * (double)(C - 1) / (double)C, b = -d / (double)C;
  return 1.0 / sqrt(a * a + (double)(C - 1) * b * b);
}

/* ---------------- values ---------------- */

/* Against the symmetric-family minimisation, every C, tau and smoothing. */
START_TEST(bound_matches_symmetric_minimisation) {
  const int64_t C = CLASSES[_i];
  for (int si = 0; si < 2; ++si)
    for (int ti = 0; ti < NTAUS; ++ti) {
      const double s = SMOOTHINGS[si], tau = TAUS[ti], R = 1.0 / tau;
      const double b = lib_bound(C, tau, s);
      const double ref = sym_sphere_min((double)C, s, R);
      /* ref is a value the loss takes, so b <= ref up to rounding of the plain sum (~R ulps); the
         golden search brings ref to within rounding of the minimum. */
      const double tol = 1e-13 * (1.0 + R) + 1e-12 * fabs(ref);
      ck_assert_msg(isfinite(b) && b >= 0.0, "C %lld tau %g s %g: bound %g", (long long)C, tau, s, b);
      ck_assert_msg(fabs(b - ref) <= tol, "C %lld tau %g s %g: bound %.17g, symmetric minimum %.17g (diff %.3g)",
                    (long long)C, tau, s, b, ref, b - ref);
    }
}
END_TEST

/* For small C, every direction (not only the symmetric family): the bound is a lower bound of the
   reference loss, and gradient descent from random starts gets down to it. */
START_TEST(bound_matches_full_minimisation) {
  const int64_t C = CLASSES[_i];
  tu_rng r;
  tu_seed(&r, 1000 + (uint64_t)C);
  static const double taus[] = {1e-3, 0.04, 0.3, 1.0, 10.0};
  for (int si = 0; si < 2; ++si)
    for (int ti = 0; ti < 5; ++ti) {
      const double s = SMOOTHINGS[si], tau = taus[ti];
      const double b = lib_bound(C, tau, s);
      const double m = full_sphere_min(C, tau, s, &r, tu_quick() ? 2 : 5);
      ck_assert_msg(m >= b - 1e-13 * (1.0 + 1.0 / tau), "C %lld tau %g s %g: descent reached %.17g below bound %.17g",
                    (long long)C, tau, s, m, b);
      ck_assert_msg(m <= b + 1e-11, "C %lld tau %g s %g: descent minimum %.17g, bound %.17g", (long long)C, tau, s, m, b);
    }
}
END_TEST

/* The library's forward loss at the optimal logits: u_y = a, u_c = b with a - b = delta_opt,
   shifted by a constant to norm 1/tau, scaled to ||z|| = 1e6. delta_opt comes from the plain
   references: the largest a - b on the sphere (the symmetric point with mean 0) or, with smoothing
   and tau <= tau*, log(q_y / q_c). The loss there is >= bound and within 1e-6 of it. */
START_TEST(forward_at_optimal_logits) {
  const int64_t C = CLASSES[_i];
  double *z = malloc(sizeof(double) * (size_t)C);
  ck_assert_ptr_nonnull(z);
  for (int si = 0; si < 2; ++si)
    for (int ti = 0; ti < NTAUS; ++ti) {
      const double s = SMOOTHINGS[si], tau = TAUS[ti], R = 1.0 / tau, Cd = (double)C;
      double delta = R * sqrt(Cd / (Cd - 1.0));
      if (s > 0.0 && tau <= tau_star(C, s)) delta = log((1.0 - s + s / Cd) / (s / Cd));
      const double a0 = delta * (Cd - 1.0) / Cd, b0 = -delta / Cd;
      const double n0sq = a0 * a0 + (Cd - 1.0) * b0 * b0;
      const double t = sqrt(fmax(0.0, R * R - n0sq) / Cd);
      const double a = a0 + t, b = b0 + t, nrm = sqrt(a * a + (Cd - 1.0) * b * b), scale = 1e6 / nrm;
      z[0] = a * scale;
      for (int64_t c = 1; c < C; ++c) z[c] = b * scale;
      logitnorm_loss *L = make(LOGITNORM_LOSS_LOGITNORM, C, tau, s);
      const int32_t label = 0;
      double loss = NAN, bound = NAN;
      ck_assert_int_eq(logitnorm_loss_forward_f64(L, 1, z, C, &label, &loss, NULL), LOGITNORM_OK);
      ck_assert_int_eq(logitnorm_loss_lower_bound(L, &bound), LOGITNORM_OK);
      logitnorm_loss_free(L);
      /* The forward sums C exponentials: its rounding may reach about C ulps of the loss (seen: 4e-12
         relative at C = 100000 on the generic path), on top of ~R ulps from u's size. */
      const double round = 1e-13 * (1.0 + R) + Cd * DBL_EPSILON * loss;
      ck_assert_msg(loss >= bound - round, "C %lld tau %g s %g: forward %.17g below bound %.17g",
                    (long long)C, tau, s, loss, bound);
      ck_assert_msg(loss - bound <= 1e-6, "C %lld tau %g s %g: forward %.17g, bound %.17g", (long long)C, tau, s, loss,
                    bound);
    }
  free(z);
}
END_TEST

/* Hand-derived values and limits. */
START_TEST(closed_forms_and_limits) {
  /* One class: the loss is 0 everywhere. */
  ck_assert(lib_bound(1, 0.04, 0.0) == 0.0);
  ck_assert(lib_bound(1, 0.04, 0.5) == 0.0);
  /* C = 2, s = 0: the best u on the sphere is (R/sqrt2, -R/sqrt2), loss log(1 + e^{-sqrt2 R}). */
  ck_assert(fabs(lib_bound(2, 1.0, 0.0) - log1p(exp(-sqrt(2.0)))) <= 1e-15);
  /* Tiny tau, s = 0: bound = log(1 + x) with x = (C-1) e^{-sqrt(C/(C-1))/tau} far below 1e-16, so it
     equals x to relative 1e-15 (no log(1 + x) computed as log of a rounded 1 + x). */
  for (int64_t C = 2; C <= 100000; C *= 10) {
    const double x = (double)(C - 1) * exp(-sqrt((double)C / (double)(C - 1)) / 0.02);
    const double b = lib_bound(C, 0.02, 0.0);
    ck_assert_msg(fabs(b - x) <= 1e-13 * x, "C %lld: %.17g vs %.17g", (long long)C, b, x);
  }
  /* Smallest tau: e^{-delta} underflows; the bound is 0, not NaN. */
  ck_assert(lib_bound(10, 1e-30, 0.0) == 0.0);
  /* Large tau: u -> 0, bound -> log C from below; the gap is about (1 - s)(C-1)/C * delta. */
  for (int si = 0; si < 2; ++si) {
    const double s = SMOOTHINGS[si];
    const double b = lib_bound(100000, 1e6, s), logC = log(100000.0);
    const double gap = (1.0 - s) * (99999.0 / 100000.0) * sqrt(100000.0 / 99999.0) / 1e6;
    ck_assert_msg(b <= logC && fabs((logC - b) - gap) <= 1e-9 * gap + 4.0 * DBL_EPSILON * logC, "s %g: %.17g", s, b);
  }
  /* s = 1: uniform targets, the minimum is at u = 0 for every tau. */
  ck_assert(fabs(lib_bound(10, 0.04, 1.0) - log(10.0)) <= 4.0 * DBL_EPSILON * log(10.0));
  /* Smoothing and tau <= tau*: the constraint does not bind; the bound is the targets' entropy. */
  for (int ci = 0; ci < NCLASSES; ++ci) {
    const int64_t C = CLASSES[ci];
    const double h = target_entropy(C, 0.1), ts = tau_star(C, 0.1);
    for (double f = 1e-3; f <= 1.0; f *= 10.0) {
      const double b = lib_bound(C, f * ts, 0.1);
      ck_assert_msg(fabs(b - h) <= 1e-13 * h, "C %lld tau %g: %.17g vs entropy %.17g", (long long)C, f * ts, b, h);
    }
    ck_assert(lib_bound(C, 1.5 * ts, 0.1) > h);
  }
}
END_TEST

/* Cross-entropy: 0 without smoothing, the targets' entropy with it. Epsilon and class weights do
   not change the (unweighted) bound. */
START_TEST(cross_entropy_epsilon_and_weights) {
  for (int ci = 0; ci < NCLASSES; ++ci) {
    const int64_t C = CLASSES[ci];
    for (int si = 0; si < 2; ++si) {
      const double s = SMOOTHINGS[si];
      logitnorm_loss *L = make(LOGITNORM_LOSS_CROSS_ENTROPY, C, 0.0, s);
      double b = NAN;
      ck_assert_int_eq(logitnorm_loss_lower_bound(L, &b), LOGITNORM_OK);
      const double h = target_entropy(C, s);
      ck_assert_msg(fabs(b - h) <= 1e-13 * h, "C %lld s %g: %.17g vs %.17g", (long long)C, s, b, h);
      logitnorm_loss_free(L);
    }
  }
  logitnorm_loss *L = make(LOGITNORM_LOSS_LOGITNORM, 10, 0.3, 0.1);
  double b0 = NAN, b1 = NAN, b2 = NAN;
  ck_assert_int_eq(logitnorm_loss_lower_bound(L, &b0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, 1.0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_lower_bound(L, &b1), LOGITNORM_OK);
  const float w[10] = {0.5f, 2.0f, 1.0f, 3.0f, 1.0f, 1.0f, 0.1f, 1.0f, 1.0f, 7.0f};
  ck_assert_int_eq(logitnorm_loss_set_class_weights(L, w), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_lower_bound(L, &b2), LOGITNORM_OK);
  ck_assert(b0 == b1 && b1 == b2);
  logitnorm_loss_free(L);
}
END_TEST

/* Non-decreasing in tau over a fine grid; strictly increasing for s = 0 while the bound is normal. */
START_TEST(monotone_in_tau) {
  const int64_t C = CLASSES[_i];
  for (int si = 0; si < 2; ++si) {
    double prev = -1.0;
    for (double lt = -3.0; lt <= 1.0; lt += tu_quick() ? 0.05 : 0.01) {
      const double b = lib_bound(C, pow(10.0, lt), SMOOTHINGS[si]);
      ck_assert_msg(b >= prev, "C %lld s %g tau 1e%g: %.17g < %.17g", (long long)C, SMOOTHINGS[si], lt, b, prev);
      if (SMOOTHINGS[si] == 0.0 && prev >= DBL_MIN) ck_assert(b > prev);
      prev = b;
    }
  }
}
END_TEST

/* ---------------- the inverse ---------------- */

/* tau -> bound -> tau, where the bound is strictly increasing and well conditioned: s = 0 with
   a normal bound; s = 0.1 with tau >= 1.25 tau*. */
START_TEST(temperature_round_trip) {
  const int64_t C = CLASSES[_i];
  int checked = 0;
  for (int si = 0; si < 2; ++si)
    for (int ti = 0; ti < NTAUS; ++ti) {
      const double s = SMOOTHINGS[si], tau = TAUS[ti];
      const double b = lib_bound(C, tau, s);
      if (s == 0.0 ? b < 1e-290 : tau < 1.25 * tau_star(C, s)) continue;
      logitnorm_loss *L = make(LOGITNORM_LOSS_LOGITNORM, C, 0.04, s);
      double t = NAN;
      ck_assert_msg(logitnorm_loss_temperature_for_bound(L, b, &t) == LOGITNORM_OK, "C %lld s %g tau %g: %s",
                    (long long)C, s, tau, logitnorm_last_error());
      logitnorm_loss_free(L);
      ck_assert_msg(fabs(t - tau) <= 1e-10 * tau, "C %lld s %g tau %g: bound %.17g gives tau %.17g", (long long)C, s,
                    tau, b, t);
      ++checked;
    }
  ck_assert_int_ge(checked, 8);
}
END_TEST

/* Bounds across the whole reachable range: the returned tau's bound is the asked one. */
START_TEST(temperature_hits_bound) {
  const int64_t C = CLASSES[_i];
  for (int si = 0; si < 2; ++si) {
    const double s = SMOOTHINGS[si], lo = target_entropy(C, s), hi = log((double)C);
    for (int k = 1; k < 50; ++k) {
      const double want = lo + (hi - lo) * k / 50.0;
      logitnorm_loss *L = make(LOGITNORM_LOSS_LOGITNORM, C, 0.04, s);
      double t = NAN;
      ck_assert_int_eq(logitnorm_loss_temperature_for_bound(L, want, &t), LOGITNORM_OK);
      logitnorm_loss_free(L);
      const double got = lib_bound(C, t, s);
      ck_assert_msg(fabs(got - want) <= 1e-14 * hi, "C %lld s %g: want %.17g, tau %.17g gives %.17g", (long long)C, s,
                    want, t, got);
      /* ... and a slightly smaller tau gives a smaller bound: t is the smallest that reaches it. */
      ck_assert(lib_bound(C, t * (1.0 - 1e-6), s) < want);
    }
    /* Tiny targets (s = 0): the bound's exponential tail. */
    if (s == 0.0)
      for (double want = 1e-3; want > 1e-300; want *= 1e-10) {
        logitnorm_loss *L = make(LOGITNORM_LOSS_LOGITNORM, C, 0.04, s);
        double t = NAN;
        ck_assert_int_eq(logitnorm_loss_temperature_for_bound(L, want, &t), LOGITNORM_OK);
        logitnorm_loss_free(L);
        const double got = lib_bound(C, t, s);
        ck_assert_msg(fabs(got - want) <= 1e-12 * want, "C %lld: want %g got %.17g", (long long)C, want, got);
      }
  }
}
END_TEST

/* ---------------- bad input ---------------- */

static void plant_marker(char *marker, size_t size) {
  double v;
  logitnorm_loss *L = make(LOGITNORM_LOSS_LOGITNORM, 3, 0.04, 0.0);
  ck_assert_int_eq(logitnorm_loss_get(L, (logitnorm_loss_param)12345, &v), LOGITNORM_ERR_INVALID_ARGUMENT);
  logitnorm_loss_free(L);
  strncpy(marker, logitnorm_last_error(), size - 1);
  marker[size - 1] = '\0';
}

/* temperature_for_bound fails with `want`, a fresh message containing `needle`, output untouched. */
static void expect_tfb_fail(const logitnorm_loss *L, double bound, logitnorm_status want, const char *needle) {
  char marker[256];
  plant_marker(marker, sizeof marker);
  double out;
  tu_sentinel_fill(&out, sizeof out);
  const logitnorm_status st = logitnorm_loss_temperature_for_bound(L, bound, &out);
  const char *msg = logitnorm_last_error();
  ck_assert_msg(st == want, "bound %.17g: status %d, want %d (%s)", bound, (int)st, (int)want, msg);
  ck_assert_msg(msg[0] != '\0' && strcmp(msg, marker) != 0, "bound %.17g: no fresh message", bound);
  ck_assert_msg(strstr(msg, needle) != NULL, "bound %.17g: message \"%s\" lacks \"%s\"", bound, msg, needle);
  ck_assert(tu_sentinel_intact(&out, sizeof out));
}

START_TEST(temperature_rejects_unreachable) {
  logitnorm_loss *L = make(LOGITNORM_LOSS_LOGITNORM, 10, 0.04, 0.0);
  const double logC = log(10.0);
  const double bad0[] = {logC, nextafter(logC, 10.0), 3.0, 0.0, -0.0, -1e-300, -1.0};
  for (size_t k = 0; k < sizeof bad0 / sizeof bad0[0]; ++k)
    expect_tfb_fail(L, bad0[k], LOGITNORM_ERR_INVALID_ARGUMENT, "reachable range (0, 2.302585");
  expect_tfb_fail(L, NAN, LOGITNORM_ERR_INVALID_ARGUMENT, "not finite");
  expect_tfb_fail(L, INFINITY, LOGITNORM_ERR_INVALID_ARGUMENT, "not finite");
  expect_tfb_fail(L, -INFINITY, LOGITNORM_ERR_INVALID_ARGUMENT, "not finite");
  logitnorm_loss_free(L);

  /* With smoothing the lower end is the targets' entropy, reached by every tau <= tau*. */
  L = make(LOGITNORM_LOSS_LOGITNORM, 10, 0.04, 0.1);
  const double h = target_entropy(10, 0.1);
  const double bad1[] = {h, 0.5 * h, 0.0, logC};
  for (size_t k = 0; k < sizeof bad1 / sizeof bad1[0]; ++k)
    expect_tfb_fail(L, bad1[k], LOGITNORM_ERR_INVALID_ARGUMENT, "label_smoothing = 0.1");
  double t = NAN;
  ck_assert_int_eq(logitnorm_loss_temperature_for_bound(L, h * (1.0 + 1e-9), &t), LOGITNORM_OK);
  ck_assert(t > tau_star(10, 0.1));
  logitnorm_loss_free(L);

  /* s = 1: the bound is log C at every tau; one class: 0 at every tau. Nothing is reachable. */
  L = make(LOGITNORM_LOSS_LOGITNORM, 10, 0.04, 1.0);
  expect_tfb_fail(L, 0.5 * logC, LOGITNORM_ERR_INVALID_ARGUMENT, "reachable range");
  expect_tfb_fail(L, logC, LOGITNORM_ERR_INVALID_ARGUMENT, "reachable range");
  logitnorm_loss_free(L);
  L = make(LOGITNORM_LOSS_LOGITNORM, 1, 0.04, 0.0);
  expect_tfb_fail(L, 0.0, LOGITNORM_ERR_INVALID_ARGUMENT, "num_classes = 1");
  expect_tfb_fail(L, 0.1, LOGITNORM_ERR_INVALID_ARGUMENT, "num_classes = 1");
  logitnorm_loss_free(L);
}
END_TEST

START_TEST(temperature_unsupported_for_cross_entropy) {
  logitnorm_loss *L = make(LOGITNORM_LOSS_CROSS_ENTROPY, 10, 0.0, 0.0);
  expect_tfb_fail(L, 0.5, LOGITNORM_ERR_UNSUPPORTED, "LOGITNORM");
  logitnorm_loss_free(L);
}
END_TEST

START_TEST(null_pointers) {
  char marker[256];
  logitnorm_loss *L = make(LOGITNORM_LOSS_LOGITNORM, 10, 0.04, 0.0);
  double out;
  plant_marker(marker, sizeof marker);
  tu_sentinel_fill(&out, sizeof out);
  ck_assert_int_eq(logitnorm_loss_lower_bound(NULL, &out), LOGITNORM_ERR_NULL_POINTER);
  ck_assert(strstr(logitnorm_last_error(), "loss") != NULL && strcmp(logitnorm_last_error(), marker) != 0);
  ck_assert(tu_sentinel_intact(&out, sizeof out));
  plant_marker(marker, sizeof marker);
  ck_assert_int_eq(logitnorm_loss_lower_bound(L, NULL), LOGITNORM_ERR_NULL_POINTER);
  ck_assert(strstr(logitnorm_last_error(), "bound") != NULL && strcmp(logitnorm_last_error(), marker) != 0);
  plant_marker(marker, sizeof marker);
  ck_assert_int_eq(logitnorm_loss_temperature_for_bound(NULL, 0.5, &out), LOGITNORM_ERR_NULL_POINTER);
  ck_assert(strstr(logitnorm_last_error(), "loss") != NULL && strcmp(logitnorm_last_error(), marker) != 0);
  ck_assert(tu_sentinel_intact(&out, sizeof out));
  plant_marker(marker, sizeof marker);
  ck_assert_int_eq(logitnorm_loss_temperature_for_bound(L, 0.5, NULL), LOGITNORM_ERR_NULL_POINTER);
  ck_assert(strstr(logitnorm_last_error(), "temperature") != NULL && strcmp(logitnorm_last_error(), marker) != 0);
  logitnorm_loss_free(L);
}
END_TEST

static Suite *lower_bound_suite(void) {
  Suite *s = suite_create("loss_lower_bound");
  TCase *tc = tcase_create("lower_bound");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, bound_matches_symmetric_minimisation, 0, NCLASSES);
  tcase_add_loop_test(tc, bound_matches_full_minimisation, 0, 3); /* C = 2, 3, 10 */
  tcase_add_loop_test(tc, forward_at_optimal_logits, 0, NCLASSES);
  tcase_add_test(tc, closed_forms_and_limits);
  tcase_add_test(tc, cross_entropy_epsilon_and_weights);
  tcase_add_loop_test(tc, monotone_in_tau, 0, NCLASSES);
  tcase_add_loop_test(tc, temperature_round_trip, 0, NCLASSES);
  tcase_add_loop_test(tc, temperature_hits_bound, 0, NCLASSES);
  tcase_add_test(tc, temperature_rejects_unreachable);
  tcase_add_test(tc, temperature_unsupported_for_cross_entropy);
  tcase_add_test(tc, null_pointers);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(lower_bound_suite());
}
