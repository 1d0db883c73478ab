/* logitnorm-eval's results and their text outputs: aligned tables for people, JSON for programs. */
#ifndef EVAL_REPORT_H
#define EVAL_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <logitnorm.h>

/* One evaluation's metrics. threshold is in score units (NaN in an average, where it has no
   meaning); every other value is a fraction in [0, 1]. */
typedef struct eval_values {
  double auroc, aupr_in, aupr_out, fpr, threshold, detection_error;
} eval_values;

/* A codebase's choice of the three metric rules (docs/metrics.md, "Who uses which convention"). */
typedef struct eval_convention {
  const char *name;          /* --convention NAME */
  logitnorm_positive positive;
  logitnorm_fpr_rule fpr_rule;
  logitnorm_aupr_rule aupr_rule;
  const char *fpr_rule_name; /* "nearest", "at-least", "openood" */
  const char *aupr_rule_name; /* "average-precision", "trapezoid" */
  const char *source;        /* who uses it */
} eval_convention;

#define EVAL_NUM_CONVENTIONS 4
extern const eval_convention eval_conventions[EVAL_NUM_CONVENTIONS];

typedef struct eval_set {
  const char *name, *file;
  int64_t count;
} eval_set;

/* values[(c * num_scores + s) * (num_ood + 1) + k]: convention c (the c-th of `conventions`),
   score s, OOD set k, and at k = num_ood the average over the sets. */
typedef struct eval_report {
  const char *command; /* "ood" or "scores" */
  eval_set id;
  const eval_set *ood;
  int num_ood;
  int64_t classes;         /* scores: the logits' columns */
  double odin_temperature; /* scores */
  double tpr_level;
  const int *conventions; /* indices into eval_conventions */
  int num_conventions;
  const char *const *score_keys;   /* JSON names ("msp", ...); ood: one score, "score" */
  const char *const *score_titles; /* table names ("MSP", ...) */
  int num_scores;
  const eval_values *values;
} eval_report;

const eval_values *eval_report_value(const eval_report *r, int c, int s, int k);

void eval_print_tables(FILE *f, const eval_report *r);
void eval_print_json(FILE *f, const eval_report *r);

/* A JSON string, escaped; a number that reads back as the same double (null for NaN and the
   infinities, which JSON lacks). */
void eval_json_string(FILE *f, const char *s);
void eval_json_number(FILE *f, double v);

#endif
