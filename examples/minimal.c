/* Smallest use of liblogitnorm: the LogitNorm loss and its gradient for a batch of 4. */
#include <stdio.h>

#include <logitnorm.h>

#define CHECK(call)                                                                           \
  do {                                                                                        \
    logitnorm_status st_ = (call);                                                            \
    if (st_ != LOGITNORM_OK) {                                                                \
      fprintf(stderr, "%s: %s (%s)\n", #call, logitnorm_status_string(st_), logitnorm_last_error()); \
      return 1;                                                                               \
    }                                                                                         \
  } while (0)

int main(void) {
  enum { N = 4, C = 3 };
  const float logits[N * C] = {2.0f, 0.5f, -1.0f, 0.1f, 0.2f, 3.0f, -0.3f, 1.5f, 0.0f, 4.0f, 4.0f, 4.0f};
  const int32_t labels[N] = {0, 2, 1, 1};
  float grad[N * C];
  double loss_value;

  logitnorm_loss *loss = NULL;
  CHECK(logitnorm_loss_create(&loss, LOGITNORM_LOSS_LOGITNORM, C));
  CHECK(logitnorm_loss_set(loss, LOGITNORM_LOSS_TEMPERATURE, 0.5));
  /* grad = 1 * d(mean loss)/d(logits) + 0 * grad */
  CHECK(logitnorm_loss_forward_backward_f32(loss, N, logits, C, labels, &loss_value, NULL, 1.0f, 0.0f, grad, C));
  printf("liblogitnorm %s\n", logitnorm_version_string());
  printf("mean LogitNorm loss (tau = 0.5): %.6f\n", loss_value);
  printf("gradient of row 0: [% .6f % .6f % .6f]\n", grad[0], grad[1], grad[2]);
  logitnorm_loss_free(loss);
  return 0;
}
