// A LibTorch program built against the installed package: the LogitNorm loss of
// logitnorm_torch::LogitNormLoss and its gradient, against the same loss composed from LibTorch
// operations as the official LogitNorm code does (norm + 1e-7, divide, divide by tau,
// cross_entropy). Exits 1 when they differ.
#include <logitnorm_torch.h>

#include <cstdio>

int main() {
  const int64_t n = 6, c = 5;
  const double tau = 0.5;
  torch::manual_seed(3);
  torch::Tensor z = torch::randn({n, c}, torch::kDouble).requires_grad_(true);
  torch::Tensor y = torch::randint(0, c, {n}, torch::kLong);

  logitnorm_torch::LogitNormLoss criterion(logitnorm_torch::LogitNormLossOptions(c).temperature(tau));
  torch::Tensor loss = criterion(z, y);
  loss.backward();

  torch::Tensor z_ref = z.detach().clone().requires_grad_(true);
  torch::Tensor u = z_ref / ((z_ref.norm(2, 1, true) + 1e-7) * tau);
  torch::Tensor ref = torch::nn::functional::cross_entropy(u, y);
  ref.backward();

  const double loss_gap = std::abs(loss.item<double>() - ref.item<double>());
  const double grad_gap = (z.grad() - z_ref.grad()).abs().max().item<double>();
  std::printf("LogitNorm loss %.15f, LibTorch composition %.15f; largest gradient difference %.3g\n",
              loss.item<double>(), ref.item<double>(), grad_gap);
  return loss_gap <= 1e-12 * ref.item<double>() && grad_gap <= 1e-12 ? 0 : 1;
}
