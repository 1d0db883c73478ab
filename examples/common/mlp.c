/* MLP forward/backward with bli_sgemm. Transposes are expressed through BLIS's row and column
   strides, so no matrix is ever copied in the training loop. */
#define _POSIX_C_SOURCE 200809L /* blis.h needs the POSIX thread types */
#include "mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <blis.h>

#define MLP_PI 3.14159265358979323846

int mlp_init(mlp *net, int num_layers, const int64_t *sizes) {
  if (num_layers < 1 || num_layers > MLP_MAX_LAYERS) return -1;
  memset(net, 0, sizeof *net);
  net->num_layers = num_layers;
  int64_t offset = 0;
  for (int l = 0; l <= num_layers; l++) {
    if (sizes[l] < 1) return -1;
    net->sizes[l] = sizes[l];
  }
  for (int l = 0; l < num_layers; l++) {
    net->weight_offset[l] = offset;
    offset += sizes[l + 1] * sizes[l];
    net->bias_offset[l] = offset;
    offset += sizes[l + 1];
  }
  net->num_params = offset;
  return 0;
}

void mlp_init_params(const mlp *net, float *params, uint64_t seed) {
  rng r;
  rng_seed(&r, seed);
  for (int l = 0; l < net->num_layers; l++) {
    int64_t in = net->sizes[l], out = net->sizes[l + 1];
    float bound = 1.0f / sqrtf((float)in);
    float *w = params + net->weight_offset[l], *b = params + net->bias_offset[l];
    for (int64_t i = 0; i < out * in; i++) w[i] = bound * (2.0f * rng_uniform(&r) - 1.0f);
    for (int64_t i = 0; i < out; i++) b[i] = bound * (2.0f * rng_uniform(&r) - 1.0f);
  }
}

int mlp_workspace_alloc(mlp_workspace *ws, const mlp *net, int64_t capacity) {
  memset(ws, 0, sizeof *ws);
  ws->capacity = capacity;
  int64_t widest = 0;
  for (int l = 0; l < net->num_layers; l++) {
    ws->act[l] = malloc((size_t)(capacity * net->sizes[l + 1]) * sizeof(float));
    if (!ws->act[l]) goto fail;
    if (net->sizes[l + 1] > widest) widest = net->sizes[l + 1];
  }
  for (int i = 0; i < 2; i++) {
    ws->delta[i] = malloc((size_t)(capacity * widest) * sizeof(float));
    if (!ws->delta[i]) goto fail;
  }
  return 0;
fail:
  mlp_workspace_free(ws);
  return -1;
}

void mlp_workspace_free(mlp_workspace *ws) {
  for (int l = 0; l < MLP_MAX_LAYERS; l++) free(ws->act[l]);
  free(ws->delta[0]);
  free(ws->delta[1]);
  memset(ws, 0, sizeof *ws);
}

/* C (m x n) = alpha * A (m x k) * B (k x n) + beta * C, each with explicit (row, column) strides. */
static void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t rsa, int64_t csa,
                  const float *b, int64_t rsb, int64_t csb, float beta, float *c, int64_t rsc, int64_t csc) {
  bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k, &alpha, (float *)a,
            (inc_t)rsa, (inc_t)csa, (float *)b, (inc_t)rsb, (inc_t)csb, &beta, c, (inc_t)rsc, (inc_t)csc);
}

float *mlp_forward(const mlp *net, const float *params, int64_t n, const float *x, mlp_workspace *ws) {
  const float *in_act = x;
  for (int l = 0; l < net->num_layers; l++) {
    int64_t in = net->sizes[l], out = net->sizes[l + 1];
    const float *w = params + net->weight_offset[l], *b = params + net->bias_offset[l];
    float *h = ws->act[l];
    /* h = b broadcast over rows, then h += x W^T: W^T is W read with strides (1, in). */
    for (int64_t i = 0; i < n; i++) memcpy(h + i * out, b, (size_t)out * sizeof(float));
    sgemm(n, out, in, 1.0f, in_act, in, 1, w, 1, in, 1.0f, h, out, 1);
    if (l + 1 < net->num_layers)
      for (int64_t i = 0; i < n * out; i++) h[i] = h[i] > 0.0f ? h[i] : 0.0f; /* ReLU */
    in_act = h;
  }
  return ws->act[net->num_layers - 1];
}

void mlp_backward(const mlp *net, const float *params, int64_t n, const float *x, mlp_workspace *ws,
                  const float *dlogits, float *grads) {
  const float *delta = dlogits; /* dL/d(pre-activation) of layer l, n x out */
  for (int l = net->num_layers - 1; l >= 0; l--) {
    int64_t in = net->sizes[l], out = net->sizes[l + 1];
    const float *in_act = l == 0 ? x : ws->act[l - 1];
    float *gw = grads + net->weight_offset[l], *gb = grads + net->bias_offset[l];
    /* dW = delta^T x: delta^T is delta read with strides (1, out). */
    sgemm(out, in, n, 1.0f, delta, 1, out, in_act, in, 1, 0.0f, gw, in, 1);
    /* db = column sums of delta */
    memset(gb, 0, (size_t)out * sizeof(float));
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < out; j++) gb[j] += delta[i * out + j];
    if (l == 0) break; /* no gradient with respect to the input is needed */
    /* d(in_act) = delta W, then through the ReLU of layer l - 1: zero where its output was 0. */
    float *next = delta == ws->delta[0] ? ws->delta[1] : ws->delta[0];
    const float *w = params + net->weight_offset[l];
    sgemm(n, in, out, 1.0f, delta, out, 1, w, in, 1, 0.0f, next, in, 1);
    for (int64_t i = 0; i < n * in; i++)
      if (in_act[i] <= 0.0f) next[i] = 0.0f;
    delta = next;
  }
}

void mlp_input_grad(const mlp *net, const float *params, int64_t n, mlp_workspace *ws, const float *dlogits,
                    float *dx) {
  const float *delta = dlogits;
  for (int l = net->num_layers - 1; l >= 0; l--) {
    int64_t in = net->sizes[l], out = net->sizes[l + 1];
    const float *w = params + net->weight_offset[l];
    /* d(input of layer l) = delta W; below layer 0 that is dL/dx, elsewhere it goes through
       the ReLU of layer l - 1 (zero where its output was 0). */
    float *next = l == 0 ? dx : delta == ws->delta[0] ? ws->delta[1] : ws->delta[0];
    sgemm(n, in, out, 1.0f, delta, out, 1, w, in, 1, 0.0f, next, in, 1);
    if (l > 0) {
      const float *in_act = ws->act[l - 1];
      for (int64_t i = 0; i < n * in; i++)
        if (in_act[i] <= 0.0f) next[i] = 0.0f;
    }
    delta = next;
  }
}

void sgd_step(int64_t count, float *params, const float *grads, float *velocity, float lr, float momentum,
              float weight_decay, int nesterov, int first_step) {
  for (int64_t i = 0; i < count; i++) {
    float d = grads[i] + weight_decay * params[i];
    float v = first_step ? d : momentum * velocity[i] + d;
    velocity[i] = v;
    params[i] -= lr * (nesterov ? d + momentum * v : v);
  }
}

float cosine_lr(int64_t step, int64_t total, float lr_max, float lr_min) {
  double t = total > 0 ? (double)step / (double)total : 1.0;
  return (float)(lr_min + (lr_max - lr_min) * 0.5 * (1.0 + cos(MLP_PI * t)));
}

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void rng_seed(rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

float rng_uniform(rng *r) { return (float)(rng_next(r) >> 40) * (1.0f / 16777216.0f); /* 24 bits */ }

float rng_normal(rng *r) {
  /* Box-Muller with u1 in (0, 1] so the log is finite. */
  double u1 = ((double)(rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
  double u2 = (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
  return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * MLP_PI * u2));
}

void rng_shuffle(rng *r, int64_t *idx, int64_t n) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)(rng_next(r) % (uint64_t)(i + 1)); /* modulo bias is negligible here */
    int64_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}
