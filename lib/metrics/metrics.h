/* OOD metrics accumulator. Scores are kept exactly, as the order-preserving keys of their
   double values, one array per class; the metrics are computed from the sorted arrays, so
   they depend only on the multiset of scores (any add or merge order gives the same bits). */
#ifndef LN_METRICS_METRICS_H
#define LN_METRICS_METRICS_H

#include <stdint.h>

#include "logitnorm.h"

enum { LN_ID = 0, LN_OOD = 1 };

struct logitnorm_metrics {
  double tpr_level; /* (0, 1] */
  int positive;     /* logitnorm_positive */
  int fpr_rule;     /* logitnorm_fpr_rule */
  int aupr_rule;    /* logitnorm_aupr_rule */
  double coverage_level; /* (0, 1]: RISK_AT_COVERAGE */
  double risk_level;     /* [0, 1]: COVERAGE_AT_RISK */
  int risk_rule;         /* logitnorm_risk_rule */
  uint64_t *keys[2];   /* [LN_ID], [LN_OOD] */
  int64_t count[2];
  int64_t capacity[2];
  int sorted;          /* both key arrays are ascending (cleared by add and merge) */
  /* Values that do not depend on the parameters, from two passes after each sort: bit
     (1 << aupr_rule) of summary_valid says that rule's AUPRs (and AUROC) are cached. */
  int summary_valid;
  double auroc, aupr_in[2], aupr_out[2]; /* [logitnorm_aupr_rule] */
};

/* Appends n keys to class c (c's array may be the source: it is read after growing). */
logitnorm_status ln_metrics_reserve(logitnorm_metrics *m, int c, int64_t extra);
/* Sorts both classes once; later calls are free until the data change. Any change of the
   data must clear both `sorted` and `summary_valid` (ln_metrics_changed). */
void ln_metrics_changed(logitnorm_metrics *m);
logitnorm_status ln_metrics_sort(logitnorm_metrics *m);

/* One operating point per distinct score, walked from the threshold that accepts the fewest
   positives to the one that accepts all: descending scores with ID positive, ascending
   scores (descending negated scores) with OOD positive. A whole tie block crosses at once. */
typedef struct ln_walk {
  const uint64_t *pos, *neg;
  int64_t n_pos, n_neg;
  int64_t i_pos, i_neg; /* elements already passed */
  int descending;
} ln_walk;

void ln_walk_start(ln_walk *w, const logitnorm_metrics *m, int positive);
/* The next tie block: its key and how many positives and negatives it holds; 0 at the end. */
int ln_walk_next(ln_walk *w, uint64_t *key, int64_t *dp, int64_t *dn);

/* Checks that both classes hold scores. */
logitnorm_status ln_metrics_check_classes(const logitnorm_metrics *m);

/* Defaults of the selective-classification parameters (a blob of format 1 implies them). */
#define LN_METRICS_COVERAGE_DEFAULT 0.8
#define LN_METRICS_RISK_DEFAULT 0.05

/* The selective-classification metrics (AURC .. COVERAGE_AT_RISK) of a sorted accumulator
   holding at least one sample (metrics_selective.c). */
logitnorm_status ln_selective_value(const logitnorm_metrics *m, logitnorm_metric which, double *out);

#endif
