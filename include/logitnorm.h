/*
 * liblogitnorm: LogitNorm and cross-entropy loss kernels, OOD scorers and OOD metrics.
 *
 * LogitNorm (Wei et al., ICML 2022) trains on z / (tau * (||z||_2 + eps)) instead of the raw
 * logits z, which keeps softmax confidence from growing on every input and makes max-softmax
 * confidence separate in-distribution (ID) from out-of-distribution (OOD) inputs.
 *
 * Conventions (the stable ABI, see README.md):
 *  - every function returns a logitnorm_status (0 = OK) except *_free, the version and the
 *    string functions; a failed call writes no output and changes no handle;
 *  - logitnorm_last_error() gives this thread's detail text for its last failed call;
 *  - everything is an opaque handle: *_create(&out, ...) and *_free(h) (NULL is accepted);
 *  - matrices are row-major with an explicit leading dimension ld >= columns, in elements;
 *    only the first `columns` entries of each row are read or written;
 *  - counts are int64_t, labels are int32_t;
 *  - compute calls take a const handle: one configured handle may be shared by many threads,
 *    but *_set must not race with compute. The metrics accumulator is the exception: its
 *    value and curve calls take a mutable handle, because the first one after an add sorts
 *    the scores in place, so they must not run concurrently on one accumulator;
 *  - enum values are explicit and never renumbered; new values are only appended.
 */
#ifndef LOGITNORM_H
#define LOGITNORM_H

#include <stddef.h>
#include <stdint.h>

#if defined(LOGITNORM_STATIC_DEFINE)
#  define LOGITNORM_API
#elif defined(_WIN32)
#  if defined(LOGITNORM_BUILDING)
#    define LOGITNORM_API __declspec(dllexport)
#  else
#    define LOGITNORM_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define LOGITNORM_API __attribute__((visibility("default")))
#else
#  define LOGITNORM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ================================ stable section ================================ */

/* ---------------- version ---------------- */
#define LOGITNORM_VERSION_MAJOR 1
#define LOGITNORM_VERSION_MINOR 2
#define LOGITNORM_VERSION_PATCH 0
#define LOGITNORM_VERSION_NUMBER \
  (LOGITNORM_VERSION_MAJOR * 10000 + LOGITNORM_VERSION_MINOR * 100 + LOGITNORM_VERSION_PATCH)
#define LOGITNORM_VERSION_STRING "1.2.0"

/* The version of the library actually linked (compare with LOGITNORM_VERSION_NUMBER). */
LOGITNORM_API unsigned logitnorm_version_number(void);
LOGITNORM_API const char *logitnorm_version_string(void);

/* ---------------- status ---------------- */
typedef enum logitnorm_status {
  LOGITNORM_OK = 0,
  LOGITNORM_ERR_NULL_POINTER = 1,     /* a required pointer was NULL */
  LOGITNORM_ERR_INVALID_ARGUMENT = 2, /* bad size, stride, parameter, kind, range or overlap */
  LOGITNORM_ERR_INVALID_LABEL = 3,    /* a label outside [0, C) that is not ignore_index */
  LOGITNORM_ERR_NONFINITE = 4,        /* NaN or Inf in an input, or found while computing */
  LOGITNORM_ERR_OUT_OF_MEMORY = 5,
  LOGITNORM_ERR_INVALID_STATE = 6,    /* the call does not fit the handle's state */
  LOGITNORM_ERR_CORRUPT_DATA = 7,     /* a blob that is truncated, corrupt or of a newer format */
  LOGITNORM_ERR_BUFFER_TOO_SMALL = 8, /* the output capacity is too small; the size is reported */
  LOGITNORM_ERR_UNSUPPORTED = 9       /* valid, but not supported by this kind or build */
} logitnorm_status;

/* A short lower-case description of any status value ("ok", "invalid label", ...); a constant
   string, never NULL ("unknown status" for unknown values). */
LOGITNORM_API const char *logitnorm_status_string(int status);
/* This thread's detail text for its last failed call ("" if none); valid until the thread's
   next failing call. Successful calls leave it unchanged. */
LOGITNORM_API const char *logitnorm_last_error(void);

/* ---------------- loss ---------------- */
typedef struct logitnorm_loss logitnorm_loss;

typedef enum logitnorm_loss_kind {
  LOGITNORM_LOSS_CROSS_ENTROPY = 0, /* cross-entropy on the raw logits */
  LOGITNORM_LOSS_LOGITNORM = 1      /* cross-entropy on z / (tau * (||z|| + eps)) */
} logitnorm_loss_kind;

typedef enum logitnorm_reduction {
  LOGITNORM_REDUCTION_MEAN = 0, /* sum / (sum of target-class weights) (hard), sum / n (soft) */
  LOGITNORM_REDUCTION_SUM = 1,
  LOGITNORM_REDUCTION_NONE = 2  /* per-row losses; loss_out gets their plain sum */
} logitnorm_reduction;

typedef enum logitnorm_loss_param {
  LOGITNORM_LOSS_TEMPERATURE = 100,     /* tau in [1e-30, inf), default 0.04 (the paper's value for
                                           CIFAR-10 on a WideResNet; for other class counts choose
                                           tau with logitnorm_loss_temperature_for_bound, see
                                           docs/getting-started.md); LogitNorm handles only (a
                                           cross-entropy handle: LOGITNORM_ERR_UNSUPPORTED) */
  LOGITNORM_LOSS_EPSILON = 101,         /* >= 0, finite, default 1e-7, added to ||z|| */
  LOGITNORM_LOSS_REDUCTION = 102,       /* logitnorm_reduction, default MEAN */
  LOGITNORM_LOSS_LABEL_SMOOTHING = 103, /* [0, 1], default 0 */
  LOGITNORM_LOSS_IGNORE_INDEX = 104,    /* integer in int32 range, default -100 */
  LOGITNORM_LOSS_CHECK_FINITE = 105,    /* 0 | 1, default 1: reject NaN and +inf inputs before writing
                                           (-inf logits are masks, see below) */
  LOGITNORM_LOSS_THREADS = 106,         /* integer in [1, 1024], default 1: threads used inside one call.
                                           Above 1, a call with n * num_classes >= 32768 starts
                                           min(THREADS, 64) - 1 threads for each of its parallel
                                           passes over the batch and joins them before it returns
                                           (no pool is kept); smaller calls run on the calling
                                           thread only. The linear head does this per block of
                                           rows, and asks BLIS for THREADS threads in its GEMMs. */
  LOGITNORM_LOSS_WORKSPACE_BYTES = 107  /* (1.1) in [1, 2^62] bytes (rounded down), default 2^26
                                           (64 MiB): bound on the linear head's one block per
                                           call (BLIS's packing buffers are outside it) */
} logitnorm_loss_param;

LOGITNORM_API logitnorm_status logitnorm_loss_create(logitnorm_loss **out, logitnorm_loss_kind kind,
                                                     int64_t num_classes);
LOGITNORM_API void logitnorm_loss_free(logitnorm_loss *loss);
LOGITNORM_API logitnorm_status logitnorm_loss_set(logitnorm_loss *loss, logitnorm_loss_param param,
                                                  double value);
LOGITNORM_API logitnorm_status logitnorm_loss_get(const logitnorm_loss *loss, logitnorm_loss_param param,
                                                  double *value);
/* num_classes finite values >= 0, copied; NULL clears the weights (all 1). */
LOGITNORM_API logitnorm_status logitnorm_loss_set_class_weights(logitnorm_loss *loss, const float *weights);

/* logits: n rows of num_classes values, leading dimension ld >= num_classes.
   labels: n class indices in [0, C) or ignore_index.
   loss_out: the reduced loss (MEAN or SUM; with NONE the plain sum of row losses); may be NULL.
   row_loss: n per-row losses (class weight applied, 0 for ignored rows), or NULL.
   row_scale: NULL or n multipliers of each row's gradient (an upstream dL/d(row_loss) under NONE).
   grad = alpha * d(loss)/d(logits) + beta * grad   (BLAS convention: beta = 0 overwrites, and grad
   may then hold NaN). grad == logits with ldg == ld is allowed (in place); any other overlap
   between outputs and inputs is rejected. With CHECK_FINITE on, all inputs are checked before
   anything is written, so a NaN or +inf input leaves every output untouched; with it off, a NaN
   in a row makes that row's loss, the reduced loss and the row's whole gradient NaN.
   Masks: a -inf logit is a masked class. The row's loss and gradient are those of the same row
   with that column removed (left out of the LogitNorm norm, the softmax and the label-smoothing
   mass, which spreads over the unmasked classes); its gradient is exactly 0 (beta * grad). A
   label or probability-target mass on a masked class, or a row masked whole that is not
   ignored, is bad input. n = 0 reads nothing: the data pointers may then be NULL. */
LOGITNORM_API logitnorm_status logitnorm_loss_forward_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, const int32_t *labels, double *loss_out, float *row_loss);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, const int32_t *labels, const float *row_scale,
    float alpha, float beta, float *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, const int32_t *labels, double *loss_out, float *row_loss,
    float alpha, float beta, float *grad, int64_t ldg);
/* Probability targets: n rows of num_classes values, leading dimension ldt >= num_classes,
   PyTorch semantics (label smoothing mixes in 1/C; MEAN divides by n; ignore_index unused). */
LOGITNORM_API logitnorm_status logitnorm_loss_forward_soft_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, const float *targets, int64_t ldt, double *loss_out, float *row_loss);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_soft_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, const float *targets, int64_t ldt, const float *row_scale,
    float alpha, float beta, float *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_soft_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, const float *targets, int64_t ldt, double *loss_out, float *row_loss,
    float alpha, float beta, float *grad, int64_t ldg);

LOGITNORM_API logitnorm_status logitnorm_loss_forward_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, const int32_t *labels, double *loss_out, double *row_loss);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, const int32_t *labels, const double *row_scale,
    double alpha, double beta, double *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, const int32_t *labels, double *loss_out, double *row_loss,
    double alpha, double beta, double *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_soft_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, const double *targets, int64_t ldt, double *loss_out, double *row_loss);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_soft_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, const double *targets, int64_t ldt, const double *row_scale,
    double alpha, double beta, double *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_soft_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, const double *targets, int64_t ldt, double *loss_out, double *row_loss,
    double alpha, double beta, double *grad, int64_t ldg);

/* ---------------- loss, version 1.1 ---------------- */

/* Doubles per row written by forward_stats; fixed within major version 1. */
#define LOGITNORM_LOSS_ROW_STATS 4

/* Forward that also saves row_stats (n * LOGITNORM_LOSS_ROW_STATS doubles, contents private),
   and a backward that uses them instead of recomputing the softmax: one read of the logits,
   one write of grad. Pass the same logits, labels/targets and handle settings to both.
   Statistics that no forward_stats of this handle can have written are rejected with
   LOGITNORM_ERR_INVALID_ARGUMENT (checked cheaply, per row), NaN or Inf in them with
   LOGITNORM_ERR_NONFINITE while CHECK_FINITE is on (with it off, the NaN statistics of a NaN
   row make that row's gradient NaN). The split costs one more read of the logits than
   forward_backward (two with CHECK_FINITE on, which scans them in each call) and computes each
   exp twice, once per call: about 1.3-1.8x the fused call at vocabulary-sized C. */
LOGITNORM_API logitnorm_status logitnorm_loss_forward_stats_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, const int32_t *labels, double *loss_out, float *row_loss, double *row_stats);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_stats_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, const int32_t *labels, const double *row_stats, const float *row_scale,
    float alpha, float beta, float *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_stats_soft_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, const float *targets, int64_t ldt, double *loss_out, float *row_loss,
    double *row_stats);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_stats_soft_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, const float *targets, int64_t ldt, const double *row_stats,
    const float *row_scale, float alpha, float beta, float *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_stats_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, const int32_t *labels, double *loss_out, double *row_loss,
    double *row_stats);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_stats_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, const int32_t *labels, const double *row_stats, const double *row_scale,
    double alpha, double beta, double *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_stats_soft_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, const double *targets, int64_t ldt, double *loss_out, double *row_loss,
    double *row_stats);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_stats_soft_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, const double *targets, int64_t ldt, const double *row_stats,
    const double *row_scale, double alpha, double beta, double *grad, int64_t ldg);

/* The softmax of what the loss sees: softmax(z) for CROSS_ENTROPY, softmax(z / (tau (||z|| + eps)))
   for LOGITNORM, masks applied (a -inf logit has probability 0). Rows of ldp >= num_classes;
   columns past num_classes are not written. */
LOGITNORM_API logitnorm_status logitnorm_loss_probs_f32(const logitnorm_loss *loss, int64_t n,
    const float *logits, int64_t ld, float *probs, int64_t ldp);
LOGITNORM_API logitnorm_status logitnorm_loss_probs_f64(const logitnorm_loss *loss, int64_t n,
    const double *logits, int64_t ld, double *probs, int64_t ldp);

/* Fused linear head: logits = x W^T + bias (x: n x d, ldx; W: num_classes x d row-major, ldw;
   bias: num_classes values or NULL), then the handle's loss; dx += d(loss)/dx, dw += d(loss)/dW,
   dbias += d(loss)/d(bias). Any of dx, dw, dbias may be NULL; all NULL = forward only. d is in
   [1, 2^31 - 1]. A -inf bias entry masks its class in every row, as a -inf logit does (a label
   naming it is LOGITNORM_ERR_INVALID_LABEL); NaN and +inf in the bias are non-finite input.
   The n x num_classes logits are never stored: the call allocates one block of at most
   WORKSPACE_BYTES (default 64 MiB), which holds blocks of logits and the kernels' scratch.
   BLIS's own packing buffers are outside that bound (BLIS keeps them in its memory pools). */
LOGITNORM_API logitnorm_status logitnorm_loss_linear_forward_backward_f32(const logitnorm_loss *loss, int64_t n,
    int64_t d, const float *x, int64_t ldx, const float *w, int64_t ldw, const float *bias, const int32_t *labels,
    double *loss_out, float *row_loss, float *dx, int64_t lddx, float *dw, int64_t lddw, float *dbias);
LOGITNORM_API logitnorm_status logitnorm_loss_linear_forward_backward_f64(const logitnorm_loss *loss, int64_t n,
    int64_t d, const double *x, int64_t ldx, const double *w, int64_t ldw, const double *bias,
    const int32_t *labels, double *loss_out, double *row_loss, double *dx, int64_t lddx, double *dw, int64_t lddw,
    double *dbias);

/* The infimum of the handle's loss over all logit vectors of its num_classes (LogitNorm: attained
   on the sphere of radius 1/tau; label smoothing included), and the temperature at which that
   infimum equals `bound`. CROSS_ENTROPY: the infimum (0 without smoothing); temperature_for_bound
   is LOGITNORM_ERR_UNSUPPORTED there.
   The loss is one row's, without class weights: the handle's weights, epsilon and reduction are
   not used (MEAN divides the weights out, so with weights and no smoothing the MEAN loss has the
   same infimum; a SUM/NONE row of class y has w_y times it). With C = num_classes, s = label
   smoothing and k = s (C-1)/C (docs/math.md, "The loss's lower bound"):
     bound = f(min(sqrt(C/(C-1)) / tau, log(1 + C(1-s)/s))),  f(d) = log(1 + (C-1) e^-d) + k d;
   s = 0: log(1 + (C-1) exp(-sqrt(C/(C-1)) / tau)); C = 1: 0. It is non-decreasing in tau, and
   tends to log C as tau grows. With s > 0 it equals the smoothed targets' entropy (cross-entropy's
   infimum) for every tau up to a tau* and increases strictly above it.
   temperature_for_bound returns the one tau whose bound is `bound`, for `bound` in the open range
   (inf, sup) over tau: (0, log C) for s = 0, (entropy, log C) for s > 0, empty for C = 1 or s = 1.
   Outside it (or a non-finite `bound`): LOGITNORM_ERR_INVALID_ARGUMENT, the message giving the
   range. NULL pointers: LOGITNORM_ERR_NULL_POINTER. Nothing is written on failure. */
LOGITNORM_API logitnorm_status logitnorm_loss_lower_bound(const logitnorm_loss *loss, double *bound);
LOGITNORM_API logitnorm_status logitnorm_loss_temperature_for_bound(const logitnorm_loss *loss, double bound,
                                                                     double *temperature);

/* ---------------- loss, version 1.2: half precision ---------------- */

/* bf16 and IEEE binary16 (f16) elements, as bit patterns (since 1.2). */
typedef uint16_t logitnorm_bf16; /* bfloat16: the top 16 bits of a float */
typedef uint16_t logitnorm_f16;  /* IEEE 754 binary16: 5 exponent bits, largest finite 65504 */

/* The loss entry points of 1.0 and 1.1 with bf16 or f16 logits, probability targets and
   gradients / probabilities (since 1.2); everything else is as for _f32 above, and loss_out,
   row_loss, row_scale, alpha and beta keep their wide types.
   Semantics: each half input is widened exactly to float, and the call computes what the _f32
   call on the same dispatch path computes on those widened values: the same status, the same
   loss_out and row_loss to the last bit, and every half output equal to the _f32 output rounded
   once to nearest-even (NaN stays NaN, infinities stay infinite). With beta != 0 the old half
   gradient is widened, the float sum formed, and rounded once. row_stats are the doubles of 1.1
   and interchangeable between _f32 and half calls on the same (widened) values.
   Non-finite values: NaN and +inf are bad input under CHECK_FINITE and -inf is a mask, in both
   types. f16's range ends at 65504: a gradient entry whose float value is finite but rounds past
   it is written as +inf or -inf (IEEE rounding) and the call still returns LOGITNORM_OK;
   CHECK_FINITE checks inputs, not outputs. That cannot happen for probabilities; for gradients
   it takes a large |alpha * row_scale|, large class weights under SUM, or LogitNorm rows of tiny
   norm (the LogitNorm gradient scales like 1/(tau (||z|| + eps))). Prefer bf16 (float's range)
   for LogitNorm gradients.
   Memory: a half call whose rows are longer than 4096 classes and that writes a gradient (or
   probabilities) allocates one scratch block of THREADS x num_classes floats for the exp values
   (a half output row cannot hold them); if that fails it returns LOGITNORM_ERR_OUT_OF_MEMORY and
   writes nothing. The fused linear head has no half variant. */
LOGITNORM_API logitnorm_status logitnorm_loss_forward_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const int32_t *labels, double *loss_out, float *row_loss);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const int32_t *labels, const float *row_scale,
    float alpha, float beta, logitnorm_bf16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const int32_t *labels, double *loss_out, float *row_loss,
    float alpha, float beta, logitnorm_bf16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_soft_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const logitnorm_bf16 *targets, int64_t ldt, double *loss_out,
    float *row_loss);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_soft_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const logitnorm_bf16 *targets, int64_t ldt, const float *row_scale,
    float alpha, float beta, logitnorm_bf16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_soft_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const logitnorm_bf16 *targets, int64_t ldt, double *loss_out,
    float *row_loss, float alpha, float beta, logitnorm_bf16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_stats_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const int32_t *labels, double *loss_out, float *row_loss,
    double *row_stats);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_stats_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const int32_t *labels, const double *row_stats, const float *row_scale,
    float alpha, float beta, logitnorm_bf16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_stats_soft_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const logitnorm_bf16 *targets, int64_t ldt, double *loss_out,
    float *row_loss, double *row_stats);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_stats_soft_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const logitnorm_bf16 *targets, int64_t ldt, const double *row_stats,
    const float *row_scale, float alpha, float beta, logitnorm_bf16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_probs_bf16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, logitnorm_bf16 *probs, int64_t ldp);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const int32_t *labels, double *loss_out, float *row_loss);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const int32_t *labels, const float *row_scale,
    float alpha, float beta, logitnorm_f16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const int32_t *labels, double *loss_out, float *row_loss,
    float alpha, float beta, logitnorm_f16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_soft_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const logitnorm_f16 *targets, int64_t ldt, double *loss_out,
    float *row_loss);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_soft_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const logitnorm_f16 *targets, int64_t ldt, const float *row_scale,
    float alpha, float beta, logitnorm_f16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_soft_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const logitnorm_f16 *targets, int64_t ldt, double *loss_out,
    float *row_loss, float alpha, float beta, logitnorm_f16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_stats_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const int32_t *labels, double *loss_out, float *row_loss,
    double *row_stats);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_stats_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const int32_t *labels, const double *row_stats, const float *row_scale,
    float alpha, float beta, logitnorm_f16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_forward_stats_soft_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const logitnorm_f16 *targets, int64_t ldt, double *loss_out,
    float *row_loss, double *row_stats);
LOGITNORM_API logitnorm_status logitnorm_loss_backward_stats_soft_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const logitnorm_f16 *targets, int64_t ldt, const double *row_stats,
    const float *row_scale, float alpha, float beta, logitnorm_f16 *grad, int64_t ldg);
LOGITNORM_API logitnorm_status logitnorm_loss_probs_f16(const logitnorm_loss *loss, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, logitnorm_f16 *probs, int64_t ldp);

/* ---------------- OOD scores: higher = more in-distribution, for every kind ---------------- */
typedef struct logitnorm_scorer logitnorm_scorer;

typedef enum logitnorm_score_kind {
  LOGITNORM_SCORE_MSP = 0,          /* max softmax(z/T) */
  LOGITNORM_SCORE_MAX_LOGIT = 1,    /* max z */
  LOGITNORM_SCORE_ENERGY = 2,       /* T * logsumexp(z/T) */
  LOGITNORM_SCORE_ENTROPY = 3,      /* sum p log p  (negative entropy) */
  LOGITNORM_SCORE_GEN = 4,          /* -sum over the top-M p of p^g (1-p)^g */
  LOGITNORM_SCORE_ODIN = 5,         /* MSP at T (default 1000); pair with score_grad for the input perturbation */
  LOGITNORM_SCORE_MAX_COSINE = 6,   /* max z / ||z|| */
  LOGITNORM_SCORE_KL_MATCHING = 20, /* fit: logits (+labels) */
  LOGITNORM_SCORE_MAHALANOBIS = 21, /* fit: features + labels; tied covariance */
  LOGITNORM_SCORE_RMDS = 22,        /* relative Mahalanobis */
  LOGITNORM_SCORE_KNN = 23,         /* fit: features; -(k-th distance of normalised features) */
  LOGITNORM_SCORE_VIM = 24,         /* fit: features; needs head */
  LOGITNORM_SCORE_NNGUIDE = 25,     /* (since 1.2) fit: features; needs head. Bank: each fit feature normalised and
                                       multiplied by its energy (head applied to it). Score: energy(h) x mean of the
                                       K largest inner products of normalised h with the bank rows (OpenOOD's rule;
                                       K: SCORER_K, default 100 for this kind; K above the bank size is
                                       INVALID_ARGUMENT). Energy at T = 1 */
  LOGITNORM_SCORE_FDBD = 26,        /* (since 1.2) fit: features (their mean); needs head with pairwise distinct rows
                                       and C >= 2: mean over j != argmax of |z_hat - z_j| / ||w_hat - w_j||, divided
                                       by ||h - mean|| (the paper's mean; OpenOOD sums, a factor C - 1 that leaves
                                       the ranking unchanged). The first index wins a tied argmax. Keeps C x C
                                       floats of head distances */
  LOGITNORM_SCORE_GRADNORM = 30,    /* closed form ||h||_1 * sum_k |C p_k - 1|; needs head */
  LOGITNORM_SCORE_REACT = 31,       /* energy of W min(h, c) + b; c = percentile of fit activations or set directly */
  LOGITNORM_SCORE_ASH = 32,         /* variant S (default), P or B; then energy */
  LOGITNORM_SCORE_DICE = 33,        /* weight sparsification by contribution percentile; then energy */
  LOGITNORM_SCORE_SCALE = 34,       /* (since 1.2) needs head: keep the k = D - round(D x PERCENTILE / 100) largest
                                       entries of h (as ASH counts), r = sum(h) / sum(kept); energy of
                                       W (h x exp(r)) + b. PERCENTILE default 85 for this kind (OpenOOD) */
  LOGITNORM_SCORE_DML = 35          /* (since 1.2) needs head (bias not used): max_j cos(h, w_j) + LAMBDA x ||h||
                                       (Decoupled MaxLogit, Zhang and Xiang, CVPR 2023) */
} logitnorm_score_kind;

typedef enum logitnorm_scorer_param {
  LOGITNORM_SCORER_TEMPERATURE = 200, /* > 0; default 1 (ODIN: 1000); MSP, ENERGY, ODIN, REACT, ASH, DICE, SCALE */
  LOGITNORM_SCORER_GAMMA = 201,       /* > 0, default 0.1 (GEN) */
  LOGITNORM_SCORER_TOP_M = 202,       /* integer >= 1, default 100, capped at C (GEN) */
  LOGITNORM_SCORER_K = 203,           /* integer in [1, 2^31 - 1], default 50 (KNN); NNGUIDE: default 100 */
  LOGITNORM_SCORER_PERCENTILE = 204,  /* [0, 100), default 90 (REACT, ASH, DICE); SCALE: default 85 */
  LOGITNORM_SCORER_CLIP = 205,        /* > 0: REACT clip value set directly; 0 (default): from PERCENTILE */
  LOGITNORM_SCORER_ASH_VARIANT = 206, /* logitnorm_ash_variant, default S */
  LOGITNORM_SCORER_VIM_DIM = 207,     /* integer in [1, D - 1]: principal dimensions kept; 0 (default): min(256, D/2) */
  LOGITNORM_SCORER_THREADS = 208,     /* integer in [1, 1024], default 1: threads for BLIS and the scorer.
                                         Above 1, each pass the scorer splits over rows (the
                                         logit-only kinds, KNN's neighbour selection) starts
                                         min(THREADS, 64) - 1 threads and joins them before the
                                         call returns, whatever the batch size. */
  LOGITNORM_SCORER_RIDGE = 209,       /* >= 0: covariance ridge as a multiple of trace/D, default 1e-6 */
  LOGITNORM_SCORER_LAMBDA = 210       /* (since 1.2) finite, >= 0: DML's weight of the feature norm; default 0
                                         (MaxCosine alone): the paper tunes it per model (docs/scores.md says how) */
} logitnorm_scorer_param;

typedef enum logitnorm_ash_variant {
  LOGITNORM_ASH_S = 0, LOGITNORM_ASH_P = 1, LOGITNORM_ASH_B = 2
} logitnorm_ash_variant;

LOGITNORM_API logitnorm_status logitnorm_scorer_create(logitnorm_scorer **out, logitnorm_score_kind kind,
                                                       int64_t num_classes, int64_t feature_dim);
LOGITNORM_API void logitnorm_scorer_free(logitnorm_scorer *s);
LOGITNORM_API logitnorm_status logitnorm_scorer_set(logitnorm_scorer *s, int param, double value);
LOGITNORM_API logitnorm_status logitnorm_scorer_get(const logitnorm_scorer *s, int param, double *value);
/* weight: C x D row-major with leading dimension ldw >= D; bias: C values or NULL; both copied. */
LOGITNORM_API logitnorm_status logitnorm_scorer_set_head_f32(logitnorm_scorer *s, const float *weight,
                                                             int64_t ldw, const float *bias);
/* Adds a batch to the fit; call repeatedly, then prepare. NULL what the kind does not use. */
LOGITNORM_API logitnorm_status logitnorm_scorer_fit_f32(logitnorm_scorer *s, int64_t n, const float *features,
    int64_t ldf, const float *logits, int64_t ld, const int32_t *labels);
/* Ends fitting; required before score for kinds that fit. */
LOGITNORM_API logitnorm_status logitnorm_scorer_prepare(logitnorm_scorer *s);
LOGITNORM_API logitnorm_status logitnorm_scorer_score_f32(const logitnorm_scorer *s, int64_t n,
    const float *logits, int64_t ld, const float *features, int64_t ldf, float *scores);
/* (since 1.2) score_f32 with bf16 or f16 logits and features (logitnorm_bf16 and logitnorm_f16,
   declared with the half loss above): each equals logitnorm_scorer_score_f32 on the exactly
   widened values, bit for bit: the same status for the same bad input (NaN and +inf are bad
   input, -inf a masked class, as there; ld and ldf are sized as for floats), the same scores.
   Memory: one scratch block besides what the f32 call takes: the logit-only kinds widen each
   row into a row of C floats per thread; the other kinds widen blocks of 256 rows (KNN and
   NNGUIDE: 512) into 256 x D (512 x D, KL_MATCHING 256 x C) floats. Fitting, set_head and
   score_grad stay f32. */
LOGITNORM_API logitnorm_status logitnorm_scorer_score_bf16(const logitnorm_scorer *s, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const logitnorm_bf16 *features, int64_t ldf, float *scores);
LOGITNORM_API logitnorm_status logitnorm_scorer_score_f16(const logitnorm_scorer *s, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const logitnorm_f16 *features, int64_t ldf, float *scores);
/* d score / d logits (n rows, leading dimension ldg), logit-only kinds; scores may be NULL. */
LOGITNORM_API logitnorm_status logitnorm_scorer_score_grad_f32(const logitnorm_scorer *s, int64_t n,
    const float *logits, int64_t ld, float *scores, float *grad, int64_t ldg);
/* capacity 0: size query (*size gets the blob size). */
LOGITNORM_API logitnorm_status logitnorm_scorer_save(const logitnorm_scorer *s, void *buf, size_t capacity,
                                                     size_t *size);
/* A loaded scorer starts with THREADS = 1 whatever the blob holds (thread counts belong to the
   machine that scores, not to the model); set THREADS after loading to use more. */
LOGITNORM_API logitnorm_status logitnorm_scorer_load(logitnorm_scorer **out, const void *buf, size_t size);

/* ---------------- OOD metrics ---------------- */
typedef struct logitnorm_metrics logitnorm_metrics;

typedef enum logitnorm_metrics_param {
  LOGITNORM_METRICS_TPR_LEVEL = 300, /* (0, 1], default 0.95 */
  LOGITNORM_METRICS_POSITIVE = 301,  /* logitnorm_positive, default ID */
  LOGITNORM_METRICS_FPR_RULE = 302,  /* logitnorm_fpr_rule, default NEAREST */
  LOGITNORM_METRICS_AUPR_RULE = 303, /* logitnorm_aupr_rule, default AVERAGE_PRECISION */
  LOGITNORM_METRICS_COVERAGE = 304,  /* (since 1.2) (0, 1], default 0.8: the level of RISK_AT_COVERAGE */
  LOGITNORM_METRICS_RISK = 305,      /* (since 1.2) [0, 1], default 0.05: the level of COVERAGE_AT_RISK */
  LOGITNORM_METRICS_RISK_RULE = 306  /* (since 1.2) logitnorm_risk_rule, default TRAPEZOID */
} logitnorm_metrics_param;

typedef enum logitnorm_positive {
  LOGITNORM_POSITIVE_ID = 0, /* the LogitNorm paper and its code */
  LOGITNORM_POSITIVE_OOD = 1 /* OpenOOD v1.5 and pytorch-ood: scores negated, OOD positive */
} logitnorm_positive;

typedef enum logitnorm_fpr_rule {
  LOGITNORM_FPR_RULE_NEAREST = 0,  /* operating point with recall nearest the level (official LogitNorm code) */
  LOGITNORM_FPR_RULE_AT_LEAST = 1, /* first operating point with TPR >= level */
  LOGITNORM_FPR_RULE_OPENOOD = 2   /* AT_LEAST after scikit-learn's drop_intermediate */
} logitnorm_fpr_rule;

typedef enum logitnorm_aupr_rule {
  LOGITNORM_AUPR_AVERAGE_PRECISION = 0, /* scikit-learn average_precision_score */
  LOGITNORM_AUPR_TRAPEZOID = 1          /* trapezoid over the PR curve */
} logitnorm_aupr_rule;

/* (since 1.2) How the selective-classification values are computed (docs/metrics.md). Every rule
   sorts by confidence, highest first; it changes AURC, E_AURC and AUGRC, and PER_SAMPLE also the
   risk at a coverage and the coverage at a risk. */
typedef enum logitnorm_risk_rule {
  LOGITNORM_RISK_RULE_TRAPEZOID = 0, /* one point per distinct confidence, trapezoid from the first point to
                                        coverage 1 (fd-shifts); E-AURC against the perfect ranking's trapezoid */
  LOGITNORM_RISK_RULE_GEIFMAN = 1,   /* the E-AURC paper's code (Geifman, Uziel, El-Yaniv 2019): mean of the
                                        per-sample risks as it computes them, minus r + (1 - r) ln(1 - r) */
  LOGITNORM_RISK_RULE_PER_SAMPLE = 2 /* torch-uncertainty: one point per sample, trapezoid over coverage
                                        [1/N, 1] divided by 1 - 1/N; needs N >= 2 for the areas */
} logitnorm_risk_rule;

typedef enum logitnorm_metric {
  LOGITNORM_METRIC_AUROC = 0, LOGITNORM_METRIC_AUPR_IN = 1, LOGITNORM_METRIC_AUPR_OUT = 2,
  LOGITNORM_METRIC_FPR_AT_TPR = 3, LOGITNORM_METRIC_THRESHOLD_AT_TPR = 4, LOGITNORM_METRIC_DETECTION_ERROR = 5,
  LOGITNORM_METRIC_COUNT_ID = 6, LOGITNORM_METRIC_COUNT_OOD = 7,
  /* (since 1.2) Selective classification: add the confidence of each correctly classified sample
     with is_ood = 0 and of each misclassified one with is_ood = 1 (POSITIVE does not apply).
     Sorted by confidence, highest first, with one point per distinct confidence: coverage =
     accepted / N, risk = errors accepted / accepted, generalised risk = errors accepted / N.
     They need N >= 1 sample (either class); otherwise LOGITNORM_ERR_INVALID_STATE. */
  LOGITNORM_METRIC_AURC = 8,              /* area under the risk-coverage curve */
  LOGITNORM_METRIC_E_AURC = 9,            /* AURC minus the AURC of a perfect ranking with the same errors */
  LOGITNORM_METRIC_AUGRC = 10,            /* area under the generalised risk-coverage curve (Traub et al., 2024) */
  LOGITNORM_METRIC_RISK_AT_COVERAGE = 11, /* risk at the first point with coverage >= LOGITNORM_METRICS_COVERAGE */
  LOGITNORM_METRIC_COVERAGE_AT_RISK = 12  /* largest coverage of a point with risk <= LOGITNORM_METRICS_RISK;
                                             0 when none */
} logitnorm_metric;

typedef enum logitnorm_curve {
  LOGITNORM_CURVE_ROC = 0, /* x = FPR, y = TPR */
  LOGITNORM_CURVE_PR = 1   /* x = recall, y = precision */
} logitnorm_curve;

LOGITNORM_API logitnorm_status logitnorm_metrics_create(logitnorm_metrics **out);
LOGITNORM_API void logitnorm_metrics_free(logitnorm_metrics *m);
LOGITNORM_API logitnorm_status logitnorm_metrics_set(logitnorm_metrics *m, logitnorm_metrics_param p, double value);
LOGITNORM_API logitnorm_status logitnorm_metrics_get(const logitnorm_metrics *m, logitnorm_metrics_param p,
                                                     double *value);
LOGITNORM_API logitnorm_status logitnorm_metrics_add_f32(logitnorm_metrics *m, const float *scores, int64_t n,
                                                         int is_ood);
LOGITNORM_API logitnorm_status logitnorm_metrics_add_f64(logitnorm_metrics *m, const double *scores, int64_t n,
                                                         int is_ood);
LOGITNORM_API logitnorm_status logitnorm_metrics_value(logitnorm_metrics *m, logitnorm_metric which, double *out);
/* curve: logitnorm_curve. capacity 0: count query (*count gets the number of points). */
LOGITNORM_API logitnorm_status logitnorm_metrics_curve(logitnorm_metrics *m, int curve, double *x, double *y,
    double *thresholds, int64_t capacity, int64_t *count);
LOGITNORM_API logitnorm_status logitnorm_metrics_merge(logitnorm_metrics *dst, const logitnorm_metrics *src);
LOGITNORM_API logitnorm_status logitnorm_metrics_reset(logitnorm_metrics *m);
LOGITNORM_API logitnorm_status logitnorm_metrics_save(const logitnorm_metrics *m, void *buf, size_t capacity,
                                                      size_t *size);
LOGITNORM_API logitnorm_status logitnorm_metrics_load(logitnorm_metrics **out, const void *buf, size_t size);
/* One call with the defaults (ID positive, TPR 0.95, NEAREST, AP); any out pointer may be NULL. */
LOGITNORM_API logitnorm_status logitnorm_ood_metrics_f32(const float *id_scores, int64_t n_id,
    const float *ood_scores, int64_t n_ood, double *auroc, double *aupr_in, double *aupr_out,
    double *fpr_at_95_tpr);

/* ---------------- calibration and accuracy ---------------- */
typedef struct logitnorm_calibration logitnorm_calibration;

/* BINS, TEMPERATURE and BINNING shape what is accumulated: they can change only while the
   accumulator is empty (LOGITNORM_ERR_INVALID_STATE otherwise; reset empties it). */
typedef enum logitnorm_calibration_param {
  LOGITNORM_CALIBRATION_BINS = 400,        /* integer in [1, 10000], default 15 */
  LOGITNORM_CALIBRATION_TEMPERATURE = 401, /* in [1e-100, 1e100], default 1: softmax(z / T) */
  LOGITNORM_CALIBRATION_BINNING = 402      /* (since 1.2) logitnorm_binning, default EQUAL_WIDTH */
} logitnorm_calibration_param;

/* (since 1.2) How rows are put into the BINS bins of ECE, MCE, RMSCE and the reliability data.
   Memory: EQUAL_WIDTH keeps BINS bins of 576 bytes, plus, from the first add, 32 bytes per
   (class, bin) pair for CLASSWISE_ECE: 32 x num_classes x BINS bytes (480 KB for 1000 classes
   and 15 bins). EQUAL_MASS keeps the BINS bins and 8 bytes per row added (the row's confidence,
   filed by correctness), and logitnorm_calibration_value and _bins take 16 bytes per row more
   while they run (a sorted copy), which they allocate and free. */
typedef enum logitnorm_binning {
  LOGITNORM_BINNING_EQUAL_WIDTH = 0, /* bins (k/B, (k+1)/B]; a confidence of 0 goes to bin 0 */
  LOGITNORM_BINNING_EQUAL_MASS = 1   /* rows sorted by (confidence, correct) and split by rank into
                                        BINS bins whose sizes differ by at most one, the first
                                        N mod BINS one larger (numpy's array_split); when N < BINS
                                        the empty bins are skipped */
} logitnorm_binning;

typedef enum logitnorm_calibration_value_kind {
  LOGITNORM_CALIBRATION_ECE = 0, LOGITNORM_CALIBRATION_MCE = 1, LOGITNORM_CALIBRATION_ACCURACY = 2,
  LOGITNORM_CALIBRATION_NLL = 3, LOGITNORM_CALIBRATION_BRIER = 4, LOGITNORM_CALIBRATION_COUNT = 5,
  LOGITNORM_CALIBRATION_RMSCE = 6,        /* (since 1.2) sqrt(sum_k (n_k / N) (conf_k - acc_k)^2) over the bins */
  LOGITNORM_CALIBRATION_CLASSWISE_ECE = 7 /* (since 1.2) mean over classes k of the equal-width ECE of p_k
                                             against [y == k] (Kull et al., 2019); UNSUPPORTED under
                                             EQUAL_MASS, INVALID_STATE when some rows came from a blob of
                                             1.0/1.1, which holds no per-class sums */
} logitnorm_calibration_value_kind;

LOGITNORM_API logitnorm_status logitnorm_calibration_create(logitnorm_calibration **out, int64_t num_classes);
LOGITNORM_API void logitnorm_calibration_free(logitnorm_calibration *c);
LOGITNORM_API logitnorm_status logitnorm_calibration_set(logitnorm_calibration *c, int param, double value);
LOGITNORM_API logitnorm_status logitnorm_calibration_get(const logitnorm_calibration *c, int param, double *value);
LOGITNORM_API logitnorm_status logitnorm_calibration_add_f32(logitnorm_calibration *c, int64_t n,
    const float *logits, int64_t ld, const int32_t *labels);
/* (since 1.2) add_f32 with bf16 or f16 logits: each equals logitnorm_calibration_add_f32 on the
   exactly widened values, bit for bit: the same status for the same bad input, and the same
   accumulator afterwards (values and saved blob alike). Allocates one row of C floats. */
LOGITNORM_API logitnorm_status logitnorm_calibration_add_bf16(logitnorm_calibration *c, int64_t n,
    const logitnorm_bf16 *logits, int64_t ld, const int32_t *labels);
LOGITNORM_API logitnorm_status logitnorm_calibration_add_f16(logitnorm_calibration *c, int64_t n,
    const logitnorm_f16 *logits, int64_t ld, const int32_t *labels);
LOGITNORM_API logitnorm_status logitnorm_calibration_value(const logitnorm_calibration *c, int which, double *out);
LOGITNORM_API logitnorm_status logitnorm_calibration_merge(logitnorm_calibration *dst,
                                                           const logitnorm_calibration *src);
LOGITNORM_API logitnorm_status logitnorm_calibration_reset(logitnorm_calibration *c);
LOGITNORM_API logitnorm_status logitnorm_calibration_save(const logitnorm_calibration *c, void *buf,
                                                          size_t capacity, size_t *size);
LOGITNORM_API logitnorm_status logitnorm_calibration_load(logitnorm_calibration **out, const void *buf,
                                                          size_t size);
/* (since 1.2) Reliability-diagram data, one entry per bin that holds rows, in ascending
   confidence: count[k] rows, their mean confidence[k] and their accuracy[k]. Any of the three
   arrays may be NULL. capacity 0: *bins gets the number of bins and nothing else is written.
   A capacity below that number is LOGITNORM_ERR_BUFFER_TOO_SMALL, with nothing written (ask
   with capacity 0 first); an empty accumulator is LOGITNORM_ERR_INVALID_STATE. */
LOGITNORM_API logitnorm_status logitnorm_calibration_bins(const logitnorm_calibration *c, double *count,
    double *confidence, double *accuracy, int64_t capacity, int64_t *bins);

/* (since 1.2) Temperature scaling (Guo et al., 2017): *temperature gets the T > 0 minimising the
   mean negative log-likelihood of softmax(z / T) over n rows of num_classes logits (ld >=
   num_classes) with their labels, to 1e-10 relative (Newton's method on 1/T, in which the NLL is
   convex, safeguarded by bisection). -inf logits are masked classes; a label must be in
   [0, num_classes) and on an unmasked class; NaN and +inf are NONFINITE; n = 0 is
   INVALID_ARGUMENT. The result lies in [1e-100, 1e100], the range of
   LOGITNORM_CALIBRATION_TEMPERATURE. LOGITNORM_ERR_INVALID_STATE, with the reason in
   logitnorm_last_error(), when no such T exists: every label is an argmax of its row (the NLL
   falls all the way to T -> 0), the mean NLL is smallest at T -> infinity (its slope in 1/T at
   1/T = 0, mean(mean_j z_j - z_y), is >= 0: every row with equal logits is one case), or the
   minimiser lies outside [1e-100, 1e100]. Nothing is written on failure. */
LOGITNORM_API logitnorm_status logitnorm_calibration_fit_temperature_f32(int64_t n, int64_t num_classes,
    const float *logits, int64_t ld, const int32_t *labels, double *temperature);
LOGITNORM_API logitnorm_status logitnorm_calibration_fit_temperature_f64(int64_t n, int64_t num_classes,
    const double *logits, int64_t ld, const int32_t *labels, double *temperature);

/* ============================== end of stable section ============================== */

#ifdef __cplusplus
}
#endif

#endif /* LOGITNORM_H */
