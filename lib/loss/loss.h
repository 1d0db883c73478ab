/* The loss handle and the row-kernel interface shared by the generic and SIMD kernels. */
#ifndef LN_LOSS_LOSS_H
#define LN_LOSS_LOSS_H

#include <stdint.h>

#include "common/blas.h"
#include "logitnorm.h"

/* The smallest temperature: 1/tau bounds |u| = |z| / (tau (||z|| + eps)), and the loss can reach
   2/tau + log C, which must stay finite in float. */
#define LN_TAU_MIN 1e-30
/* Default bound on the linear head's extra memory (LOGITNORM_LOSS_WORKSPACE_BYTES). */
#define LN_LOSS_WORKSPACE_DEFAULT (64 << 20)

struct logitnorm_loss {
  logitnorm_loss_kind kind;
  int64_t num_classes;
  double tau;       /* LogitNorm temperature */
  double eps;       /* added to ||z|| */
  double smoothing; /* label smoothing in [0, 1] */
  int reduction;    /* logitnorm_reduction */
  int64_t ignore_index;
  int check_finite;
  int threads;
  int64_t workspace_bytes; /* bound on the linear head's extra memory */
  ln_blas *blas;           /* the linear head's BLIS runtime object, with THREADS threads */
  double *weights;   /* num_classes class weights, or NULL for all ones */
  double weight_sum; /* sum of the weights (num_classes when NULL) */
};

/* The element type of a call's logits, targets and gradient (row losses, row scales and alpha,
   beta are double for f64 and float otherwise; the half types are computed in float). */
typedef enum ln_elem_type { LN_ELEM_F32 = 0, LN_ELEM_F64 = 1, LN_ELEM_BF16 = 2, LN_ELEM_F16 = 3 } ln_elem_type;

/* What the rows of a job are computed against. */
typedef enum ln_rows_mode {
  LN_ROWS_LABELS,  /* hard labels (labels): loss, gradient, statistics */
  LN_ROWS_TARGETS, /* probability targets (targets, ldt): loss, gradient, statistics */
  LN_ROWS_PROBS,   /* none: softmax(u) is written into grad (a probs call) */
} ln_rows_mode;

/* One call's work, shared read-only by every part of the row range.
   Per row i (ignored rows give 0 loss, 0 gradient and 0 statistics):
     row_loss[i] = l_i,   grad_i = gscale * s_i * dl_i/dz_i + beta * grad_i
   where s_i = row_scale[i] (1 when NULL). logits, targets and grad are arrays of the call's
   element type; row_scale and row_loss of the type the kernels compute in (float or double); mode says which of labels and targets the rows use.
   stats_out (forward_stats) receives LOGITNORM_LOSS_ROW_STATS doubles per row; with stats_in
   (backward_stats) the kernels skip the forward passes and use the saved statistics. */
typedef struct ln_loss_job {
  const logitnorm_loss *loss;
  ln_rows_mode mode;
  const void *logits;
  int64_t ld;
  const int32_t *labels;
  const void *targets;
  int64_t ldt;
  const void *row_scale;
  void *row_loss;
  void *grad;
  int64_t ldg;
  double gscale;
  double beta;
  double *stats_out;
  const double *stats_in;
} ln_loss_job;

/* Bytes of stack a row keeps its exp values in between passes 2 and 3 when the grad row cannot
   hold them (in place, or beta != 0). Calls whose rows are longer pass a heap block instead. */
#define LN_ECACHE_BYTES 16384

/* Runs rows [begin, end) and returns the sum of their losses (accumulated in double). ecache is
   NULL or this worker's block of num_classes elements for the exp values (see LN_ECACHE_BYTES). */
typedef double (*ln_loss_rows_fn)(const ln_loss_job *job, int64_t begin, int64_t end, void *ecache);

/* Runs the row kernels of the dispatch path for the element type over
   rows [0, n) of job, in the fixed parts of common/parallel.h on up to `threads` threads; returns
   the sum of the row losses, added part by part in order (so any thread count gives the same
   bits). ecache is NULL or `threads` blocks of num_classes elements of the compute type, one per
   worker. Inputs must be validated. */
double ln_loss_rows_run(const ln_loss_job *job, int64_t n, ln_elem_type elem, int threads, void *ecache);

/* The generic row kernels, for every mode of ln_rows_mode. */
double ln_loss_rows_f32(const ln_loss_job *job, int64_t begin, int64_t end, void *ecache);
double ln_loss_rows_f64(const ln_loss_job *job, int64_t begin, int64_t end, void *ecache);
double ln_loss_rows_bf16(const ln_loss_job *job, int64_t begin, int64_t end, void *ecache);
double ln_loss_rows_f16(const ln_loss_job *job, int64_t begin, int64_t end, void *ecache);

/* The MEAN divisor over a batch: the sum of target-class weights over rows that are not ignored
   (PyTorch's nll_loss and label-smoothing normalisation), or n for probability targets
   (labels == NULL). */
double ln_loss_mean_divisor(const logitnorm_loss *L, int64_t n, const int32_t *labels);

/* The target sums {sq, squ 2^-LN_SQU_SHIFT, LN_SQU_SHIFT} of a row into sums[2..4], in double and
   scaled so that they cannot overflow (see row_math.h): for rows whose plain sums left the range,
   on either dispatch path. t is the row's targets (LN_ROWS_TARGETS), h its ln_row_head. */
struct ln_row_head;
void ln_row_qsums_careful_f32(const logitnorm_loss *L, ln_rows_mode mode, const float *z, const float *t,
                              const struct ln_row_head *h, double *sums);
void ln_row_qsums_careful_f64(const logitnorm_loss *L, ln_rows_mode mode, const double *z, const double *t,
                              const struct ln_row_head *h, double *sums);
void ln_row_qsums_careful_bf16(const logitnorm_loss *L, ln_rows_mode mode, const uint16_t *z, const uint16_t *t,
                               const struct ln_row_head *h, double *sums);
void ln_row_qsums_careful_f16(const logitnorm_loss *L, ln_rows_mode mode, const uint16_t *z, const uint16_t *t,
                              const struct ln_row_head *h, double *sums);

/* The L2 norm of a row without overflow or underflow in the sum of squares. */
double ln_row_norm_f32(const float *z, int64_t n);
double ln_row_norm_f64(const double *z, int64_t n);
double ln_row_norm_bf16(const uint16_t *z, int64_t n);
double ln_row_norm_f16(const uint16_t *z, int64_t n);

#endif
