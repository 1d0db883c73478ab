// A C++ trainer's view: RAII ownership of a liblogitnorm handle, one fused loss call.
#include <logitnorm.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

void check(logitnorm_status st) {
  if (st != LOGITNORM_OK)
    throw std::runtime_error(std::string(logitnorm_status_string(st)) + ": " + logitnorm_last_error());
}

struct LossDeleter {
  void operator()(logitnorm_loss *p) const { logitnorm_loss_free(p); }
};
using Loss = std::unique_ptr<logitnorm_loss, LossDeleter>;

Loss make_logitnorm(int64_t classes, double tau) {
  logitnorm_loss *raw = nullptr;
  check(logitnorm_loss_create(&raw, LOGITNORM_LOSS_LOGITNORM, classes));
  Loss loss(raw);
  check(logitnorm_loss_set(loss.get(), LOGITNORM_LOSS_TEMPERATURE, tau));
  return loss;
}

}  // namespace

int main() {
  try {
    const int64_t n = 2, classes = 4;
    Loss loss = make_logitnorm(classes, 0.1);
    std::vector<float> logits = {0.5f, -1.0f, 2.0f, 0.0f, 1.0f, 1.0f, -2.0f, 3.0f};
    std::vector<int32_t> labels = {2, 3};
    std::vector<float> grad(logits.size());
    double value = 0.0;
    check(logitnorm_loss_forward_backward_f32(loss.get(), n, logits.data(), classes, labels.data(), &value, nullptr,
                                              1.0f, 0.0f, grad.data(), classes));
    std::printf("liblogitnorm %s from C++: loss %.6f, grad[0] %.6f\n", logitnorm_version_string(), value, grad[0]);
    // A bad label is reported, not crashed on.
    labels[1] = 7;
    logitnorm_status st = logitnorm_loss_forward_f32(loss.get(), n, logits.data(), classes, labels.data(), &value,
                                                     nullptr);
    if (st != LOGITNORM_ERR_INVALID_LABEL) return 1;
    std::printf("bad label rejected: %s\n", logitnorm_last_error());
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
