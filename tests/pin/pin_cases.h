/* The pinned loss cases: a fixed list of loss calls through the public API whose outputs
   tests/data/loss_pin_<path>.txt records bit for bit, one file per dispatch path (generic,
   avx2). pin_gen writes the files from the library as it is; test_loss_pinned recomputes the
   cases and compares. Rows hold no -inf (masked classes), so these pin the results of unmasked
   rows: a change to the row kernels that is meant to change no bit is seen to change none.

   Each output array is one record: its element count, the 64-bit FNV-1a hash of its values'
   bits (each value's bytes in little-endian order, so the hash is the same on every host) and
   a few sampled values (index and bits), so that a mismatch names the case and the array and
   shows what changed. A grad (or probs) array holds the first C columns of each row, row after
   row; row_stats holds LOGITNORM_LOSS_ROW_STATS doubles per row. */
#ifndef LN_TESTS_PIN_CASES_H
#define LN_TESTS_PIN_CASES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "logitnorm.h"

#define PIN_NAME_MAX 40  /* case names, with their terminating 0 */
#define PIN_ARRAY_MAX 12 /* array names, with their terminating 0 */
#define PIN_SAMPLES 3    /* sampled values per record (fewer when the array is shorter) */
#define PIN_MAX_RECORDS 4

typedef enum pin_call {
  PIN_FORWARD,
  PIN_BACKWARD,
  PIN_FORWARD_BACKWARD,
  PIN_STATS, /* forward_stats (loss_out, row_loss, row_stats), then backward_stats (grad) */
  PIN_PROBS
} pin_call;

typedef struct pin_case {
  char name[PIN_NAME_MAX]; /* "<f32|f64>.<ce|ln>.C<C>.<scenario>", unique */
  int f64;
  logitnorm_loss_kind kind;
  pin_call call;
  int soft;       /* probability targets instead of labels */
  int64_t n, C;
  int64_t ld;     /* leading dimension of logits, targets and grad (probs) alike */
  logitnorm_reduction reduction;
  double smoothing;
  double tau;     /* LogitNorm temperature; 0 keeps the default (always 0 for cross-entropy) */
  int weights;    /* class weights set */
  int ignore;     /* some rows labelled ignore_index */
  int row_scale;  /* backward calls get row_scale */
  int row_loss;   /* row losses asked for (else row_loss NULL) */
  int in_place;   /* grad == logits */
  double alpha, beta;
} pin_case;

typedef struct pin_record {
  char case_name[PIN_NAME_MAX];
  char array[PIN_ARRAY_MAX]; /* loss_out, row_loss, grad, probs or row_stats */
  int64_t count;             /* values */
  int width;                 /* bytes per value: 4 (float) or 8 (double) */
  uint64_t hash;
  int samples;
  int64_t index[PIN_SAMPLES];
  uint64_t bits[PIN_SAMPLES];
} pin_record;

/* The cases, numbered [0, pin_case_count()). */
int pin_case_count(void);
pin_case pin_case_at(int i);

/* Runs case c through the public API and describes its outputs in out[0..r), returning r; or
   returns -1 with the reason in err (a failed call, out of memory). */
int pin_run(const pin_case *c, pin_record out[PIN_MAX_RECORDS], char *err, size_t err_size);

/* A record as one line of a data file, and back. pin_parse returns 1 for a well-formed record
   line, 0 otherwise (comments start with '#'). */
void pin_write(FILE *f, const pin_record *r);
int pin_parse(const char *line, pin_record *r);

/* The compiler and C library this file was built with, for the data files' header line (their
   libm decides the generic path's exp and log, and both paths' log of each row's sum). */
void pin_toolchain(char *buf, size_t size);

#endif
