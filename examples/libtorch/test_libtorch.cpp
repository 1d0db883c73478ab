// Tests of logitnorm_torch.h against LibTorch itself.
//
//   libtorch_tests parity     loss and input gradient of LossFunction (through the LogitNormLoss
//                             module) against torch::nn::functional::cross_entropy (CROSS_ENTROPY)
//                             and the official LogitNorm composition written with LibTorch ops
//                             (LOGITNORM): random shapes with C from 1 to 50,257, padded row strides,
//                             class weights, label smoothing, ignore_index, every reduction,
//                             probability targets, float (1e-5) and double (1e-12), each with the
//                             gradient computed in the forward and from row statistics
//                             (grad_in_forward true and false); then the loss inside a larger graph,
//                             backward twice with retain_graph, and three backwards on leaf logits;
//                             gradient buffers: never handed out while in use, reused once released.
//   libtorch_tests half       bf16 and f16 logits (random shapes and options as above, -inf masks,
//                             padded strides): the float loss and the half gradient against
//                             LibTorch's upcast recipe (within one half ulp plus the float
//                             tolerance) and bit for bit against the library's float call on the
//                             widened logits, rounded once; the gradient's dtype; and no copy or
//                             conversion of the logits (see run_parity_half, run_half_no_copy).
//   libtorch_tests bad_input  non-CPU, wrong dtype, wrong shape, out-of-range labels and NaN logits
//                             (float and half) raise c10::Error (with logitnorm_last_error() where
//                             the library found the fault) and leave every tensor untouched.
//
// Errors are measured normwise: max|ours - torch| / max|torch| per tensor (the entries of a
// gradient p - y cancel, so an entrywise relative error of the small entries means nothing).
#include <logitnorm_torch.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace F = torch::nn::functional;
using logitnorm_torch::LogitNormLoss;
using logitnorm_torch::LogitNormLossOptions;
using reduction_t = LogitNormLossOptions::reduction_t;

namespace {

int failures = 0;
int closer_than_torch = 0;  // float configurations passed by the exact-gradient rule (see run_parity)

#define EXPECT(cond, ...)                                 \
  do {                                                    \
    if (!(cond)) {                                        \
      failures++;                                         \
      std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);                  \
      std::fprintf(stderr, "\n");                         \
    }                                                     \
  } while (0)

// max|a - b| / max|b| in double; 0 when both are all zero.
double rel_err(const torch::Tensor &a, const torch::Tensor &b) {
  auto ad = a.to(torch::kDouble), bd = b.to(torch::kDouble);
  double den = bd.abs().max().item<double>(), num = (ad - bd).abs().max().item<double>();
  if (!(num == num)) return INFINITY;
  return den > 0 ? num / den : num;
}

// The official LogitNorm composition: norm + 1e-7, divide, divide by tau, cross_entropy.
torch::Tensor torch_logitnorm(const torch::Tensor &z, const torch::Tensor &target, double tau,
                              const F::CrossEntropyFuncOptions &o) {
  auto norms = torch::norm(z, 2, {-1}, true) + 1e-7;
  return F::cross_entropy(z / norms / tau, target, o);
}

struct config {
  int64_t n, c, ld, ldt;
  bool logitnorm, dbl, soft, weights;
  bool eager;  // Handle::grad_in_forward: the gradient computed in the forward, else from row statistics
  double tau, smoothing, scale;
  int64_t ignore_index;
  int reduction;  // 0 mean, 1 sum, 2 none
};

reduction_t reduction_of(int r) {
  if (r == 1) return torch::kSum;
  if (r == 2) return torch::kNone;
  return torch::kMean;
}

// `type` names the logits' dtype when it is neither float nor double (k.dbl).
std::string describe(const config &k, const char *type = nullptr) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s %s %s n=%lld C=%lld ld=%lld %s w=%d ls=%.3g ii=%lld red=%d tau=%.3g scale=%.3g",
                k.logitnorm ? "LOGITNORM" : "CE", type ? type : k.dbl ? "f64" : "f32", k.eager ? "eager" : "stats", (long long)k.n,
                (long long)k.c,
                (long long)k.ld, k.soft ? "soft" : "hard", (int)k.weights, k.smoothing, (long long)k.ignore_index,
                k.reduction, k.tau, k.scale);
  return buf;
}

// The module under test for a case, with class weights w (undefined: none).
static LogitNormLossOptions module_options(const config &k, const torch::Tensor &w) {
  auto options = LogitNormLossOptions(k.c)
                     .kind(k.logitnorm ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY)
                     .temperature(k.tau)
                     .ignore_index(k.ignore_index)
                     .label_smoothing(k.smoothing)
                     .reduction(reduction_of(k.reduction))
                     .grad_in_forward(k.eager);
  if (w.defined()) options.weight(w);
  return options;
}

// LibTorch's cross_entropy options for the same case.
static F::CrossEntropyFuncOptions reference_options(const config &k, const torch::Tensor &w) {
  F::CrossEntropyFuncOptions ref_opt;
  ref_opt.ignore_index(k.ignore_index).label_smoothing(k.smoothing).reduction(reduction_of(k.reduction));
  if (w.defined()) ref_opt.weight(w);
  return ref_opt;
}

// One comparison: the module and the torch reference on the same data, with an upstream gradient
// (a scalar factor for reduced losses, a random vector for NONE).
void run_parity(const config &k, std::mt19937_64 &rng) {
  const auto dtype = k.dbl ? torch::kDouble : torch::kFloat;
  const double tol = k.dbl ? 1e-12 : 1e-5;
  auto opt = torch::TensorOptions().dtype(dtype);
  torch::Tensor base = (torch::randn({k.n, k.ld}, torch::kDouble) * k.scale).to(dtype);
  torch::Tensor target;
  if (k.soft) {
    auto t = torch::softmax(torch::randn({k.n, k.ldt}, torch::kDouble).slice(1, 0, k.c) * 2.0, 1).to(dtype);
    auto padded = torch::full({k.n, k.ldt}, 7.0, opt);  // padding columns must not be read
    padded.slice(1, 0, k.c).copy_(t);
    target = padded.slice(1, 0, k.c);
  } else {
    target = torch::randint(0, k.c, {k.n}, torch::kLong);
    for (int64_t i = 0; i < k.n; i += 3)  // every third row ignored, but never all rows
      if (i > 0 && k.ignore_index != 0) target[i] = k.ignore_index;
  }
  torch::Tensor w;
  if (k.weights) w = torch::rand({k.c}, torch::kFloat) * 2.0 + 0.1;  // float values: exact in both dtypes

  LogitNormLoss module(module_options(k, w));
  F::CrossEntropyFuncOptions ref_opt = reference_options(k, w.defined() ? w.to(dtype) : w);

  // a reduced loss's upstream gradient: 1 (the saved gradient returned as it is) or 0.75 (scaled)
  torch::Tensor upstream = k.reduction == 2 ? torch::randn({k.n}, opt) : torch::full({}, k.n % 2 ? 1.0 : 0.75, opt);
  torch::Tensor ours_base = base.clone().requires_grad_(true), ref_base = base.clone().requires_grad_(true);
  torch::Tensor ours_z = ours_base.slice(1, 0, k.c), ref_z = ref_base.slice(1, 0, k.c);
  // The padded view is read in place: same data pointer, ld = the row stride.
  auto rm = logitnorm_torch::detail::row_major(ours_z, k.c);
  EXPECT(rm.t.data_ptr() == ours_z.data_ptr() && (k.n <= 1 || rm.ld == k.ld), "%s: padded logits were copied",
         describe(k).c_str());

  torch::Tensor ours = module(ours_z, target);
  torch::Tensor ref = k.logitnorm ? torch_logitnorm(ref_z, target, k.tau, ref_opt) : F::cross_entropy(ref_z, target, ref_opt);
  (ours * upstream).sum().backward();
  (ref * upstream).sum().backward();
  double e_loss = rel_err(ours.detach(), ref.detach());
  double e_grad = rel_err(ours_base.grad(), ref_base.grad());
  if (!k.dbl && e_grad > tol) {
    // Rows whose LogitNorm gradient cancels (C = 2, a tiny norm) amplify float rounding in both
    // computations, so two correct float results can differ by more than 1e-5 of the largest
    // entry. The rule then: ours within 1e-5 of the exact (double) gradient, and no farther from
    // it than LibTorch's own float result.
    auto exact_base = base.to(torch::kDouble).clone().requires_grad_(true);
    F::CrossEntropyFuncOptions exact_opt;
    exact_opt.ignore_index(k.ignore_index).label_smoothing(k.smoothing).reduction(reduction_of(k.reduction));
    if (w.defined()) exact_opt.weight(w.to(torch::kDouble));
    auto exact_z = exact_base.slice(1, 0, k.c);
    auto exact_t = k.soft ? target.to(torch::kDouble) : target;
    auto exact = k.logitnorm ? torch_logitnorm(exact_z, exact_t, k.tau, exact_opt)
                             : F::cross_entropy(exact_z, exact_t, exact_opt);
    (exact * upstream.to(torch::kDouble)).sum().backward();
    double ours_exact = rel_err(ours_base.grad(), exact_base.grad());
    double torch_exact = rel_err(ref_base.grad(), exact_base.grad());
    EXPECT(ours_exact <= tol && ours_exact <= torch_exact,
           "%s: gradient error %.3g > %.0g against LibTorch, %.3g against the exact gradient (LibTorch's: %.3g)",
           describe(k).c_str(), e_grad, tol, ours_exact, torch_exact);
    closer_than_torch++;
    e_grad = 0.0;  // judged above
  }
  EXPECT(ours.sizes() == ref.sizes() && ours.scalar_type() == dtype, "%s: result shape/dtype", describe(k).c_str());
  EXPECT(e_loss <= tol, "%s: loss error %.3g > %.0g (ours %.10g, torch %.10g)", describe(k).c_str(), e_loss, tol,
         ours.sum().item<double>(), ref.sum().item<double>());
  EXPECT(e_grad <= tol, "%s: gradient error %.3g > %.0g", describe(k).c_str(), e_grad, tol);
  if (k.ld > k.c)
    EXPECT(ours_base.grad().slice(1, k.c, k.ld).abs().max().item<double>() == 0.0, "%s: padding got a gradient",
           describe(k).c_str());
  (void)rng;
}

// A trainer's graph: features -> linear layer with a padded output -> the loss plus a penalty on
// the whole layer output; backward twice (retain_graph), so every gradient is accumulated twice.
void run_graph(bool logitnorm, bool dbl, int reduction, bool eager) {
  const auto dtype = dbl ? torch::kDouble : torch::kFloat;
  const double tol = dbl ? 1e-12 : 1e-5;
  const int64_t n = 24, d = 16, c = 37, ld = 40;
  auto x0 = torch::randn({n, d}, torch::kDouble).to(dtype), w0 = (torch::randn({d, ld}, torch::kDouble) * 0.5).to(dtype);
  auto y = torch::randint(0, c, {n}, torch::kLong);
  auto opts = LogitNormLossOptions(c)
                  .kind(logitnorm ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY)
                  .temperature(0.3)
                  .label_smoothing(0.1)
                  .reduction(reduction_of(reduction))
                  .grad_in_forward(eager);
  LogitNormLoss module(opts);
  F::CrossEntropyFuncOptions ref_opt;
  ref_opt.label_smoothing(0.1).reduction(reduction_of(reduction));
  torch::Tensor grads[2][2];
  for (int which = 0; which < 2; which++) {
    auto x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
    auto h = torch::tanh(x).mm(w);
    auto z = h.slice(1, 0, c);
    torch::Tensor l = which == 0 ? module(z, y)
                      : logitnorm ? torch_logitnorm(z, y, 0.3, ref_opt)
                                  : F::cross_entropy(z, y, ref_opt);
    if (reduction == 2) l = (l * torch::linspace(0.5, 1.5, n, dtype)).sum();
    auto total = 0.5 * l + 0.01 * (h * h).mean();
    total.backward({}, /*retain_graph=*/true);
    total.backward({}, /*retain_graph=*/true);
    grads[which][0] = x.grad().clone();
    grads[which][1] = w.grad().clone();
  }
  for (int p = 0; p < 2; p++) {
    double e = rel_err(grads[0][p], grads[1][p]);
    EXPECT(e <= tol, "graph %s %s %s red=%d: %s gradient error %.3g > %.0g", logitnorm ? "LOGITNORM" : "CE",
           dbl ? "f64" : "f32", eager ? "eager" : "stats", reduction, p ? "weight" : "input", e, tol);
  }
}

// Leaf logits and loss.backward() straight on the loss (upstream gradient 1, where the eager
// backward hands back its saved gradient): three backwards, the first two with retain_graph, must
// accumulate 3x the reference gradient, so autograd's accumulation never writes into the saved one.
void run_leaf_thrice(bool logitnorm, bool dbl, bool eager) {
  const auto dtype = dbl ? torch::kDouble : torch::kFloat;
  const double tol = dbl ? 1e-12 : 1e-5;
  const int64_t n = 19, c = 23;
  auto z0 = (torch::randn({n, c}, torch::kDouble) * 2.0).to(dtype);
  auto y = torch::randint(0, c, {n}, torch::kLong);
  LogitNormLoss module(LogitNormLossOptions(c)
                           .kind(logitnorm ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY)
                           .temperature(0.3)
                           .grad_in_forward(eager));
  auto ours = z0.clone().requires_grad_(true), ref = z0.clone().requires_grad_(true);
  auto l = module(ours, y);
  auto r = logitnorm ? torch_logitnorm(ref, y, 0.3, F::CrossEntropyFuncOptions()) : F::cross_entropy(ref, y);
  l.backward({}, /*retain_graph=*/true);
  l.backward({}, /*retain_graph=*/true);
  l.backward();
  r.backward();
  double e = rel_err(ours.grad(), 3.0 * ref.grad());
  EXPECT(e <= tol, "leaf %s %s %s: three backwards give %.3g relative error against 3x the reference",
         logitnorm ? "LOGITNORM" : "CE", dbl ? "f64" : "f32", eager ? "eager" : "stats", e);
}

// The gradient buffer pool (logitnorm_torch::GradPool): steps that keep earlier gradients alive
// must get fresh buffers (the kept ones unchanged), and a released buffer is reused by a later
// step of the same shape. Both gradient recipes; each step's gradient against the reference.
void run_grad_buffers(bool eager) {
  const int64_t n = 37, c = 300;
  LogitNormLoss module(LogitNormLossOptions(c).kind(LOGITNORM_LOSS_LOGITNORM).temperature(0.5).grad_in_forward(eager));
  auto y = torch::randint(0, c, {n}, torch::kLong);
  std::vector<torch::Tensor> kept, expected;
  std::vector<const void *> seen;
  for (int step = 0; step < 4; step++) {
    auto z0 = torch::randn({n, c}) * 3.0;
    auto ours = z0.clone().requires_grad_(true), ref = z0.clone().requires_grad_(true);
    module(ours, y).backward();
    torch_logitnorm(ref, y, 0.5, F::CrossEntropyFuncOptions()).backward();
    EXPECT(rel_err(ours.grad(), ref.grad()) <= 1e-5, "grad buffers (%s) step %d: gradient off by %.3g",
           eager ? "eager" : "stats", step, rel_err(ours.grad(), ref.grad()));
    for (const void *p : seen)
      EXPECT(ours.grad().data_ptr() != p, "grad buffers (%s) step %d: a buffer still in use was handed out again",
             eager ? "eager" : "stats", step);
    seen.push_back(ours.grad().data_ptr());
    kept.push_back(ours.grad());
    expected.push_back(ours.grad().clone());
  }
  for (size_t i = 0; i < kept.size(); i++)
    EXPECT(torch::equal(kept[i], expected[i]), "grad buffers (%s): kept gradient %zu changed",
           eager ? "eager" : "stats", i);
  // release the last one (its tensor and its leaf): the next step reuses it
  const void *released = kept.back().data_ptr();
  kept.pop_back();
  expected.pop_back();
  auto ours = (torch::randn({n, c}) * 3.0).requires_grad_(true);
  module(ours, y).backward();
  EXPECT(ours.grad().data_ptr() == released, "grad buffers (%s): a released buffer was not reused",
         eager ? "eager" : "stats");
}

int parity() {
  std::mt19937_64 rng(20240611);
  auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto pick = [&](int64_t a, int64_t b) { return std::uniform_int_distribution<int64_t>(a, b)(rng); };
  int count = 0;
  // Fixed edges first (C = 1, 2, the GPT-2 vocabulary), then log-uniform random C.
  const int64_t fixed_c[] = {1, 2, 50257};
  for (int i = 0; i < 24; i++) {
    config k{};
    k.c = i < 3 ? fixed_c[i] : (int64_t)std::floor(std::exp(uniform(0.0, std::log(50257.0))));
    if (k.c < 1) k.c = 1;
    int64_t max_n = std::max<int64_t>(1, std::min<int64_t>(64, 60000 / k.c));
    k.n = pick(1, max_n);
    k.ld = pick(0, 1) ? k.c + pick(1, 9) : k.c;
    k.ldt = pick(0, 1) ? k.c + pick(1, 5) : k.c;
    k.soft = pick(0, 3) == 0;
    k.weights = pick(0, 1) == 1;
    k.smoothing = pick(0, 1) ? uniform(0.0, 0.3) : 0.0;
    k.ignore_index = pick(0, 1) ? -100 : -1;
    k.tau = uniform(0.05, 1.0);
    k.scale = std::exp(uniform(std::log(0.01), std::log(20.0)));
    for (int kind = 0; kind < 2; kind++)
      for (int dbl = 0; dbl < 2; dbl++)
        for (int red = 0; red < 3; red++)
          for (int eager = 0; eager < 2; eager++) {
            k.logitnorm = kind == 1;
            k.dbl = dbl == 1;
            k.reduction = red;
            k.eager = eager == 1;
            try {
              run_parity(k, rng);
            } catch (const c10::Error &e) {
              failures++;
              std::fprintf(stderr, "FAIL %s: %s\n", describe(k).c_str(), e.what_without_backtrace());
            }
            count++;
          }
  }
  for (int kind = 0; kind < 2; kind++)
    for (int dbl = 0; dbl < 2; dbl++)
      for (int eager = 0; eager < 2; eager++) {
        for (int red = 0; red < 3; red++) run_graph(kind == 1, dbl == 1, red, eager == 1);
        run_leaf_thrice(kind == 1, dbl == 1, eager == 1);
      }
  run_grad_buffers(true);
  run_grad_buffers(false);
  std::printf("parity: %d configurations (%d float ones judged against the exact gradient), 24 graphs and 8 triple "
              "backwards, gradient buffer reuse, %d failure(s)\n",
              count, closer_than_torch, failures);
  return failures ? 1 : 0;
}

// ---------------------------------------------------------------- half precision

const char *dtype_name(torch::ScalarType t) { return t == torch::kBFloat16 ? "bf16" : "f16"; }

// One ulp of the half type at each |h|: the gap to the next larger magnitude, as double.
torch::Tensor half_ulp(const torch::Tensor &h) {
  auto a = h.abs();
  auto next = (a.view(torch::kShort) + 1).view(h.scalar_type());
  return next.to(torch::kDouble) - a.to(torch::kDouble);
}

// How far the half gradient `ours` lies outside what rounding a correct float gradient allows,
// against the float or double reference `ref`: max over entries of
//   |ours - ref rounded to ours' dtype| - (1 half ulp there + tol * max|ref|)
// (<= 0 passes). The library's float gradient and `ref` agree to tol * max|ref| (normwise, as in
// run_parity: the entries of p - y cancel, so entrywise float agreement means nothing), and each
// is rounded once to nearest-even; two float values that differ in their last bits round to the
// same half value or to neighbours, 1 half ulp apart, when they straddle a rounding midpoint.
double half_excess(const torch::Tensor &ours, const torch::Tensor &ref, double tol) {
  auto r = ref.to(torch::kDouble), rh = ref.to(ours.scalar_type());
  auto allowed = half_ulp(rh) + tol * r.abs().max().item<double>();
  auto diff = (ours.to(torch::kDouble) - rh.to(torch::kDouble)).abs();
  double e = (diff - allowed).max().item<double>();
  return e == e ? e : INFINITY;
}

// Bit-for-bit equality (so -0 and +0 differ, and so do NaNs of different payloads).
bool same_bits(const torch::Tensor &a, const torch::Tensor &b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  const auto as = a.element_size() == 2 ? torch::kShort : a.element_size() == 4 ? torch::kInt : torch::kLong;
  return torch::equal(a.view(as), b.view(as));
}

// The LogitNorm composition (torch_logitnorm) on rows that may hold -inf, the masked classes:
// the norm over the finite entries, and each -inf entry kept as it is, so that cross_entropy
// gives it probability 0 and gradient 0 (the library's mask rule; valid with hard labels that
// are not masked and no label smoothing). where() keeps the -inf entries out of the division,
// whose gradient would be 0 * inf = NaN. On rows without -inf it is torch_logitnorm.
torch::Tensor torch_logitnorm_masked(const torch::Tensor &z, const torch::Tensor &target, double tau,
                                     const F::CrossEntropyFuncOptions &o) {
  auto masked = torch::isinf(z);
  auto finite = torch::where(masked, torch::zeros_like(z), z);
  auto norms = torch::norm(finite, 2, {-1}, true) + 1e-7;
  return F::cross_entropy(torch::where(masked, z, finite / norms / tau), target, o);
}

int half_judged_exact = 0;  // configurations passed by the exact-gradient rule (see run_parity_half)
int half_masked = 0;        // configurations with -inf masks
int64_t half_off = 0;       // gradient entries that differ from LibTorch's upcast recipe (by rounding)

// bf16 or f16 logits through the module, against
//  (1) LibTorch's upcast recipe: cross_entropy (or the LogitNorm composition) on logits.to(kFloat),
//      the gradient rounded to the logits' dtype as .to() does (nearest-even), within half_excess;
//  (2) the library's float call on the widened logits (the same module on logits.to(kFloat)),
//      rounded once: bit for bit, the loss and row losses included (the half entry points'
//      contract). With the gradient computed in the forward and an upstream gradient other than
//      1, the half gradient is rounded before the upstream factor multiplies it (in float), and
//      rounded again: the expectation does the same.
// Rows with -inf masks where LibTorch's reference defines them (hard labels, no smoothing).
void run_parity_half(const config &k, torch::ScalarType dtype) {
  const double tol = 1e-5;
  const bool masks = !k.soft && k.smoothing == 0.0 && k.c >= 3;
  torch::Tensor base = (torch::randn({k.n, k.ld}, torch::kDouble) * k.scale).to(dtype);
  if (k.ld > k.c) base.slice(1, k.c, k.ld).fill_(NAN);  // padding must not be read
  torch::Tensor target;
  if (k.soft) {
    auto t = torch::softmax(torch::randn({k.n, k.ldt}, torch::kDouble).slice(1, 0, k.c) * 2.0, 1).to(dtype);
    auto padded = torch::full({k.n, k.ldt}, NAN, torch::TensorOptions().dtype(dtype));
    padded.slice(1, 0, k.c).copy_(t);
    target = padded.slice(1, 0, k.c);
  } else {
    target = torch::randint(0, k.c, {k.n}, torch::kLong);
    for (int64_t i = 0; i < k.n; i += 3)
      if (i > 0 && k.ignore_index != 0) target[i] = k.ignore_index;
    if (masks) {  // every fourth row: about a third of its classes masked, never its label
      auto m = torch::rand({k.n, k.c}) < 0.3;
      for (int64_t i = 0; i < k.n; i++) {
        const int64_t y = target[i].item<int64_t>();
        if (i % 4 != 1 || y < 0 || y >= k.c)
          m[i].fill_(false);
        else
          m[i][y] = false;
      }
      base.slice(1, 0, k.c).masked_fill_(m, -INFINITY);
    }
  }
  torch::Tensor w;
  if (k.weights) w = torch::rand({k.c}, torch::kFloat) * 2.0 + 0.1;

  LogitNormLoss module(module_options(k, w));
  F::CrossEntropyFuncOptions ref_opt = reference_options(k, w);
  const std::string what = describe(k, dtype_name(dtype)) + (masks ? " masks" : "");

  // the loss is float for half logits, and so is its upstream gradient
  const auto fopt = torch::TensorOptions().dtype(torch::kFloat);
  torch::Tensor upstream = k.reduction == 2 ? torch::randn({k.n}, fopt) : torch::full({}, k.n % 2 ? 1.0 : 0.75, fopt);
  torch::Tensor ours_base = base.clone().requires_grad_(true);
  torch::Tensor ours_z = ours_base.slice(1, 0, k.c);
  auto rm = logitnorm_torch::detail::row_major(ours_z, k.c);
  EXPECT(rm.t.data_ptr() == ours_z.data_ptr() && (k.n <= 1 || rm.ld == k.ld), "%s: padded logits were copied",
         what.c_str());
  torch::Tensor ours = module(ours_z, target);
  (ours * upstream).sum().backward();
  const torch::Tensor g = ours_base.grad().slice(1, 0, k.c);
  EXPECT(ours.scalar_type() == torch::kFloat, "%s: loss dtype %s, not float", what.c_str(),
         c10::toString(ours.scalar_type()));
  EXPECT(ours_base.grad().scalar_type() == dtype, "%s: gradient dtype %s", what.c_str(),
         c10::toString(ours_base.grad().scalar_type()));
  if (k.ld > k.c)
    EXPECT(ours_base.grad().slice(1, k.c, k.ld).abs().max().item<double>() == 0.0, "%s: padding got a gradient",
           what.c_str());

  // (1) LibTorch on the upcast logits, in float (and in double where float results cancel)
  const torch::Tensor z_wide = base.slice(1, 0, k.c).to(torch::kFloat);
  const torch::Tensor t_wide = k.soft ? target.to(torch::kFloat) : target;
  auto ref_z = z_wide.clone().requires_grad_(true);
  torch::Tensor ref = k.logitnorm ? torch_logitnorm_masked(ref_z, t_wide, k.tau, ref_opt)
                                  : F::cross_entropy(ref_z, t_wide, ref_opt);
  (ref * upstream).sum().backward();
  EXPECT(ours.sizes() == ref.sizes(), "%s: result shape", what.c_str());
  double e_loss = rel_err(ours.detach(), ref.detach());
  EXPECT(e_loss <= tol, "%s: loss error %.3g > %.0g (ours %.10g, torch %.10g)", what.c_str(), e_loss, tol,
         ours.sum().item<double>(), ref.sum().item<double>());
  double excess = half_excess(g, ref_z.grad(), tol);
  half_masked += masks;
  half_off += (g.to(torch::kFloat) != ref_z.grad().to(dtype).to(torch::kFloat)).sum().item<int64_t>();
  if (excess > 0) {
    // As in run_parity: where a LogitNorm gradient cancels, two correct float results differ by
    // more than tol of the largest entry; then ours must be within the bound of the double one.
    auto exact_z = z_wide.to(torch::kDouble).requires_grad_(true);
    F::CrossEntropyFuncOptions exact_opt;
    exact_opt.ignore_index(k.ignore_index).label_smoothing(k.smoothing).reduction(reduction_of(k.reduction));
    if (w.defined()) exact_opt.weight(w.to(torch::kDouble));
    auto exact_t = k.soft ? target.to(torch::kDouble) : target;
    auto exact = k.logitnorm ? torch_logitnorm_masked(exact_z, exact_t, k.tau, exact_opt)
                             : F::cross_entropy(exact_z, exact_t, exact_opt);
    (exact * upstream.to(torch::kDouble)).sum().backward();
    double excess_exact = half_excess(g, exact_z.grad(), tol);
    EXPECT(excess_exact <= 0, "%s: gradient beyond 1 half ulp + %.0g of LibTorch's by %.3g, of the double one by %.3g",
           what.c_str(), tol, excess, excess_exact);
    half_judged_exact++;
  }

  // (2) the float call on the widened logits, rounded once
  auto f32_z = z_wide.clone().requires_grad_(true);
  torch::Tensor f32_loss = module(f32_z, t_wide);
  EXPECT(same_bits(ours.detach(), f32_loss.detach()), "%s: loss differs from the float call's (%.10g, %.10g)",
         what.c_str(), ours.sum().item<double>(), f32_loss.sum().item<double>());
  torch::Tensor expected;
  if (k.eager) {
    (f32_loss * torch::ones_like(upstream)).sum().backward();  // the gradient the forward computes
    auto up = k.reduction == 2 ? upstream.unsqueeze(1) : upstream;
    expected = (f32_z.grad().to(dtype).to(torch::kFloat) * up).to(dtype);
  } else {
    (f32_loss * upstream).sum().backward();  // the upstream gradient goes to the library as alpha or row_scale
    expected = f32_z.grad().to(dtype);
  }
  EXPECT(same_bits(g, expected), "%s: gradient differs from the float call's rounded (%lld entries)", what.c_str(),
         (long long)(g.to(torch::kFloat) != expected.to(torch::kFloat)).sum().item<int64_t>());
}

// Names of the ATen operators run on this thread while the callback is installed.
thread_local std::vector<std::string> *recorded_ops = nullptr;
std::unique_ptr<at::ObserverContext> record_op(const at::RecordFunction &fn) {
  if (recorded_ops) recorded_ops->push_back(fn.name());
  return nullptr;
}

// The half logits are never copied or converted. The forward runs no copying operator (a .to(),
// a clone, a copy_), and the forward of the row-statistics recipe saves the logits tensor itself:
// a change to the logits between the forward and the backward is then caught by autograd's
// version check. A transposed tensor, which the adapter makes contiguous, is the control.
void run_half_no_copy(torch::ScalarType dtype, bool eager) {
  const int64_t n = 33, c = 70, ld = 75;
  LogitNormLoss module(LogitNormLossOptions(c).temperature(0.3).grad_in_forward(eager));
  auto y = torch::randint(0, c, {n}, torch::kLong);
  const char *name = dtype_name(dtype), *mode = eager ? "eager" : "stats";
  auto copies = [&](const torch::Tensor &z) {
    std::vector<std::string> ops;
    recorded_ops = &ops;
    auto handle = at::addThreadLocalCallback(at::RecordFunctionCallback(record_op));
    torch::Tensor l = module(z, y);
    at::removeCallback(handle);
    recorded_ops = nullptr;
    std::string found;
    for (const auto &op : ops)
      if (op.find("copy") != std::string::npos || op.find("clone") != std::string::npos || op == "aten::to" ||
          op == "aten::contiguous")
        found += " " + op;
    return std::make_pair(l, found);
  };
  auto base = (torch::randn({n, ld}) * 2.0).to(dtype).requires_grad_(true);
  auto [loss, found] = copies(base.slice(1, 0, c));
  EXPECT(found.empty(), "no copy %s %s: the forward ran%s", name, mode, found.c_str());
  auto [loss_t, found_t] = copies(base.detach().t().contiguous().t().slice(0, 0, n).slice(1, 0, c));
  EXPECT(!found_t.empty(), "no copy %s %s: a transposed input was not seen to be copied", name, mode);
  if (!eager) {
    {
      torch::NoGradGuard guard;
      base.mul_(1);  // bumps the logits' version
    }
    bool caught = false;
    try {
      loss.backward();
    } catch (const c10::Error &e) {
      caught = std::string(e.what_without_backtrace()).find("modified by an inplace operation") != std::string::npos;
    }
    EXPECT(caught, "no copy %s stats: the backward did not use the logits tensor itself", name);
  } else {
    loss.backward();
    EXPECT(base.grad().scalar_type() == dtype, "no copy %s eager: gradient dtype", name);
  }
}

int half_parity() {
  // many small LibTorch operations per configuration: on a busy machine a second OpenMP thread
  // spends more time waiting at their barriers than it saves
  torch::set_num_threads(1);
  std::mt19937_64 rng(20250301);
  auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto pick = [&](int64_t a, int64_t b) { return std::uniform_int_distribution<int64_t>(a, b)(rng); };
  int count = 0;
  const int64_t fixed_c[] = {1, 2, 50257};
  for (int i = 0; i < 24; i++) {
    config k{};
    k.c = i < 3 ? fixed_c[i] : (int64_t)std::floor(std::exp(uniform(0.0, std::log(50257.0))));
    if (k.c < 1) k.c = 1;
    k.n = pick(1, std::max<int64_t>(1, std::min<int64_t>(64, 60000 / k.c)));
    k.ld = pick(0, 1) ? k.c + pick(1, 9) : k.c;
    k.ldt = pick(0, 1) ? k.c + pick(1, 5) : k.c;
    k.soft = pick(0, 3) == 0;
    k.weights = pick(0, 1) == 1;
    k.smoothing = pick(0, 2) == 0 ? uniform(0.0, 0.3) : 0.0;  // two thirds without, where masks go
    k.ignore_index = pick(0, 1) ? -100 : -1;
    k.tau = uniform(0.05, 1.0);
    k.scale = std::exp(uniform(std::log(0.01), std::log(20.0)));
    for (torch::ScalarType dtype : {torch::kBFloat16, torch::kHalf})
      for (int kind = 0; kind < 2; kind++)
        for (int red = 0; red < 3; red++)
          for (int eager = 0; eager < 2; eager++) {
            k.logitnorm = kind == 1;
            k.reduction = red;
            k.eager = eager == 1;
            try {
              run_parity_half(k, dtype);
            } catch (const c10::Error &e) {
              failures++;
              std::fprintf(stderr, "FAIL %s: %s\n", describe(k, dtype_name(dtype)).c_str(), e.what_without_backtrace());
            }
            count++;
          }
  }
  for (torch::ScalarType dtype : {torch::kBFloat16, torch::kHalf})
    for (int eager = 0; eager < 2; eager++) run_half_no_copy(dtype, eager == 1);
  std::printf("half_parity: %d configurations (%d with -inf masks, %d judged against the double gradient; %lld "
              "gradient entries a rounding step away from LibTorch's upcast recipe), no-copy checks, %d failure(s)\n",
              count, half_masked, half_judged_exact, (long long)half_off, failures);
  return failures ? 1 : 0;
}

// ---------------------------------------------------------------- bad input

bool same_bytes(const torch::Tensor &a, const torch::Tensor &b) {
  return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() &&
         std::memcmp(a.contiguous().data_ptr(), b.contiguous().data_ptr(), a.numel() * a.element_size()) == 0;
}

// Runs the module on (z, y); expects a c10::Error whose text contains `needle` and, when
// `from_library`, this thread's logitnorm_last_error(); then checks that z and y are unchanged
// and that no gradient was produced.
void expect_rejected(const char *what, LogitNormLoss &m, const torch::Tensor &z, const torch::Tensor &y,
                     const char *needle, bool from_library) {
  bool cpu = z.device().is_cpu();
  torch::Tensor z_copy = cpu ? z.detach().clone() : torch::Tensor(), y_copy = y.detach().clone();
  try {
    auto l = m(z, y);
    if (z.requires_grad()) l.sum().backward();
    failures++;
    std::fprintf(stderr, "FAIL %s: no error raised\n", what);
    return;
  } catch (const c10::Error &e) {
    std::string msg = e.what_without_backtrace();
    EXPECT(msg.find(needle) != std::string::npos, "%s: message '%s' lacks '%s'", what, msg.c_str(), needle);
    if (from_library) {
      std::string last = logitnorm_last_error();
      EXPECT(!last.empty() && msg.find(last) != std::string::npos, "%s: message '%s' lacks last_error '%s'", what,
             msg.c_str(), last.c_str());
    }
  }
  if (cpu) EXPECT(same_bytes(z.detach(), z_copy), "%s: logits changed", what);
  EXPECT(same_bytes(y.detach(), y_copy), "%s: target changed", what);
  EXPECT(!z.grad().defined(), "%s: a gradient was written", what);
}

int bad_input() {
  const int64_t c = 10, n = 6;
  LogitNormLoss m(LogitNormLossOptions(c).temperature(0.5));
  auto y = torch::randint(0, c, {n}, torch::kLong);
  auto z = torch::randn({n, c}).requires_grad_(true);

  expect_rejected("meta tensor", m, torch::empty({n, c}, torch::device(torch::kMeta)), y, "CPU", false);
  const char *dtypes = "float, double, bfloat16 or half";
  expect_rejected("int logits", m, torch::ones({n, c}, torch::kInt), y, dtypes, false);
  expect_rejected("complex logits", m, torch::randn({n, c}, torch::kComplexFloat), y, dtypes, false);
  expect_rejected("C + 1 columns", m, torch::randn({n, c + 1}).requires_grad_(true), y, "shape", false);
  expect_rejected("3-D logits", m, torch::randn({n, c, 1}).requires_grad_(true), y, "shape", false);
  expect_rejected("labels [n + 1]", m, z, torch::randint(0, c, {n + 1}, torch::kLong), "shape", false);
  expect_rejected("float labels [n]", m, z, torch::zeros({n}), "shape", false);
  expect_rejected("labels beyond int32", m, z, torch::full({n}, int64_t(1) << 40, torch::kLong), "int32", false);

  auto y_high = y.clone();
  y_high[4] = c;
  expect_rejected("label == C", m, z, y_high, "invalid label", true);
  auto y_neg = y.clone();
  y_neg[2] = -5;
  expect_rejected("label -5", m, z, y_neg, "invalid label", true);
  auto z_nan = torch::randn({n, c});
  z_nan[3][7] = NAN;
  z_nan.requires_grad_(true);
  expect_rejected("NaN logit", m, z_nan, y, "non-finite", true);
  auto z_inf_pad = torch::randn({n, c + 3});
  z_inf_pad[1][c + 1] = NAN;  // padding is never read: this one must pass
  try {
    auto l = m(z_inf_pad.slice(1, 0, c), y);
    EXPECT(std::isfinite(l.item<double>()), "NaN in the padding changed the loss");
  } catch (const c10::Error &e) {
    failures++;
    std::fprintf(stderr, "FAIL NaN in padding: %s\n", e.what_without_backtrace());
  }
  auto soft = torch::softmax(torch::randn({n, c}), 1).requires_grad_(true);
  expect_rejected("targets requiring grad", m, z, soft, "detach", false);
  expect_rejected("double targets, float logits", m, z, soft.detach().to(torch::kDouble), "dtype", false);
  // half logits: the same rules, the library's checks through the _bf16 / _f16 entry points
  for (torch::ScalarType half : {torch::kBFloat16, torch::kHalf}) {
    const std::string name = std::string(dtype_name(half));
    auto zh = torch::randn({n, c}).to(half).requires_grad_(true);
    expect_rejected((name + " logits, float targets").c_str(), m, zh, soft.detach(), "dtype", false);
    auto zh_nan = zh.detach().clone();
    zh_nan[3][7] = NAN;
    expect_rejected((name + " NaN logit").c_str(), m, zh_nan.requires_grad_(true), y, "non-finite", true);
    auto zh_inf = zh.detach().clone();
    zh_inf[0][2] = INFINITY;
    expect_rejected((name + " +inf logit").c_str(), m, zh_inf.requires_grad_(true), y, "non-finite", true);
    expect_rejected((name + " label == C").c_str(), m, zh, y_high, "invalid label", true);
  }
  std::printf("bad_input: %d failure(s)\n", failures);
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char **argv) {
  torch::manual_seed(7);
  torch::set_num_threads(2);
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "parity") return parity();
  if (mode == "half") return half_parity();
  if (mode == "bad_input") return bad_input();
  std::fprintf(stderr, "usage: %s parity|half|bad_input\n", argv[0]);
  return 2;
}
