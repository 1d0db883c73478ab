/* What logitnorm-eval's commands share: the settings the parser fills (logitnorm_eval.c), the
   exit statuses, the readers of whole inputs with their messages, and each command's entry
   point (examples/eval/cmd_*.c). Every message goes to standard error as one line that starts
   with the program's name and names the file it is about. */
#ifndef EVAL_CLI_H
#define EVAL_CLI_H

#include <stdint.h>

#include <logitnorm.h>

#include "eval/array.h"
#include "eval/load.h"

#define EVAL_PROG "logitnorm-eval"
#define EVAL_MAX_SETS 64
#define EVAL_EXIT_DATA 1  /* a file or its data was rejected */
#define EVAL_EXIT_USAGE 2 /* a usage error */

/* The commands, as bits: an option names the commands it belongs to. */
enum {
  EVAL_CMD_OOD = 1,
  EVAL_CMD_SCORES = 2,
  EVAL_CMD_SELECTIVE = 4,
  EVAL_CMD_CALIBRATION = 8,
  EVAL_CMD_DETECT = EVAL_CMD_OOD | EVAL_CMD_SCORES,
  EVAL_CMD_ANY = 15
};

typedef struct eval_input {
  const char *path;
  char name[128];
} eval_input;

typedef struct eval_settings {
  int command; /* one EVAL_CMD_ bit */
  /* ood and scores */
  const char *id_path;
  eval_input ood[EVAL_MAX_SETS];
  int num_ood;
  const char *pending_label;
  double tpr;
  int convention, all_conventions, convention_given;
  double odin_temperature;
  int threads;
  /* selective and calibration */
  const char *confidence_path, *correct_path; /* selective: 1-D confidences and 0/1 correctness */
  const char *logits_path, *labels_path;      /* 2-D logits and 1-D labels */
  const char *fit_logits_path, *fit_labels_path; /* calibration: the rows T is fitted on */
  int score, score_given; /* selective: index into eval_score_kinds, the confidence of logits */
  double coverage, risk; /* selective: the levels of RISK_AT_COVERAGE and COVERAGE_AT_RISK */
  int risk_rule;         /* selective: logitnorm_risk_rule */
  int bins;              /* calibration: bins of both binnings */
  /* every command */
  int json;
  const char *svg_path;
  eval_read_options read;
} eval_settings;

/* A set of scores as the metrics take them: f32 or f64, n values. */
typedef struct eval_view {
  const float *f32;
  const double *f64;
  int64_t n;
  const char *file;
} eval_view;

/* A logit score that needs no fitting, as `scores` and `selective` offer them. */
typedef struct eval_score_kind {
  logitnorm_score_kind kind;
  const char *key, *title; /* "msp" (JSON, --score), "MSP" (tables) */
} eval_score_kind;

#define EVAL_NUM_SCORE_KINDS 7
extern const eval_score_kind eval_score_kinds[EVAL_NUM_SCORE_KINDS];

/* The file name without folder and extension: the default name of a set. */
void eval_default_name(const char *path, char *out, size_t cap);

/* 1-D values (or one column), at least one. On failure a message is printed and nothing is
   left allocated; `what` names the values in it ("scores", "labels"). */
int eval_read_vector(const char *path, const eval_read_options *o, const char *what, eval_array *a);

/* Logits as the float32 matrix the library reads (out->f32); f64 data is rounded, and a finite
   value beyond float32's range is rejected rather than turned into an infinity. */
int eval_read_logits(const char *path, const eval_read_options *o, eval_array *out);

/* n class labels in [0, classes) (integers, in any numeric type) as int32 into *labels (freed by
   the caller). The file must hold exactly n of them, n being the rows of logits_path. */
int eval_read_labels(const char *path, const eval_read_options *o, int64_t n, int64_t classes,
                     const char *logits_path, int32_t **labels);

/* Prints the library's message about file; returns -1. */
int eval_library_error(const char *file, logitnorm_status st);

/* Adds a set's scores; a non-finite score is reported by its index in the file. Returns 0 or -1. */
int eval_add_view(logitnorm_metrics *m, const eval_view *v, int is_ood);

/* Scores n rows of logits (leading dimension classes) with kind into out[n]; returns 0 or -1
   with a message about file. */
int eval_score_logits(const eval_settings *s, const eval_score_kind *kind, int64_t classes, int64_t n,
                      const float *logits, const char *file, float *out);

/* Keeps the first point, every point at least `step` away (|dx| + |dy|, unit coordinates) from
   the last one kept, and the last point: about one point per pixel of path. In place; returns
   the points kept. */
int64_t eval_thin_curve(double *x, double *y, int64_t n, double step);

/* Flushes standard output; returns 0, or -1 with a message when it failed. */
int eval_flush_stdout(void);

/* The commands; each returns the exit status. */
int eval_run_ood(const eval_settings *s);
int eval_run_scores(const eval_settings *s);
int eval_run_selective(const eval_settings *s);
int eval_run_calibration(const eval_settings *s);

#endif
