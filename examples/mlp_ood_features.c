/* The mlp_ood demo's feature scorers: the second hidden layer's ReLU outputs are the features,
   the last layer (W, b) is the head. Fitting passes over the training images once; the banks of
   KNN and NNGUIDE take only the first bank_rows of them, which keeps their scoring GEMMs (every
   test row against every bank row) near the cost of the rest of the evaluation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <logitnorm.h>

#include "common/mlp.h"
#include "mlp_ood.h"

/* The kind of every feature score, indexed from FIRST_FEATURE_SCORE. */
static const logitnorm_score_kind feature_kinds[NUM_SCORES - FIRST_FEATURE_SCORE] = {
    LOGITNORM_SCORE_GRADNORM, LOGITNORM_SCORE_MAHALANOBIS, LOGITNORM_SCORE_RMDS,  LOGITNORM_SCORE_KNN,
    LOGITNORM_SCORE_VIM,      LOGITNORM_SCORE_REACT,       LOGITNORM_SCORE_ASH,   LOGITNORM_SCORE_DICE,
    LOGITNORM_SCORE_NNGUIDE,  LOGITNORM_SCORE_FDBD,        LOGITNORM_SCORE_SCALE, LOGITNORM_SCORE_DML};

static int failed(const char *what, logitnorm_status st) {
  fprintf(stderr, "mlp_ood: %s failed: %s (%s)\n", what, logitnorm_status_string(st), logitnorm_last_error());
  return -1;
}
#define TRY(call)                                         \
  do {                                                    \
    logitnorm_status st_ = (call);                        \
    if (st_ != LOGITNORM_OK) return failed(#call, st_);   \
  } while (0)

/* Kinds that fit on training features (KL matching fits on logits and is a logit score). */
static int fits_features(int k) {
  return k == SCORE_MAHALANOBIS || k == SCORE_RMDS || k == SCORE_KNN || k == SCORE_VIM || k == SCORE_REACT ||
         k == SCORE_DICE || k == SCORE_NNGUIDE || k == SCORE_FDBD;
}
static int uses_bank(int k) { return k == SCORE_KNN || k == SCORE_NNGUIDE; }
/* Kinds that read the head (set_head_f32 on the others is UNSUPPORTED). */
static int needs_head(int k) { return k != SCORE_MAHALANOBIS && k != SCORE_RMDS && k != SCORE_KNN; }

int create_feature_scorers(const mlp *net, const float *params, int threads, logitnorm_scorer **sc) {
  int last = net->num_layers - 1;
  int64_t classes = net->sizes[net->num_layers], hidden = net->sizes[last];
  const float *weight = params + net->weight_offset[last], *bias = params + net->bias_offset[last];
  for (int k = FIRST_FEATURE_SCORE; k < NUM_SCORES; k++) {
    TRY(logitnorm_scorer_create(&sc[k], feature_kinds[k - FIRST_FEATURE_SCORE], classes, hidden));
    TRY(logitnorm_scorer_set(sc[k], LOGITNORM_SCORER_THREADS, threads));
    if (needs_head(k)) TRY(logitnorm_scorer_set_head_f32(sc[k], weight, hidden, bias));
  }
  return 0;
}

/* Fits the feature scorers (and KL matching, on logits) on the training images, and sets DML's
   LAMBDA by its authors' rule on the held-out images: mean MaxCosine / mean ||h||. */
int fit_feature_scorers(const mlp *net, const float *params, const dataset *train, const dataset *holdout,
                        int64_t bank_rows, logitnorm_scorer **sc, model_result *r) {
  int last = net->num_layers - 1;
  int64_t classes = net->sizes[net->num_layers], hidden = net->sizes[last];
  mlp_workspace ws;
  if (mlp_workspace_alloc(&ws, net, 1000)) {
    fprintf(stderr, "mlp_ood: out of memory\n");
    return -1;
  }
  float *cosine = malloc((size_t)ws.capacity * sizeof(float));
  int rc = cosine ? 0 : -1;
  int64_t bank = bank_rows < train->n ? bank_rows : train->n;
  for (int64_t b0 = 0; rc == 0 && b0 < train->n; b0 += ws.capacity) {
    int64_t n = train->n - b0 < ws.capacity ? train->n - b0 : ws.capacity;
    const float *z = mlp_forward(net, params, n, train->x + b0 * train->dim, &ws);
    const float *h = ws.act[last - 1];
    const int32_t *y = train->y + b0;
    logitnorm_status st = logitnorm_scorer_fit_f32(sc[SCORE_KL_MATCHING], n, NULL, 0, z, classes, NULL);
    for (int k = FIRST_FEATURE_SCORE; st == LOGITNORM_OK && k < NUM_SCORES; k++) {
      if (!fits_features(k)) continue;
      int64_t rows = uses_bank(k) ? (bank - b0 < n ? bank - b0 : n) : n;
      if (rows <= 0) continue;
      int labelled = k == SCORE_MAHALANOBIS || k == SCORE_RMDS;
      st = logitnorm_scorer_fit_f32(sc[k], rows, h, hidden, NULL, 0, labelled ? y : NULL);
    }
    if (st != LOGITNORM_OK) rc = failed("fitting the scorers on the training features", st);
  }
  for (int k = 0; rc == 0 && k < NUM_SCORES; k++) {
    logitnorm_status st = sc[k] ? logitnorm_scorer_prepare(sc[k]) : LOGITNORM_OK;
    if (st != LOGITNORM_OK) rc = failed("preparing a scorer", st);
  }
  /* DML at LAMBDA = 0 is MaxCosine; the held-out rows give both means. */
  double cos_sum = 0.0, norm_sum = 0.0;
  for (int64_t b0 = 0; rc == 0 && b0 < holdout->n; b0 += ws.capacity) {
    int64_t n = holdout->n - b0 < ws.capacity ? holdout->n - b0 : ws.capacity;
    mlp_forward(net, params, n, holdout->x + b0 * holdout->dim, &ws);
    const float *h = ws.act[last - 1];
    logitnorm_status st = logitnorm_scorer_score_f32(sc[SCORE_DML], n, NULL, 0, h, hidden, cosine);
    if (st != LOGITNORM_OK) rc = failed("DML's MaxCosine on the held-out images", st);
    for (int64_t i = 0; rc == 0 && i < n; i++) {
      double s = 0.0;
      for (int64_t j = 0; j < hidden; j++) s += (double)h[i * hidden + j] * h[i * hidden + j];
      cos_sum += cosine[i];
      norm_sum += sqrt(s);
    }
  }
  r->feature_fit_rows = train->n;
  r->bank_rows = bank;
  /* The two means share the count. LAMBDA must be >= 0: a negative mean MaxCosine gives 0. */
  r->dml_lambda = norm_sum > 0.0 && cos_sum > 0.0 ? cos_sum / norm_sum : 0.0;
  if (rc == 0) {
    logitnorm_status st = logitnorm_scorer_set(sc[SCORE_DML], LOGITNORM_SCORER_LAMBDA, r->dml_lambda);
    if (st != LOGITNORM_OK) rc = failed("setting DML's LAMBDA", st);
  }
  free(cosine);
  mlp_workspace_free(&ws);
  return rc;
}

int score_features(logitnorm_scorer *const *sc, int64_t n, const float *features, int64_t hidden,
                   float *const *scores, int64_t offset) {
  for (int k = FIRST_FEATURE_SCORE; k < NUM_SCORES; k++)
    TRY(logitnorm_scorer_score_f32(sc[k], n, NULL, 0, features, hidden, scores[k] + offset));
  return 0;
}
