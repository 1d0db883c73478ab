/* fann_hook: LogitNorm in FANN, trained through FANN's own fann_train.

   FANN trains towards desired outputs t. With a linear output layer of steepness 1 and the
   linear error function (FANN_ERRORFUNC_LINEAR), the error FANN backpropagates from output k
   is exactly t_k - o_k, and fann_train steps the weights along it. Choosing the pseudo-target
       t = o - dL/dz
   makes that error -dL/dz, so FANN takes a plain SGD step on any loss L of the outputs z = o.
   liblogitnorm computes t in one call with the BLAS-style arguments: t starts as a copy of o,
   then t = alpha * dL/dz + beta * t with alpha = -1, beta = 1.

   The task: three Gaussian blobs in the plane, a 2-16-3 network. The program exits non-zero
   unless the loss falls and the accuracy ends above 90%. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <floatfann.h>
#include <logitnorm.h>

#define CLASSES 3
#define SAMPLES 600

#define CHECK(call)                                                                                \
  do {                                                                                             \
    logitnorm_status st_ = (call);                                                                 \
    if (st_ != LOGITNORM_OK) {                                                                     \
      fprintf(stderr, "%s: %s (%s)\n", #call, logitnorm_status_string(st_), logitnorm_last_error()); \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double random_uniform(void) { /* xorshift64*, 53 bits */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}
static float random_normal(void) {
  double u1 = random_uniform() + 1e-12, u2 = random_uniform();
  return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* Mean loss and accuracy over the whole set: run FANN on every sample, then one loss call. */
static void evaluate(struct fann *ann, const logitnorm_loss *loss, float x[][2], const int32_t *y, double *mean_loss,
                     double *accuracy) {
  static float outputs[SAMPLES * CLASSES];
  int correct = 0;
  for (int i = 0; i < SAMPLES; i++) {
    const fann_type *o = fann_run(ann, x[i]);
    memcpy(outputs + i * CLASSES, o, CLASSES * sizeof(float));
    int best = 0;
    for (int k = 1; k < CLASSES; k++)
      if (o[k] > o[best]) best = k;
    correct += best == y[i];
  }
  CHECK(logitnorm_loss_forward_f32(loss, SAMPLES, outputs, CLASSES, y, mean_loss, NULL));
  *accuracy = (double)correct / SAMPLES;
}

int main(void) {
  /* Three blobs with centres on a circle of radius 2 and unit spread: they overlap a little. */
  static float x[SAMPLES][2];
  static int32_t y[SAMPLES];
  for (int i = 0; i < SAMPLES; i++) {
    y[i] = i % CLASSES;
    double angle = 2.0 * 3.141592653589793 * y[i] / CLASSES;
    x[i][0] = (float)(2.0 * cos(angle)) + 0.7f * random_normal();
    x[i][1] = (float)(2.0 * sin(angle)) + 0.7f * random_normal();
  }

  struct fann *ann = fann_create_standard(3, 2, 16, CLASSES);
  if (!ann) return 1;
  fann_set_activation_function_hidden(ann, FANN_SIGMOID_SYMMETRIC);
  fann_set_activation_function_output(ann, FANN_LINEAR);
  fann_set_activation_steepness_output(ann, 1.0f);          /* o = z, and do/dz = 1 */
  fann_set_train_error_function(ann, FANN_ERRORFUNC_LINEAR); /* error = t - o, unmodified */
  fann_set_learning_rate(ann, 0.05f);
  fann_set_learning_momentum(ann, 0.0f);
  fann_randomize_weights(ann, -0.3f, 0.3f);

  logitnorm_loss *loss = NULL;
  CHECK(logitnorm_loss_create(&loss, LOGITNORM_LOSS_LOGITNORM, CLASSES));
  CHECK(logitnorm_loss_set(loss, LOGITNORM_LOSS_TEMPERATURE, 0.2));

  double first_loss, loss_value, accuracy;
  evaluate(ann, loss, x, y, &first_loss, &accuracy);
  printf("FANN 2-16-%d, LogitNorm (tau = 0.2) through fann_train\n", CLASSES);
  printf("epoch  0  loss %.4f  accuracy %.3f\n", first_loss, accuracy);
  for (int epoch = 1; epoch <= 30; epoch++) {
    for (int i = 0; i < SAMPLES; i++) {
      int s = (int)(random_uniform() * SAMPLES); /* samples in random order */
      float target[CLASSES];
      const fann_type *o = fann_run(ann, x[s]);
      float z[CLASSES];
      memcpy(z, o, sizeof z); /* fann_train reuses the output buffer */
      memcpy(target, z, sizeof z);
      /* t = -1 * dL/dz + 1 * t = o - dL/dz */
      CHECK(logitnorm_loss_backward_f32(loss, 1, z, CLASSES, &y[s], NULL, -1.0f, 1.0f, target, CLASSES));
      fann_train(ann, x[s], target);
    }
    evaluate(ann, loss, x, y, &loss_value, &accuracy);
    if (epoch % 5 == 0) printf("epoch %2d  loss %.4f  accuracy %.3f\n", epoch, loss_value, accuracy);
  }
  int ok = loss_value < 0.8 * first_loss && accuracy > 0.9;
  printf("%s\n", ok ? "OK: the loss fell and the classes are separated" : "FAIL: FANN did not learn");
  logitnorm_loss_free(loss);
  fann_destroy(ann);
  return ok ? 0 : 1;
}
