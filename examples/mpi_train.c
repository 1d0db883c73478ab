/* Data-parallel training of the demo MLP over MPI, and exact distributed OOD evaluation.

   Training: every rank holds the same parameters. Each global batch of B rows is cut into P
   disjoint contiguous shards, one per rank. Each rank computes the loss of its shard with SUM
   reduction and alpha = 1 / D, where D is the MEAN divisor of the GLOBAL batch (the sum of the
   target-class weights of its non-ignored rows; D = B without class weights and ignore_index).
   The gradients are summed with MPI_Allreduce, so every rank holds
       sum over ranks of (1/D) * dL_shard/dparams = d(global MEAN loss)/dparams
   and applies the same SGD step. 1 and P ranks differ only by the order of the float sums.

   Evaluation: each rank scores its shard of the ID and OOD test sets (MSP on the raw logits)
   into its own logitnorm_metrics and logitnorm_calibration, saves them to blobs, and rank 0
   gathers the blobs (sizes with MPI_Gather, bytes with MPI_Gatherv), loads and merges them.
   With --check, rank 0 also feeds all scores to one accumulator and requires bitwise equality.

     mpirun -np 2 mpi_train --synthetic --steps 200 --check --out run2.bin
     mpi_train --compare run1.bin run2.bin          (1-rank vs 2-rank weights and loss curve)

   See docs/distributed.md. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "logitnorm.h"
#include "common/mlp.h"

#define IGNORE_INDEX (-100)
#define EVAL_CHUNK 256
#define RUN_MAGIC "LNMPIRUN" /* 8 bytes: header of the --out file */

typedef struct options {
  int64_t steps, batch, hidden;
  int64_t n_train, n_test, n_ood, dim, classes;
  float lr, momentum, weight_decay;
  double tau;
  int logitnorm;      /* 0: cross-entropy, 1: LogitNorm */
  int class_weights;  /* 1: class c has weight 1 + c / (C - 1) */
  double ignore_frac; /* fraction of training labels set to ignore_index */
  int per_rank_mean;  /* 1: the WRONG normalisation (MEAN per rank, averaged), for comparison */
  int check;
  uint64_t seed;
  const char *out;
  const char *compare_a, *compare_b;
  double tolerance;
  int expect_differ;
} options;

/* The synthetic task: C Gaussian classes in `dim` dimensions, and OOD samples from a narrow
   Gaussian at the origin, between the classes. Every rank builds the same data from the same
   seed (a real trainer would read only its shards). */
typedef struct task {
  int64_t dim, classes;
  int64_t n_train, n_test, n_ood;
  float *x_train, *x_test, *x_ood;
  int32_t *y_train, *y_test;
} task;

typedef struct mpi_ctx {
  int rank, size;
} mpi_ctx;

/* ---------------------------------------------------------------- errors */

static void die(const char *what) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  fprintf(stderr, "mpi_train: rank %d: %s\n", rank, what);
  MPI_Abort(MPI_COMM_WORLD, 1);
  exit(1); /* not reached */
}

/* Every library call goes through this: a failure ends the whole job with the detail text. */
static void ln_ok(logitnorm_status s, const char *call) {
  if (s == LOGITNORM_OK) return;
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s (%s)", call, logitnorm_status_string(s), logitnorm_last_error());
  die(msg);
}
#define LN_OK(call) ln_ok((call), #call)

static void *xcalloc(size_t count, size_t size) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p) die("out of memory");
  return p;
}

/* ---------------------------------------------------------------- shards */

/* Rows [shard_begin(n, r, P), shard_begin(n, r + 1, P)) belong to rank r: contiguous blocks
   whose sizes differ by at most one. */
static int64_t shard_begin(int64_t n, int rank, int size) { return n * rank / size; }

/* ---------------------------------------------------------------- data */

static void fill_class_samples(rng *r, const float *means, int64_t n, int64_t dim, int64_t classes, float *x,
                               int32_t *y) {
  for (int64_t i = 0; i < n; i++) {
    int32_t c = (int32_t)(rng_next(r) % (uint64_t)classes);
    for (int64_t j = 0; j < dim; j++) x[i * dim + j] = means[c * dim + j] + rng_normal(r);
    y[i] = c;
  }
}

static void task_make(task *t, const options *o) {
  rng r;
  rng_seed(&r, o->seed ^ 0x5eedda7aull);
  t->dim = o->dim;
  t->classes = o->classes;
  t->n_train = o->n_train;
  t->n_test = o->n_test;
  t->n_ood = o->n_ood;
  float *means = xcalloc((size_t)(o->classes * o->dim), sizeof(float));
  /* Means N(0, I) and unit noise: in 16 dimensions two means are about sqrt(32) = 5.7 apart,
     so the classes overlap a little and accuracy and calibration are not trivial. */
  for (int64_t i = 0; i < o->classes * o->dim; i++) means[i] = 1.0f * rng_normal(&r);
  t->x_train = xcalloc((size_t)(t->n_train * t->dim), sizeof(float));
  t->y_train = xcalloc((size_t)t->n_train, sizeof(int32_t));
  t->x_test = xcalloc((size_t)(t->n_test * t->dim), sizeof(float));
  t->y_test = xcalloc((size_t)t->n_test, sizeof(int32_t));
  t->x_ood = xcalloc((size_t)(t->n_ood * t->dim), sizeof(float));
  fill_class_samples(&r, means, t->n_train, t->dim, t->classes, t->x_train, t->y_train);
  fill_class_samples(&r, means, t->n_test, t->dim, t->classes, t->x_test, t->y_test);
  for (int64_t i = 0; i < t->n_ood * t->dim; i++) t->x_ood[i] = 0.5f * rng_normal(&r);
  /* Some training rows are unlabelled: they carry ignore_index and must not count in the
     MEAN divisor. */
  for (int64_t i = 0; i < t->n_train; i++)
    if (rng_uniform(&r) < (float)o->ignore_frac) t->y_train[i] = IGNORE_INDEX;
  free(means);
}

static void task_free(task *t) {
  free(t->x_train);
  free(t->y_train);
  free(t->x_test);
  free(t->y_test);
  free(t->x_ood);
}

/* ---------------------------------------------------------------- loss normalisation */

/* Sum of the target-class weights of the rows that are not ignored: PyTorch's MEAN divisor. */
static double target_weight_sum(const int32_t *labels, int64_t n, const float *weights) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; i++) {
    if (labels[i] == IGNORE_INDEX) continue;
    sum += weights ? (double)weights[labels[i]] : 1.0;
  }
  return sum;
}

/* ---------------------------------------------------------------- training */

typedef struct trainer {
  mlp net;
  float *params, *grads, *velocity;
  mlp_workspace ws;
  float *xb, *dlogits;
  int32_t *yb;
  float *class_weights; /* NULL or C values */
  logitnorm_loss *loss;  /* SUM (or MEAN with --per-rank-mean) */
  /* --check on rank 0: the whole global batch through one MEAN loss, as a single process */
  logitnorm_loss *loss_mean;
  mlp_workspace ws_full;
  float *grads_full, *dlogits_full;
} trainer;

static logitnorm_loss *make_loss(const options *o, logitnorm_reduction reduction, const float *weights) {
  logitnorm_loss *loss = NULL;
  LN_OK(logitnorm_loss_create(&loss, o->logitnorm ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY,
                              o->classes));
  if (o->logitnorm) LN_OK(logitnorm_loss_set(loss, LOGITNORM_LOSS_TEMPERATURE, o->tau));
  LN_OK(logitnorm_loss_set(loss, LOGITNORM_LOSS_REDUCTION, (double)reduction));
  LN_OK(logitnorm_loss_set(loss, LOGITNORM_LOSS_IGNORE_INDEX, (double)IGNORE_INDEX));
  if (weights) LN_OK(logitnorm_loss_set_class_weights(loss, weights));
  return loss;
}

static void trainer_init(trainer *t, const options *o, const mpi_ctx *mc) {
  memset(t, 0, sizeof *t);
  int64_t sizes[4] = {o->dim, o->hidden, o->hidden, o->classes};
  if (mlp_init(&t->net, 3, sizes)) die("bad network shape");
  int64_t np = t->net.num_params;
  t->params = xcalloc((size_t)np, sizeof(float));
  t->grads = xcalloc((size_t)np, sizeof(float));
  t->velocity = xcalloc((size_t)np, sizeof(float));
  mlp_init_params(&t->net, t->params, o->seed); /* the same seed on every rank: same start */
  int64_t cap = o->batch > EVAL_CHUNK ? o->batch : EVAL_CHUNK;
  if (mlp_workspace_alloc(&t->ws, &t->net, cap)) die("out of memory");
  t->xb = xcalloc((size_t)(o->batch * o->dim), sizeof(float));
  t->yb = xcalloc((size_t)o->batch, sizeof(int32_t));
  t->dlogits = xcalloc((size_t)(o->batch * o->classes), sizeof(float));
  if (o->class_weights) {
    t->class_weights = xcalloc((size_t)o->classes, sizeof(float));
    for (int64_t c = 0; c < o->classes; c++)
      t->class_weights[c] = 1.0f + (float)c / (float)(o->classes > 1 ? o->classes - 1 : 1);
  }
  t->loss = make_loss(o, o->per_rank_mean ? LOGITNORM_REDUCTION_MEAN : LOGITNORM_REDUCTION_SUM, t->class_weights);
  if (o->check && mc->rank == 0) {
    t->loss_mean = make_loss(o, LOGITNORM_REDUCTION_MEAN, t->class_weights);
    if (mlp_workspace_alloc(&t->ws_full, &t->net, o->batch)) die("out of memory");
    t->grads_full = xcalloc((size_t)np, sizeof(float));
    t->dlogits_full = xcalloc((size_t)(o->batch * o->classes), sizeof(float));
  }
}

static void trainer_free(trainer *t) {
  free(t->params);
  free(t->grads);
  free(t->velocity);
  mlp_workspace_free(&t->ws);
  free(t->xb);
  free(t->yb);
  free(t->dlogits);
  free(t->class_weights);
  logitnorm_loss_free(t->loss);
  logitnorm_loss_free(t->loss_mean);
  if (t->ws_full.capacity) mlp_workspace_free(&t->ws_full);
  free(t->grads_full);
  free(t->dlogits_full);
}

/* Copies the rows idx[0..n) of the training set into the batch buffers. */
static void gather_rows(const task *d, const int64_t *idx, int64_t n, float *x, int32_t *y) {
  for (int64_t i = 0; i < n; i++) {
    memcpy(x + i * d->dim, d->x_train + idx[i] * d->dim, (size_t)d->dim * sizeof(float));
    y[i] = d->y_train[idx[i]];
  }
}

/* The single-process reference of one step (rank 0, --check): MEAN loss and its gradient over
   the whole global batch. Returns the largest |g_distributed - g_single| / max |g_single|. */
static double single_process_gradient_gap(trainer *t, const task *d, const int64_t *batch_idx, int64_t batch,
                                          double dist_loss, double *loss_gap) {
  float *x = xcalloc((size_t)(batch * d->dim), sizeof(float));
  int32_t *y = xcalloc((size_t)batch, sizeof(int32_t));
  gather_rows(d, batch_idx, batch, x, y);
  const float *logits = mlp_forward(&t->net, t->params, batch, x, &t->ws_full);
  double ref_loss = 0.0;
  LN_OK(logitnorm_loss_forward_backward_f32(t->loss_mean, batch, logits, d->classes, y, &ref_loss, NULL, 1.0f,
                                            0.0f, t->dlogits_full, d->classes));
  mlp_backward(&t->net, t->params, batch, x, &t->ws_full, t->dlogits_full, t->grads_full);
  double gmax = 0.0, gap = 0.0;
  for (int64_t i = 0; i < t->net.num_params; i++) {
    gmax = fmax(gmax, fabs((double)t->grads_full[i]));
    gap = fmax(gap, fabs((double)t->grads[i] - (double)t->grads_full[i]));
  }
  *loss_gap = fabs(dist_loss - ref_loss) / fmax(fabs(ref_loss), 1e-30);
  free(x);
  free(y);
  return gmax > 0.0 ? gap / gmax : gap;
}

/* Runs o->steps SGD steps; losses[s] gets the global MEAN loss of step s. Returns the number
   of --check failures. */
static int train(trainer *t, const task *d, const options *o, const mpi_ctx *mc, double *losses) {
  int64_t *perm = xcalloc((size_t)d->n_train, sizeof(int64_t));
  for (int64_t i = 0; i < d->n_train; i++) perm[i] = i;
  rng r;
  rng_seed(&r, o->seed ^ 0xba7c4e5ull); /* the same batch order on every rank */
  rng_shuffle(&r, perm, d->n_train);
  int64_t pos = 0;
  int64_t lo = shard_begin(o->batch, mc->rank, mc->size), hi = shard_begin(o->batch, mc->rank + 1, mc->size);
  int64_t n = hi - lo, np = t->net.num_params;
  int failures = 0;
  double worst_grad_gap = 0.0, worst_loss_gap = 0.0;

  for (int64_t step = 0; step < o->steps; step++) {
    if (pos + o->batch > d->n_train) { /* new epoch; drop the incomplete last batch */
      rng_shuffle(&r, perm, d->n_train);
      pos = 0;
    }
    const int64_t *batch_idx = perm + pos;
    pos += o->batch;
    gather_rows(d, batch_idx + lo, n, t->xb, t->yb);

    /* alpha = 1 / (global MEAN divisor). Without class weights and ignored rows it is 1 / B,
       known everywhere; in general each rank adds its shard's target weights. */
    double local_div = target_weight_sum(t->yb, n, t->class_weights), global_div = 0.0;
    MPI_Allreduce(&local_div, &global_div, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    float alpha = global_div > 0.0 ? (float)(1.0 / global_div) : 0.0f;
    if (o->per_rank_mean) alpha = 1.0f / (float)mc->size; /* each rank's MEAN, averaged over ranks */

    double local_loss = 0.0, global_loss = 0.0;
    if (n > 0) {
      const float *logits = mlp_forward(&t->net, t->params, n, t->xb, &t->ws);
      LN_OK(logitnorm_loss_forward_backward_f32(t->loss, n, logits, d->classes, t->yb, &local_loss, NULL, alpha,
                                                0.0f, t->dlogits, d->classes));
      mlp_backward(&t->net, t->params, n, t->xb, &t->ws, t->dlogits, t->grads);
    } else {
      memset(t->grads, 0, (size_t)np * sizeof(float));
    }
    if (o->per_rank_mean) local_loss /= (double)mc->size;
    else local_loss *= global_div > 0.0 ? 1.0 / global_div : 0.0;
    MPI_Allreduce(MPI_IN_PLACE, t->grads, (int)np, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&local_loss, &global_loss, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    losses[step] = global_loss;

    if (t->loss_mean && global_div > 0.0) { /* with every row ignored, MEAN is 0/0 */
      double loss_gap = 0.0;
      double grad_gap = single_process_gradient_gap(t, d, batch_idx, o->batch, global_loss, &loss_gap);
      if (!(grad_gap <= worst_grad_gap)) worst_grad_gap = grad_gap; /* NaN counts as worst */
      if (!(loss_gap <= worst_loss_gap)) worst_loss_gap = loss_gap;
    }

    float lr = cosine_lr(step, o->steps, o->lr, 0.0f);
    sgd_step(np, t->params, t->grads, t->velocity, lr, o->momentum, o->weight_decay, 1, step == 0);
    if (mc->rank == 0 && (step % 20 == 0 || step + 1 == o->steps))
      printf("step %5" PRId64 "  loss %.6f  lr %.5f\n", step, global_loss, lr);
  }

  if (t->loss_mean) {
    /* Tolerances: the distributed gradient sums the same float products as the single
       process, grouped per shard and then across ranks. A float sum of k terms is within
       k * 2^-24 * sum|terms| of the exact sum: 3.8e-6 * sum|terms| for k = 64 rows. Measured gaps
       are below 1e-6 of max |g|; 1e-4 allows sum|terms| to exceed max |g| 25-fold through
       cancellation, and is still three orders of magnitude below the ~10% gap of a wrong divisor.
       The loss is the double sum of float row losses, scaled once: 1e-6 relative covers a last-bit
       change of a float logit (2^-24 = 6e-8 relative, amplified by 1/tau = 25). */
    int bad = !(worst_grad_gap <= 1e-4 && worst_loss_gap <= 1e-6);
    printf("check: distributed vs single-process MEAN over the global batch: max gradient gap %.3g "
           "(of max |g|), max loss gap %.3g (relative): %s\n",
           worst_grad_gap, worst_loss_gap, bad ? "FAIL" : "ok");
    failures += bad;
  }
  free(perm);
  return failures;
}

/* With --check: every rank must hold bitwise the same parameters after training. */
static int check_params_identical(const trainer *t, const mpi_ctx *mc) {
  int64_t np = t->net.num_params;
  float *root = xcalloc((size_t)np, sizeof(float));
  memcpy(root, t->params, (size_t)np * sizeof(float));
  MPI_Bcast(root, (int)np, MPI_FLOAT, 0, MPI_COMM_WORLD);
  int local_diff = memcmp(root, t->params, (size_t)np * sizeof(float)) != 0, any_diff = 0;
  MPI_Allreduce(&local_diff, &any_diff, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (mc->rank == 0) printf("check: parameters bitwise identical on all ranks: %s\n", any_diff ? "FAIL" : "ok");
  free(root);
  return any_diff;
}

/* ---------------------------------------------------------------- evaluation */

/* Logits of rows [lo, hi) of x, written to logits ((hi - lo) x C). */
static void forward_rows(trainer *t, const float *x, int64_t dim, int64_t lo, int64_t hi, float *logits) {
  int64_t classes = t->net.sizes[t->net.num_layers];
  for (int64_t i = lo; i < hi; i += EVAL_CHUNK) {
    int64_t m = hi - i < EVAL_CHUNK ? hi - i : EVAL_CHUNK;
    const float *z = mlp_forward(&t->net, t->params, m, x + i * dim, &t->ws);
    memcpy(logits + (i - lo) * classes, z, (size_t)(m * classes) * sizeof(float));
  }
}

/* Gathers every rank's blob on rank 0: the sizes first (MPI_Gather), then the bytes
   (MPI_Gatherv). On rank 0, *all holds the blobs back to back, sizes[r] and offsets[r] locate
   rank r's. MPI counts are int, so each blob and the total must stay below INT_MAX bytes. */
static void gather_blobs(const void *blob, size_t size, const mpi_ctx *mc, unsigned char **all, int **sizes,
                         int **offsets) {
  if (size > INT_MAX) die("blob larger than INT_MAX bytes");
  int my_size = (int)size;
  *all = NULL;
  *sizes = xcalloc((size_t)mc->size, sizeof(int));
  *offsets = xcalloc((size_t)mc->size, sizeof(int));
  MPI_Gather(&my_size, 1, MPI_INT, *sizes, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (mc->rank == 0) {
    int64_t total = 0;
    for (int r = 0; r < mc->size; r++) {
      (*offsets)[r] = (int)total;
      total += (*sizes)[r];
      if (total > INT_MAX) die("gathered blobs larger than INT_MAX bytes");
    }
    *all = xcalloc((size_t)total, 1);
  }
  MPI_Gatherv(blob, my_size, MPI_BYTE, *all, *sizes, *offsets, MPI_BYTE, 0, MPI_COMM_WORLD);
}

/* Rank 0 gathers float rows (count floats per row) of every rank's shard of n rows, in global
   order: the inputs that a single process would have seen. */
static float *gather_floats(const float *local, int64_t n, int64_t per_row, const mpi_ctx *mc) {
  int *counts = xcalloc((size_t)mc->size, sizeof(int)), *offsets = xcalloc((size_t)mc->size, sizeof(int));
  for (int r = 0; r < mc->size; r++) {
    counts[r] = (int)((shard_begin(n, r + 1, mc->size) - shard_begin(n, r, mc->size)) * per_row);
    offsets[r] = (int)(shard_begin(n, r, mc->size) * per_row);
  }
  float *all = mc->rank == 0 ? xcalloc((size_t)(n * per_row), sizeof(float)) : NULL;
  MPI_Gatherv(local, counts[mc->rank], MPI_FLOAT, all, counts, offsets, MPI_FLOAT, 0, MPI_COMM_WORLD);
  free(counts);
  free(offsets);
  return all;
}

static void *save_metrics(const logitnorm_metrics *m, size_t *size) {
  LN_OK(logitnorm_metrics_save(m, NULL, 0, size));
  void *buf = xcalloc(*size, 1);
  LN_OK(logitnorm_metrics_save(m, buf, *size, size));
  return buf;
}

static void *save_calibration(const logitnorm_calibration *c, size_t *size) {
  LN_OK(logitnorm_calibration_save(c, NULL, 0, size));
  void *buf = xcalloc(*size, 1);
  LN_OK(logitnorm_calibration_save(c, buf, *size, size));
  return buf;
}

/* Rank 0: loads rank 0's blob, then merges ranks 1..P-1 into it, in rank order. */
static logitnorm_metrics *merge_metrics_blobs(const unsigned char *all, const int *sizes, const int *offsets,
                                              int count) {
  logitnorm_metrics *merged = NULL;
  LN_OK(logitnorm_metrics_load(&merged, all + offsets[0], (size_t)sizes[0]));
  for (int r = 1; r < count; r++) {
    logitnorm_metrics *part = NULL;
    LN_OK(logitnorm_metrics_load(&part, all + offsets[r], (size_t)sizes[r]));
    LN_OK(logitnorm_metrics_merge(merged, part));
    logitnorm_metrics_free(part);
  }
  return merged;
}

static logitnorm_calibration *merge_calibration_blobs(const unsigned char *all, const int *sizes,
                                                      const int *offsets, int count) {
  logitnorm_calibration *merged = NULL;
  LN_OK(logitnorm_calibration_load(&merged, all + offsets[0], (size_t)sizes[0]));
  for (int r = 1; r < count; r++) {
    logitnorm_calibration *part = NULL;
    LN_OK(logitnorm_calibration_load(&part, all + offsets[r], (size_t)sizes[r]));
    LN_OK(logitnorm_calibration_merge(merged, part));
    logitnorm_calibration_free(part);
  }
  return merged;
}

typedef struct named_value {
  const char *name;
  int which;
} named_value;

static const named_value METRIC_NAMES[] = {
    {"AUROC", LOGITNORM_METRIC_AUROC},
    {"AUPR-In", LOGITNORM_METRIC_AUPR_IN},
    {"AUPR-Out", LOGITNORM_METRIC_AUPR_OUT},
    {"FPR95", LOGITNORM_METRIC_FPR_AT_TPR},
    {"threshold@TPR95", LOGITNORM_METRIC_THRESHOLD_AT_TPR},
    {"detection error", LOGITNORM_METRIC_DETECTION_ERROR},
    {"count ID", LOGITNORM_METRIC_COUNT_ID},
    {"count OOD", LOGITNORM_METRIC_COUNT_OOD},
};
static const named_value CALIBRATION_NAMES[] = {
    {"ECE", LOGITNORM_CALIBRATION_ECE},           {"MCE", LOGITNORM_CALIBRATION_MCE},
    {"accuracy", LOGITNORM_CALIBRATION_ACCURACY}, {"NLL", LOGITNORM_CALIBRATION_NLL},
    {"Brier", LOGITNORM_CALIBRATION_BRIER},       {"count", LOGITNORM_CALIBRATION_COUNT},
};
#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Prints one line; with a reference, compares the two doubles bit for bit. Returns 1 on a
   mismatch. */
static int report_value(const char *name, double merged, const double *single) {
  if (!single) {
    printf("  %-16s %.17g\n", name, merged);
    return 0;
  }
  int same = memcmp(&merged, single, sizeof merged) == 0;
  printf("  %-16s merged %.17g  single %.17g  %s\n", name, merged, *single, same ? "bitwise equal" : "DIFFER");
  return !same;
}

/* Distributed evaluation; returns the number of --check mismatches (rank 0). */
static int evaluate(trainer *t, const task *d, const options *o, const mpi_ctx *mc) {
  int64_t C = d->classes;
  int64_t id_lo = shard_begin(d->n_test, mc->rank, mc->size), id_hi = shard_begin(d->n_test, mc->rank + 1, mc->size);
  int64_t ood_lo = shard_begin(d->n_ood, mc->rank, mc->size), ood_hi = shard_begin(d->n_ood, mc->rank + 1, mc->size);
  int64_t n_id = id_hi - id_lo, n_ood = ood_hi - ood_lo;

  float *id_logits = xcalloc((size_t)(n_id * C), sizeof(float)), *ood_logits = xcalloc((size_t)(n_ood * C), sizeof(float));
  float *id_scores = xcalloc((size_t)n_id, sizeof(float)), *ood_scores = xcalloc((size_t)n_ood, sizeof(float));
  forward_rows(t, d->x_test, d->dim, id_lo, id_hi, id_logits);
  forward_rows(t, d->x_ood, d->dim, ood_lo, ood_hi, ood_logits);

  /* MSP on the raw logits: the score LogitNorm is evaluated with. */
  logitnorm_scorer *msp = NULL;
  LN_OK(logitnorm_scorer_create(&msp, LOGITNORM_SCORE_MSP, C, 0));
  if (n_id > 0) LN_OK(logitnorm_scorer_score_f32(msp, n_id, id_logits, C, NULL, 0, id_scores));
  if (n_ood > 0) LN_OK(logitnorm_scorer_score_f32(msp, n_ood, ood_logits, C, NULL, 0, ood_scores));

  logitnorm_metrics *m = NULL;
  logitnorm_calibration *cal = NULL;
  LN_OK(logitnorm_metrics_create(&m));
  LN_OK(logitnorm_calibration_create(&cal, C));
  if (n_id > 0) {
    LN_OK(logitnorm_metrics_add_f32(m, id_scores, n_id, 0));
    LN_OK(logitnorm_calibration_add_f32(cal, n_id, id_logits, C, d->y_test + id_lo));
  }
  if (n_ood > 0) LN_OK(logitnorm_metrics_add_f32(m, ood_scores, n_ood, 1));

  size_t m_size = 0, c_size = 0;
  void *m_blob = save_metrics(m, &m_size), *c_blob = save_calibration(cal, &c_size);
  unsigned char *m_all = NULL, *c_all = NULL;
  int *m_sizes = NULL, *m_offsets = NULL, *c_sizes = NULL, *c_offsets = NULL;
  gather_blobs(m_blob, m_size, mc, &m_all, &m_sizes, &m_offsets);
  gather_blobs(c_blob, c_size, mc, &c_all, &c_sizes, &c_offsets);

  /* --check: the inputs a single process would have seen, in global order */
  float *all_id_scores = NULL, *all_ood_scores = NULL, *all_id_logits = NULL;
  if (o->check) {
    all_id_scores = gather_floats(id_scores, d->n_test, 1, mc);
    all_ood_scores = gather_floats(ood_scores, d->n_ood, 1, mc);
    all_id_logits = gather_floats(id_logits, d->n_test, C, mc);
  }

  int mismatches = 0;
  if (mc->rank == 0) {
    logitnorm_metrics *merged = merge_metrics_blobs(m_all, m_sizes, m_offsets, mc->size);
    logitnorm_calibration *merged_cal = merge_calibration_blobs(c_all, c_sizes, c_offsets, mc->size);
    logitnorm_metrics *single = NULL;
    logitnorm_calibration *single_cal = NULL;
    if (o->check) {
      LN_OK(logitnorm_metrics_create(&single));
      LN_OK(logitnorm_metrics_add_f32(single, all_id_scores, d->n_test, 0));
      LN_OK(logitnorm_metrics_add_f32(single, all_ood_scores, d->n_ood, 1));
      LN_OK(logitnorm_calibration_create(&single_cal, C));
      LN_OK(logitnorm_calibration_add_f32(single_cal, d->n_test, all_id_logits, C, d->y_test));
    }
    printf("evaluation on %d rank(s): %" PRId64 " ID and %" PRId64 " OOD test samples, MSP score\n", mc->size,
           d->n_test, d->n_ood);
    int64_t m_bytes = 0, c_bytes = 0;
    for (int r = 0; r < mc->size; r++) m_bytes += m_sizes[r], c_bytes += c_sizes[r];
    printf(" gathered blobs: metrics %" PRId64 " bytes, calibration %" PRId64 " bytes\n", m_bytes, c_bytes);
    printf(" OOD metrics (blobs of %d rank(s) merged on rank 0%s):\n", mc->size,
           o->check ? " vs one accumulator fed everything" : "");
    for (int i = 0; i < COUNT_OF(METRIC_NAMES); i++) {
      double v = 0.0, ref = 0.0;
      LN_OK(logitnorm_metrics_value(merged, (logitnorm_metric)METRIC_NAMES[i].which, &v));
      if (single) LN_OK(logitnorm_metrics_value(single, (logitnorm_metric)METRIC_NAMES[i].which, &ref));
      mismatches += report_value(METRIC_NAMES[i].name, v, single ? &ref : NULL);
    }
    printf(" calibration of the ID test set:\n");
    for (int i = 0; i < COUNT_OF(CALIBRATION_NAMES); i++) {
      double v = 0.0, ref = 0.0;
      LN_OK(logitnorm_calibration_value(merged_cal, CALIBRATION_NAMES[i].which, &v));
      if (single_cal) LN_OK(logitnorm_calibration_value(single_cal, CALIBRATION_NAMES[i].which, &ref));
      mismatches += report_value(CALIBRATION_NAMES[i].name, v, single_cal ? &ref : NULL);
    }
    if (o->check)
      printf("check: merged metrics and calibration bitwise equal to one accumulator: %s\n",
             mismatches ? "FAIL" : "ok");
    logitnorm_metrics_free(merged);
    logitnorm_metrics_free(single);
    logitnorm_calibration_free(merged_cal);
    logitnorm_calibration_free(single_cal);
  }

  logitnorm_scorer_free(msp);
  logitnorm_metrics_free(m);
  logitnorm_calibration_free(cal);
  free(m_blob);
  free(c_blob);
  free(m_all);
  free(c_all);
  free(m_sizes);
  free(m_offsets);
  free(c_sizes);
  free(c_offsets);
  free(all_id_scores);
  free(all_ood_scores);
  free(all_id_logits);
  free(id_logits);
  free(ood_logits);
  free(id_scores);
  free(ood_scores);
  return mismatches;
}

/* ---------------------------------------------------------------- run files */

/* --out file: magic, int64 steps, steps doubles (loss curve), int64 count, count floats
   (final parameters), all in this machine's byte order (compared on the same machine). */
static int write_run(const char *path, const double *losses, int64_t steps, const float *params, int64_t count) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int ok = fwrite(RUN_MAGIC, 1, 8, f) == 8 && fwrite(&steps, sizeof steps, 1, f) == 1 &&
           fwrite(losses, sizeof(double), (size_t)steps, f) == (size_t)steps &&
           fwrite(&count, sizeof count, 1, f) == 1 && fwrite(params, sizeof(float), (size_t)count, f) == (size_t)count;
  return fclose(f) == 0 && ok ? 0 : -1;
}

typedef struct run_file {
  int64_t steps, count;
  double *losses;
  float *params;
} run_file;

static int read_run(const char *path, run_file *r) {
  memset(r, 0, sizeof *r);
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  char magic[8];
  int ok = fread(magic, 1, 8, f) == 8 && memcmp(magic, RUN_MAGIC, 8) == 0 && fread(&r->steps, sizeof r->steps, 1, f) == 1 &&
           r->steps >= 0 && r->steps <= (1 << 24);
  if (ok) {
    r->losses = xcalloc((size_t)r->steps, sizeof(double));
    ok = fread(r->losses, sizeof(double), (size_t)r->steps, f) == (size_t)r->steps &&
         fread(&r->count, sizeof r->count, 1, f) == 1 && r->count >= 0 && r->count <= (1 << 28);
  }
  if (ok) {
    r->params = xcalloc((size_t)r->count, sizeof(float));
    ok = fread(r->params, sizeof(float), (size_t)r->count, f) == (size_t)r->count && fgetc(f) == EOF;
  }
  fclose(f);
  return ok ? 0 : -1;
}

/* Comparator mode: the 1-rank and the P-rank runs of the same seed and global batch must have
   the same loss curve and final weights up to float reassociation.

   Tolerance (default 1e-4; relative per step for the losses, relative to the largest |weight|
   for the weights): each step's gradient differs between the runs only by the grouping of
   float sums, below 1e-6 of its size (train() checks this every step with --check). SGD with
   momentum carries these differences forward and the nonlinearity may amplify them; on the
   test setting (120 steps) the measured gaps are about 1e-6, so 1e-4 leaves two orders of
   magnitude. A wrong normalisation (MEAN per rank with class weights or ignored rows) moves
   the gradient by about 10% of its size in that setting and the losses and weights by 1e-2 and
   more: two orders of magnitude above the tolerance. */
static int compare_runs(const options *o) {
  run_file a, b;
  if (read_run(o->compare_a, &a) || read_run(o->compare_b, &b)) {
    fprintf(stderr, "mpi_train: cannot read %s or %s as run files\n", o->compare_a, o->compare_b);
    return 2;
  }
  if (a.steps != b.steps || a.count != b.count || a.count == 0) {
    fprintf(stderr, "mpi_train: runs differ in shape (%" PRId64 " vs %" PRId64 " steps, %" PRId64 " vs %" PRId64
                    " parameters)\n",
            a.steps, b.steps, a.count, b.count);
    return 2;
  }
  double loss_gap = 0.0, wmax = 0.0, wgap = 0.0;
  int64_t worst_step = 0, worst_param = 0;
  for (int64_t s = 0; s < a.steps; s++) {
    double gap = fabs(a.losses[s] - b.losses[s]) / fmax(fabs(a.losses[s]), 1e-30);
    if (!(gap <= loss_gap)) loss_gap = gap, worst_step = s; /* NaN counts as worst */
  }
  for (int64_t i = 0; i < a.count; i++) {
    wmax = fmax(wmax, fabs((double)a.params[i]));
    double gap = fabs((double)a.params[i] - (double)b.params[i]);
    if (!(gap <= wgap)) wgap = gap, worst_param = i;
  }
  double wrel = wgap / fmax(wmax, 1e-30);
  int within = loss_gap <= o->tolerance && wrel <= o->tolerance;
  printf("compare: loss curves (%" PRId64 " steps): max relative gap %.3g at step %" PRId64 "\n", a.steps, loss_gap,
         worst_step);
  printf("compare: final weights (%" PRId64 "): max gap %.3g at %" PRId64 " (%.3g of max |w| = %.4g)\n", a.count, wgap,
         worst_param, wrel, wmax);
  printf("compare: tolerance %.3g: %s\n", o->tolerance, within ? "within" : "EXCEEDED");
  free(a.losses);
  free(a.params);
  free(b.losses);
  free(b.params);
  if (o->expect_differ) return within ? 1 : 0;
  return within ? 0 : 1;
}

/* ---------------------------------------------------------------- options */

static void usage(void) {
  fprintf(stderr,
          "usage: mpirun -np P mpi_train [--synthetic] [--steps N] [--batch B] [--hidden H] [--lr LR]\n"
          "         [--loss logitnorm|ce] [--tau T] [--seed S] [--class-weights] [--ignore-frac F]\n"
          "         [--per-rank-mean] [--check] [--out FILE]\n"
          "       mpi_train --compare A B [--tolerance T] [--expect-differ]\n");
}

static int parse_options(int argc, char **argv, options *o) {
  *o = (options){.steps = 200, .batch = 64, .hidden = 32, .n_train = 2048, .n_test = 1001, .n_ood = 777,
                 .dim = 16, .classes = 4, .lr = 0.02f, .momentum = 0.9f, .weight_decay = 5e-4f, .tau = 0.04,
                 .logitnorm = 1, .seed = 1, .tolerance = 1e-4};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int more = i + 1 < argc;
    if (!strcmp(a, "--synthetic")) continue; /* the only data source of this example */
    else if (!strcmp(a, "--check")) o->check = 1;
    else if (!strcmp(a, "--class-weights")) o->class_weights = 1;
    else if (!strcmp(a, "--per-rank-mean")) o->per_rank_mean = 1;
    else if (!strcmp(a, "--expect-differ")) o->expect_differ = 1;
    else if (!strcmp(a, "--steps") && more) o->steps = atoll(argv[++i]);
    else if (!strcmp(a, "--batch") && more) o->batch = atoll(argv[++i]);
    else if (!strcmp(a, "--hidden") && more) o->hidden = atoll(argv[++i]);
    else if (!strcmp(a, "--lr") && more) o->lr = strtof(argv[++i], NULL);
    else if (!strcmp(a, "--tau") && more) o->tau = strtod(argv[++i], NULL);
    else if (!strcmp(a, "--seed") && more) o->seed = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(a, "--ignore-frac") && more) o->ignore_frac = strtod(argv[++i], NULL);
    else if (!strcmp(a, "--out") && more) o->out = argv[++i];
    else if (!strcmp(a, "--tolerance") && more) o->tolerance = strtod(argv[++i], NULL);
    else if (!strcmp(a, "--loss") && more) {
      const char *v = argv[++i];
      if (!strcmp(v, "logitnorm")) o->logitnorm = 1;
      else if (!strcmp(v, "ce")) o->logitnorm = 0;
      else return -1;
    } else if (!strcmp(a, "--compare") && i + 2 < argc) {
      o->compare_a = argv[++i];
      o->compare_b = argv[++i];
    } else return -1;
  }
  if (o->steps < 1 || o->batch < 1 || o->batch > o->n_train || o->hidden < 1 || !(o->lr > 0.0f) ||
      !(o->tau > 0.0) || !(o->ignore_frac >= 0.0 && o->ignore_frac < 1.0) || !(o->tolerance >= 0.0))
    return -1;
  return 0;
}

int main(int argc, char **argv) {
  options o;
  if (parse_options(argc, argv, &o)) {
    usage();
    return 2;
  }
  if (o.compare_a) return compare_runs(&o); /* no MPI needed */

  MPI_Init(&argc, &argv);
  mpi_ctx mc;
  MPI_Comm_rank(MPI_COMM_WORLD, &mc.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &mc.size);

  task d;
  task_make(&d, &o);
  trainer t;
  trainer_init(&t, &o, &mc);
  if (mc.rank == 0)
    printf("mpi_train: %d rank(s), global batch %" PRId64 " (shards of %" PRId64 "..%" PRId64 " rows), %s%s, "
           "%" PRId64 " parameters, %s%s\n",
           mc.size, o.batch, o.batch / mc.size, (o.batch + mc.size - 1) / mc.size, o.logitnorm ? "LogitNorm" : "cross-entropy",
           o.class_weights ? " with class weights" : "", t.net.num_params,
           o.per_rank_mean ? "MEAN per rank averaged over ranks (wrong with weights or ignored rows)"
                           : "SUM with alpha = 1 / global MEAN divisor",
           o.ignore_frac > 0.0 ? ", some labels ignored" : "");

  double *losses = xcalloc((size_t)o.steps, sizeof(double));
  int failures = train(&t, &d, &o, &mc, losses);
  if (o.check) failures += check_params_identical(&t, &mc);
  failures += evaluate(&t, &d, &o, &mc);

  if (mc.rank == 0 && o.out && write_run(o.out, losses, o.steps, t.params, t.net.num_params)) {
    fprintf(stderr, "mpi_train: cannot write %s\n", o.out);
    failures++;
  }
  /* Rank 0 decides; every rank exits with its verdict so that mpirun reports it. */
  MPI_Bcast(&failures, 1, MPI_INT, 0, MPI_COMM_WORLD);
  free(losses);
  trainer_free(&t);
  task_free(&d);
  MPI_Finalize();
  return failures ? 1 : 0;
}
