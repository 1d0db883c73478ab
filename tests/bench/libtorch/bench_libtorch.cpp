// bench_libtorch: forward + backward of logitnorm_torch::LossFunction (MEAN reduction, int64 labels,
// f32) against LibTorch's own fused torch::nn::functional::cross_entropy and its composition of
// the official LogitNorm (norm + 1e-7, divide, divide by tau, cross_entropy), on the same tensors,
// with one LibTorch thread and THREADS = 1, at the shapes of tests/bench/bench_loss.c.
// Each timed step is what a trainer does: loss = f(x, y); loss.backward(); x.grad reset.
// Prints the median time of each and the ratios; goal: the LogitNorm Function at least 10x faster
// than the composition and faster than the fused cross_entropy at every shape.
//   bench_libtorch [--quick]     --quick: shapes / 64 and 1 repetition, a smoke test
#include "logitnorm_torch.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

namespace F = torch::nn::functional;

namespace {

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median of `reps` timed runs (after one untimed run), in milliseconds; `value` gets the last loss.
double median_ms(int reps, const torch::Tensor &x, const std::function<torch::Tensor()> &step, double *value) {
  std::vector<double> t;
  for (int r = 0; r <= reps; r++) {
    double t0 = seconds_now();
    torch::Tensor loss = step();
    loss.backward();
    double t1 = seconds_now();
    *value = loss.item<double>();
    x.mutable_grad().reset();
    if (r > 0) t.push_back(1e3 * (t1 - t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char **argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  torch::set_num_threads(1);
  torch::manual_seed(1);
  const double tau = 0.04;
  const int64_t shapes[4][2] = {{65536, 10}, {16384, 100}, {4096, 1000}, {512, 32000}};
  const int reps = quick ? 1 : 15;
  std::printf("bench_libtorch: f32 forward + backward, MEAN, 1 thread%s; median ms of %d\n",
              quick ? " (quick: shapes / 64)" : "", reps);
  std::printf("%-11s %9s %9s %9s %11s %10s %10s %10s\n", "shape", "LN Func", "CE Func", "torch CE", "torch LN",
              "LN x comp", "LN x CE", "CE x CE");
  bool goal = true, agree = true;
  for (const auto &s : shapes) {
    const int64_t n = quick ? s[0] / 64 : s[0], c = s[1];
    torch::Tensor x = (torch::randn({n, c}) * 3.0).requires_grad_(true);
    torch::Tensor y = torch::randint(0, c, {n}, torch::kLong);
    logitnorm_torch::HandlePtr ln = logitnorm_torch::make_handle(LOGITNORM_LOSS_LOGITNORM, c);
    logitnorm_torch::detail::check(logitnorm_loss_set(ln->loss, LOGITNORM_LOSS_TEMPERATURE, tau), "set");
    logitnorm_torch::HandlePtr ce = logitnorm_torch::make_handle(LOGITNORM_LOSS_CROSS_ENTROPY, c);
    double v_ln, v_ce, v_tce, v_tln;
    double t_ln = median_ms(reps, x, [&] { return logitnorm_torch::loss(x, y, ln); }, &v_ln);
    double t_ce = median_ms(reps, x, [&] { return logitnorm_torch::loss(x, y, ce); }, &v_ce);
    double t_tce = median_ms(reps, x, [&] { return F::cross_entropy(x, y); }, &v_tce);
    double t_tln = median_ms(reps, x, [&] {
      auto norms = torch::norm(x, 2, {-1}, true) + 1e-7;
      return F::cross_entropy(x / norms / tau, y);
    }, &v_tln);
    // A cheap guard that the timed calls compute the same losses.
    if (std::abs(v_ln - v_tln) > 1e-4 * std::abs(v_tln) || std::abs(v_ce - v_tce) > 1e-4 * std::abs(v_tce))
      agree = false;
    char shape[32];
    std::snprintf(shape, sizeof shape, "%lldx%lld", (long long)n, (long long)c);
    std::printf("%-11s %9.3f %9.3f %9.3f %11.3f %10.1f %10.2f %10.2f\n", shape, t_ln, t_ce, t_tce, t_tln,
                t_tln / t_ln, t_tce / t_ln, t_tce / t_ce);
    if (t_tln / t_ln < 10.0 || t_tce / t_ln <= 1.0) goal = false;
  }
  std::printf("columns: LN/CE Func = logitnorm_torch::LossFunction with a LOGITNORM (tau %.2g) / CROSS_ENTROPY handle;\n"
              "torch CE = F::cross_entropy; torch LN = the LogitNorm composition; 'A x B' = time of B / time of A\n",
              tau);
  std::printf("goal (LN Func >= 10x the composition and faster than torch CE at every shape): %s\n",
              goal ? "met" : "NOT met");
  if (!agree) {
    std::fprintf(stderr, "bench_libtorch: the Function's losses differ from LibTorch's\n");
    return 1;
  }
  return 0;
}
