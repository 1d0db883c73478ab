// The public header from C++: extern "C" linkage, a handle's life cycle and one loss call.
#include <logitnorm.h>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  logitnorm_loss *loss = nullptr;
  if (logitnorm_loss_create(&loss, LOGITNORM_LOSS_LOGITNORM, 3) != LOGITNORM_OK) return 1;
  std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  std::vector<int32_t> labels = {2};
  std::vector<float> grad(3);
  double value = 0.0;
  logitnorm_status st = logitnorm_loss_forward_backward_f32(loss, 1, logits.data(), 3, labels.data(), &value,
                                                            nullptr, 1.0f, 0.0f, grad.data(), 3);
  logitnorm_loss_free(loss);
  logitnorm_loss_free(nullptr);
  if (st != LOGITNORM_OK || !std::isfinite(value)) return 1;
  for (float g : grad)
    if (!std::isfinite(g)) return 1;
  std::printf("C++ consumer: loss %.6f\n", value);
  return 0;
}
