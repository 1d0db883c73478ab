// bench_libtorch: forward + backward of logitnorm_torch::LossFunction (MEAN reduction, int64 labels,
// f32) against LibTorch's own fused torch::nn::functional::cross_entropy and its composition of
// the official LogitNorm (norm + 1e-7, divide, divide by tau, cross_entropy), on the same tensors,
// with one LibTorch thread and THREADS = 1, at the shapes of tests/bench/bench_loss.c.
// Each timed step is what a trainer does: loss = f(x, y); loss.backward(); x.grad reset.
// bf16 columns: the Function on bf16 logits (the _bf16 entry points, the gradient in bf16)
// against LibTorch's upcast recipe, which a trainer with bf16 logits uses without the library:
// x.to(kFloat), then cross_entropy or the LogitNorm composition, and autograd casts the float
// gradient back to bf16 (the backward of .to()).
// The columns take turns step by step; prints each one's median time and the ratios; goal: the
// f32 LogitNorm Function at least 10x faster than the composition and faster than the fused
// cross_entropy at every shape.
//   bench_libtorch [--quick]     --quick: shapes / 64 and 1 repetition, a smoke test
#include <logitnorm_torch.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace F = torch::nn::functional;

namespace {

// CPU time of this thread: with one LibTorch thread, THREADS = 1 and a CPU graph, the whole step
// (autograd included) runs on the calling thread, and its CPU time is less sensitive to other
// load on a shared machine than the wall time.
double seconds_now() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// One timed step of a trainer: loss = step(); loss.backward(); in ms; `value` gets the loss, and
// x.grad is reset (untimed).
double step_ms(const torch::Tensor &x, const std::function<torch::Tensor()> &step, double *value) {
  double t0 = seconds_now();
  torch::Tensor loss = step();
  loss.backward();
  double t1 = seconds_now();
  *value = loss.item<double>();
  x.mutable_grad().reset();
  return 1e3 * (t1 - t0);
}

// The library alone on the same data: the call the Function makes (forward_backward) into a
// preallocated gradient g, in ms.
double library_step_ms(const logitnorm_torch::HandlePtr &h, const torch::Tensor &x, const torch::Tensor &y32,
                       torch::Tensor &g) {
  const int64_t n = x.size(0), c = x.size(1);
  double loss, t0 = seconds_now();
  logitnorm_torch::detail::check(logitnorm_loss_forward_backward_f32(h->loss, n, x.data_ptr<float>(), c,
                                     y32.data_ptr<int32_t>(), &loss, nullptr, 1.0f, 0.0f, g.data_ptr<float>(), c),
                                 "forward_backward");
  return 1e3 * (seconds_now() - t0);
}

double median(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char **argv) {
  bool quick = false;
  // --only <column>: time one column (for a profiler)
  const char *names = "ln|ln_stats|ce|torch_ce|torch_ln|lib|ln_bf16|ce_bf16|torch_ce_bf16|torch_ln_bf16";
  std::string only;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc)
      only = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_libtorch [--quick] [--only %s]\n", names);
      return 2;
    }
  }
  torch::set_num_threads(1);
  torch::manual_seed(1);
  const double tau = 0.04;
  const int64_t shapes[4][2] = {{65536, 10}, {16384, 100}, {4096, 1000}, {512, 32000}};
  const int reps = quick ? 1 : 15;
  std::printf("bench_libtorch: f32 forward + backward, MEAN, 1 thread%s; median thread CPU ms of %d\n",
              quick ? " (quick: shapes / 64)" : "", reps);
  std::printf("%-11s %8s %8s %8s %8s %9s %10s %9s %8s %8s\n", "shape", "lib", "LN Func", "LN stats", "CE Func",
              "torch CE", "torch LN", "LN x comp", "LN x CE", "CE x CE");
  bool goal = true, agree = true;
  std::vector<std::string> bf16_rows;  // the bf16 table, printed after the f32 one
  for (const auto &s : shapes) {
    const int64_t n = quick ? s[0] / 64 : s[0], c = s[1];
    torch::Tensor x = (torch::randn({n, c}) * 3.0).requires_grad_(true);
    torch::Tensor y = torch::randint(0, c, {n}, torch::kLong);
    logitnorm_torch::HandlePtr ln = logitnorm_torch::make_handle(LOGITNORM_LOSS_LOGITNORM, c);
    logitnorm_torch::detail::check(logitnorm_loss_set(ln->loss, LOGITNORM_LOSS_TEMPERATURE, tau), "set");
    logitnorm_torch::HandlePtr ln_stats = logitnorm_torch::make_handle(LOGITNORM_LOSS_LOGITNORM, c);
    logitnorm_torch::detail::check(logitnorm_loss_set(ln_stats->loss, LOGITNORM_LOSS_TEMPERATURE, tau), "set");
    ln_stats->grad_in_forward = false;
    logitnorm_torch::HandlePtr ce = logitnorm_torch::make_handle(LOGITNORM_LOSS_CROSS_ENTROPY, c);
    // the bf16 columns: their own handles (and gradient pools), the same values rounded to bf16
    torch::Tensor x16 = x.detach().to(torch::kBFloat16).requires_grad_(true);
    logitnorm_torch::HandlePtr ln16 = logitnorm_torch::make_handle(LOGITNORM_LOSS_LOGITNORM, c);
    logitnorm_torch::detail::check(logitnorm_loss_set(ln16->loss, LOGITNORM_LOSS_TEMPERATURE, tau), "set");
    logitnorm_torch::HandlePtr ce16 = logitnorm_torch::make_handle(LOGITNORM_LOSS_CROSS_ENTROPY, c);
    double v_ln = 0, v_lns = 0, v_ce = 0, v_tce = 0, v_tln = 0, v_ln16 = 0, v_ce16 = 0, v_tce16 = 0, v_tln16 = 0;
    double t_lib = 0, t_ln = 0, t_lns = 0, t_ce = 0, t_tce = 0, t_tln = 0, t_ln16 = 0, t_ce16 = 0, t_tce16 = 0,
           t_tln16 = 0;
    auto want = [&](const char *name) { return only.empty() || only == name; };
    const torch::Tensor xd = x.detach(), y32 = y.to(torch::kInt);
    torch::Tensor g = torch::empty({n, c});
    // The columns take turns, so that a change in the machine's load falls on all of them alike:
    // in each round every column runs an untimed step (which warms the caches and the allocator
    // for it, as its predecessor in a trainer's loop would) and a timed one; each column's median
    // over the rounds.
    struct column {
      const char *name;
      double *median;
      std::function<double()> step;
      std::vector<double> t;
    };
    std::vector<column> cols = {
        {"lib", &t_lib, [&] { return library_step_ms(ln, xd, y32, g); }, {}},
        {"ln", &t_ln, [&] { return step_ms(x, [&] { return logitnorm_torch::loss(x, y, ln); }, &v_ln); }, {}},
        {"ln_stats", &t_lns, [&] { return step_ms(x, [&] { return logitnorm_torch::loss(x, y, ln_stats); }, &v_lns); },
         {}},
        {"ce", &t_ce, [&] { return step_ms(x, [&] { return logitnorm_torch::loss(x, y, ce); }, &v_ce); }, {}},
        {"torch_ce", &t_tce, [&] { return step_ms(x, [&] { return F::cross_entropy(x, y); }, &v_tce); }, {}},
        {"torch_ln", &t_tln,
         [&] {
           return step_ms(x, [&] {
             auto norms = torch::norm(x, 2, {-1}, true) + 1e-7;
             return F::cross_entropy(x / norms / tau, y);
           }, &v_tln);
         },
         {}},
        {"ln_bf16", &t_ln16, [&] { return step_ms(x16, [&] { return logitnorm_torch::loss(x16, y, ln16); }, &v_ln16); },
         {}},
        {"ce_bf16", &t_ce16, [&] { return step_ms(x16, [&] { return logitnorm_torch::loss(x16, y, ce16); }, &v_ce16); },
         {}},
        {"torch_ce_bf16", &t_tce16,
         [&] { return step_ms(x16, [&] { return F::cross_entropy(x16.to(torch::kFloat), y); }, &v_tce16); }, {}},
        {"torch_ln_bf16", &t_tln16,
         [&] {
           return step_ms(x16, [&] {
             auto xf = x16.to(torch::kFloat);
             auto norms = torch::norm(xf, 2, {-1}, true) + 1e-7;
             return F::cross_entropy(xf / norms / tau, y);
           }, &v_tln16);
         },
         {}},
    };
    for (int r = 0; r < reps; r++)
      for (auto &col : cols)
        if (want(col.name)) {
          col.step();
          col.t.push_back(col.step());
        }
    for (auto &col : cols)
      if (!col.t.empty()) *col.median = median(col.t);
    if (!only.empty()) {
      std::printf("%lldx%lld %s: %.3f ms\n", (long long)n, (long long)c, only.c_str(),
                  t_lib + t_ln + t_lns + t_ce + t_tce + t_tln + t_ln16 + t_ce16 + t_tce16 + t_tln16);
      continue;
    }
    // A cheap guard that the timed calls compute the same losses.
    if (std::abs(v_ln - v_tln) > 1e-4 * std::abs(v_tln) || std::abs(v_lns - v_tln) > 1e-4 * std::abs(v_tln) ||
        std::abs(v_ce - v_tce) > 1e-4 * std::abs(v_tce) || std::abs(v_ln16 - v_tln16) > 1e-4 * std::abs(v_tln16) ||
        std::abs(v_ce16 - v_tce16) > 1e-4 * std::abs(v_tce16))
      agree = false;
    char shape[32];
    std::snprintf(shape, sizeof shape, "%lldx%lld", (long long)n, (long long)c);
    std::printf("%-11s %8.3f %8.3f %8.3f %8.3f %9.3f %10.3f %9.1f %8.2f %8.2f\n", shape, t_lib, t_ln, t_lns, t_ce,
                t_tce, t_tln, t_tln / t_ln, t_tce / t_ln, t_tce / t_ce);
    if (t_tln / t_ln < 10.0 || t_tce / t_ln <= 1.0) goal = false;
    char row[160];
    std::snprintf(row, sizeof row, "%-11s %8.3f %8.3f %9.3f %9.3f %9.2f %9.2f %9.1f %9.2f", shape, t_ln16, t_ce16,
                  t_tce16, t_tln16, t_ln16 / t_ln, t_ce16 / t_ce, t_tln16 / t_ln16, t_tce16 / t_ce16);
    bf16_rows.push_back(row);
  }
  if (!only.empty()) return 0;
  std::printf("\nbf16 logits, the same rounds: median thread CPU ms\n");
  std::printf("%-11s %8s %8s %9s %9s %9s %9s %9s %9s\n", "shape", "LN bf16", "CE bf16", "torch CE", "torch LN",
              "LN/LN32", "CE/CE32", "LN x comp", "CE x CE");
  for (const auto &row : bf16_rows) std::printf("%s\n", row.c_str());
  std::printf("columns: lib = forward_backward called directly into a preallocated gradient (LOGITNORM);\n"
              "LN/CE Func = logitnorm_torch::LossFunction with a LOGITNORM (tau %.2g) / CROSS_ENTROPY handle\n"
              "(gradient computed in the forward), loss.backward() included; LN stats = the LOGITNORM Function\n"
              "with grad_in_forward = false (forward_stats, then backward_stats); torch CE = F::cross_entropy;\n"
              "torch LN = the LogitNorm composition; 'A x B' = time of B / time of A\n"
              "bf16 table: LN/CE bf16 = the Functions on bf16 logits (gradient in bf16); torch CE / LN = LibTorch's\n"
              "upcast recipe (x.to(kFloat), cross_entropy or the composition, the gradient cast back to bf16 by\n"
              "autograd); LN/LN32, CE/CE32 = time of the bf16 Function / the f32 one\n",
              tau);
  std::printf("goal (LN Func >= 10x the composition and faster than torch CE at every shape): %s\n",
              goal ? "met" : "NOT met");
  if (!agree) {
    std::fprintf(stderr, "bench_libtorch: the Function's losses differ from LibTorch's\n");
    return 1;
  }
  return 0;
}
