/* A fully connected ReLU network on flat parameter arrays, with BLIS GEMMs.

   Layout of the flat parameter array (and of the gradient and momentum arrays, which have
   the same shape): for each layer l, its weight W_l (out x in, row-major, like PyTorch's
   nn.Linear) followed by its bias b_l (out). Keeping everything in one array lets a caller
   average gradients across processes with a single reduction, or save a model with a single
   write. The network has no hidden state: activations live in a separate workspace. */
#ifndef EXAMPLES_MLP_H
#define EXAMPLES_MLP_H

#include <stdint.h>

#define MLP_MAX_LAYERS 8

typedef struct mlp {
  int num_layers;                      /* linear layers; ReLU after every one but the last */
  int64_t sizes[MLP_MAX_LAYERS + 1];   /* sizes[0] inputs, sizes[num_layers] outputs */
  int64_t weight_offset[MLP_MAX_LAYERS];
  int64_t bias_offset[MLP_MAX_LAYERS];
  int64_t num_params;
} mlp;

/* Activations of one batch: act[l] is the output of layer l (after ReLU for hidden layers),
   n x sizes[l + 1]; act[num_layers - 1] holds the logits. delta is scratch for backward. */
typedef struct mlp_workspace {
  int64_t capacity; /* rows */
  float *act[MLP_MAX_LAYERS];
  float *delta[2];
} mlp_workspace;

/* sizes has num_layers + 1 entries. Returns 0, or -1 for a bad shape. */
int mlp_init(mlp *net, int num_layers, const int64_t *sizes);
/* PyTorch's nn.Linear default: W and b uniform in +-1/sqrt(fan_in), from a seeded generator. */
void mlp_init_params(const mlp *net, float *params, uint64_t seed);

int mlp_workspace_alloc(mlp_workspace *ws, const mlp *net, int64_t capacity);
void mlp_workspace_free(mlp_workspace *ws);

/* Forward pass of n <= capacity rows of x (n x sizes[0], row-major). Returns the logits
   (n x sizes[num_layers], inside ws). */
float *mlp_forward(const mlp *net, const float *params, int64_t n, const float *x, mlp_workspace *ws);

/* Backward pass after mlp_forward on the same x and ws. dlogits (n x outputs) is dL/dlogits;
   grads gets dL/dparams (overwritten, not accumulated). dlogits may point into ws->delta. */
void mlp_backward(const mlp *net, const float *params, int64_t n, const float *x, mlp_workspace *ws,
                  const float *dlogits, float *grads);

/* dL/dx (n x sizes[0], row-major) after mlp_forward on the same x and ws, for a given
   dL/dlogits: the chain rule down to the input, without forming the parameter gradients
   (ODIN's input perturbation needs only this). dlogits may point into ws->delta. */
void mlp_input_grad(const mlp *net, const float *params, int64_t n, mlp_workspace *ws, const float *dlogits,
                    float *dx);

/* One step of SGD with (Nesterov) momentum and coupled weight decay, as torch.optim.SGD:
     d = g + wd * p;  v = mu * v + d  (v = d on the first step);  p -= lr * (nesterov ? d + mu * v : v) */
void sgd_step(int64_t count, float *params, const float *grads, float *velocity, float lr, float momentum,
              float weight_decay, int nesterov, int first_step);

/* Cosine annealing from lr_max at step 0 to lr_min at step total (the LogitNorm code's
   per-step schedule). */
float cosine_lr(int64_t step, int64_t total, float lr_max, float lr_min);

/* A small seeded generator (splitmix64 seeding xoshiro256**), so runs repeat exactly. */
typedef struct rng { uint64_t s[4]; } rng;
void rng_seed(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);
float rng_uniform(rng *r);                /* [0, 1) */
float rng_normal(rng *r);                 /* N(0, 1), Box-Muller */
void rng_shuffle(rng *r, int64_t *idx, int64_t n);

#endif
