/* darknet_hook: LogitNorm inside darknet (Debian package `darknet`, pjreddie's C framework).

   darknet computes the loss in the forward pass of its final [softmax] layer. That forward
   function is reached through the layer's `forward` pointer, so replacing the pointer swaps
   the loss without touching darknet. The replacement has to leave the layer exactly as
   darknet's own softmax forward does:
     l.output  = softmax of the raw logits (what network_predict returns),
     l.delta   = -dL/dz, unscaled: darknet divides by the batch itself when it updates
                 the weights, so the loss is a SUM over the batch and alpha = -1,
     l.cost[0] = that summed loss.
   net.truth holds one row of class probabilities per sample (one-hot for plain labels), so
   the probability-target entry point of liblogitnorm takes it as it is.

   This file is built only where /usr/lib/darknet/libdarknet.so and its darknet.h exist. It is
   written against darknet's public header (struct layer, struct network, parse_network_cfg,
   train_network, network_predict, softmax); see docs/integration.md for what was checked. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, and the pthread types darknet.h uses */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <darknet.h>
#include <logitnorm.h>

#define INPUTS 8
#define CLASSES 4
#define SAMPLES 512 /* a multiple of the batch: darknet's train_network requires it */

/* The forward signature is fixed by darknet, so the loss handle is reached through a global,
   set once before training. Compute calls take a const handle, so sharing it is safe. */
static logitnorm_loss *g_loss;

static void logitnorm_softmax_forward(layer l, network net) {
  /* Prediction: the plain softmax of the raw logits, with darknet's own softmax. */
  for (int b = 0; b < l.batch; b++) softmax(net.input + b * l.inputs, l.inputs, 1.0f, 1, l.output + b * l.inputs);
  if (!net.truth) return; /* inference: no loss */
  double cost = 0.0;
  /* l.delta = -1 * d(sum of losses)/dz + 0 * l.delta */
  logitnorm_status st = logitnorm_loss_forward_backward_soft_f32(g_loss, l.batch, net.input, l.inputs, net.truth,
                                                                l.inputs, &cost, NULL, -1.0f, 0.0f, l.delta, l.inputs);
  if (st != LOGITNORM_OK) {
    fprintf(stderr, "LogitNorm softmax layer: %s (%s)\n", logitnorm_status_string(st), logitnorm_last_error());
    exit(1);
  }
  l.cost[0] = (float)cost;
}

static const char cfg_text[] =
    "[net]\n"
    "batch=32\n"
    "subdivisions=1\n"
    "height=1\n"
    "width=1\n"
    "channels=8\n"
    "learning_rate=0.05\n"
    "momentum=0.9\n"
    "decay=0.0005\n"
    "max_batches=10000\n"
    "policy=constant\n"
    "\n"
    "[connected]\n"
    "output=32\n"
    "activation=relu\n"
    "\n"
    "[connected]\n"
    "output=4\n"
    "activation=linear\n"
    "\n"
    "[softmax]\n"
    "groups=1\n";

/* parse_network_cfg reads a file, so the cfg string goes through a temporary file. */
static network *network_from_cfg_string(const char *text) {
  char path[] = "/tmp/logitnorm_darknet_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return NULL;
  size_t len = strlen(text);
  int ok = write(fd, text, len) == (ssize_t)len;
  close(fd);
  network *net = ok ? parse_network_cfg(path) : NULL;
  unlink(path);
  return net;
}

int main(void) {
  network *net = network_from_cfg_string(cfg_text);
  if (!net) {
    fprintf(stderr, "cannot build the network\n");
    return 1;
  }
  layer *last = &net->layers[net->n - 1];
  if (last->type != SOFTMAX || last->groups != 1 || last->softmax_tree || last->inputs != CLASSES) {
    fprintf(stderr, "the last layer is not a plain [softmax] over %d classes\n", CLASSES);
    return 1;
  }
  if (logitnorm_loss_create(&g_loss, LOGITNORM_LOSS_LOGITNORM, CLASSES) != LOGITNORM_OK ||
      logitnorm_loss_set(g_loss, LOGITNORM_LOSS_TEMPERATURE, 0.1) != LOGITNORM_OK ||
      logitnorm_loss_set(g_loss, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM) != LOGITNORM_OK) {
    fprintf(stderr, "liblogitnorm: %s\n", logitnorm_last_error());
    return 1;
  }
  last->forward = logitnorm_softmax_forward; /* the hook */

  /* Synthetic data: class c has mean +1 on input c and input c + 4, noise N(0, 0.5^2). */
  data d = {0};
  d.X = make_matrix(SAMPLES, INPUTS);
  d.y = make_matrix(SAMPLES, CLASSES);
  srand(7);
  for (int i = 0; i < SAMPLES; i++) {
    int c = i % CLASSES;
    for (int j = 0; j < INPUTS; j++) {
      double u1 = (rand() + 1.0) / ((double)RAND_MAX + 2.0), u2 = rand() / ((double)RAND_MAX + 1.0);
      double noise = 0.5 * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
      d.X.vals[i][j] = (float)((j % CLASSES == c ? 1.0 : 0.0) + noise);
    }
    d.y.vals[i][c] = 1.0f; /* make_matrix zero-fills */
  }

  float first = 0.0f, loss_value = 0.0f;
  for (int epoch = 1; epoch <= 40; epoch++) {
    loss_value = train_network(net, d); /* mean per-sample loss, from l.cost[0] */
    if (epoch == 1) first = loss_value;
    if (epoch % 10 == 0 || epoch == 1) printf("epoch %2d  LogitNorm loss %.4f\n", epoch, loss_value);
  }
  int correct = 0;
  set_batch_network(net, 1);
  for (int i = 0; i < SAMPLES; i++) {
    float *p = network_predict(net, d.X.vals[i]);
    correct += max_index(p, CLASSES) == i % CLASSES;
  }
  double accuracy = (double)correct / SAMPLES;
  int ok = loss_value < 0.8f * first && accuracy > 0.8;
  printf("accuracy %.3f; %s\n", accuracy, ok ? "OK: the loss fell" : "FAIL");
  free_data(d);
  free_network(net);
  logitnorm_loss_free(g_loss);
  return ok ? 0 : 1;
}
