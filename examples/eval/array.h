/* The arrays logitnorm-eval reads (1-D scores, 2-D logits) and the one error text a reader
   leaves. Every reader works on bytes already in memory, so the same code is fuzzed and run. */
#ifndef EVAL_ARRAY_H
#define EVAL_ARRAY_H

#include <stddef.h>
#include <stdint.h>

typedef enum eval_dtype { EVAL_F16 = 0, EVAL_F32 = 1, EVAL_F64 = 2, EVAL_I32 = 3, EVAL_I64 = 4 } eval_dtype;

/* rows x cols values, row-major; a 1-D file has ndim 1 and cols 1. f16 and f32 data are held as
   f32 (f16 converts exactly), f64 and integer data as f64 (an integer of magnitude above 2^53,
   which a double cannot hold exactly, is rejected). When rows * cols > 0 exactly one of f32 and
   f64 is set. Both point into `storage`, the one allocation the array owns (a reader may hand
   over the whole file it read, the values at an offset in it). */
typedef struct eval_array {
  int ndim;
  int64_t rows, cols;
  float *f32;
  double *f64;
  void *storage;
} eval_array;

/* A reader's error: the file's name, then where (byte offset or line), then what. */
typedef struct eval_error {
  char text[640];
} eval_error;

/* Frees the storage; the array is then empty. */
void eval_array_free(eval_array *a);

/* printf into err->text; returns -1, the readers' failure value. */
int eval_fail(eval_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

size_t eval_dtype_size(eval_dtype t);
const char *eval_dtype_name(eval_dtype t); /* "f16", "f32", ... */
/* "f16", "f32", "f64", "i32", "i64" -> t; returns 0, or -1 for anything else. */
int eval_dtype_parse(const char *s, eval_dtype *t);

/* *out = a * b when both are >= 0 and the product fits in int64; returns 0, or -1 on overflow. */
int eval_mul_i64(int64_t a, int64_t b, int64_t *out);

/* Decodes `count` elements of type t stored at src (big-endian when big_endian, else
   little-endian, whatever the host) into a new buffer of out (f32 or f64, as above); out's
   shape is the caller's. A bad element is named by its byte offset, `base` being src's
   offset in the file. Returns 0, or -1 with err set (nothing allocated). */
int eval_decode(const unsigned char *src, int64_t count, eval_dtype t, int big_endian, const char *name,
                int64_t base, eval_array *out, eval_error *err);

#endif
