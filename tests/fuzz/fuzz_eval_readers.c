/* The readers of logitnorm-eval (examples/eval/) on arbitrary bytes: never a crash, an
   over-read or a leak. The first byte picks the reader and its settings, the rest is the file:
     byte % 4 == 0: .npy;  1: text, delimiter from the first line;  2: text, the delimiter
     ',' ';' tab or blanks (byte / 4 % 4);  3: raw, dtype byte / 4 % 5, 0-7 columns (byte / 32).
   A failed read leaves an error naming the file and no data; a successful one has a consistent
   shape whose every element can be read, and a .npy array written back out as .npy version 1.0
   reads back to the same bits. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/load.h"
#include "eval/npy.h"
#include "eval/text.h"

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);      \
      abort();                                                                         \
    }                                                                                  \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const file_name = "input.file";
static volatile uint64_t sink; /* keeps the element reads */

/* The array as .npy version 1.0 (<f4 or <f8), or NULL when it is too large to bother. */
static unsigned char *to_npy(const eval_array *a, size_t *size) {
  int64_t count = a->rows * a->cols;
  if (count > (1 << 20)) return NULL;
  char header[160];
  int len = a->ndim == 1
                ? snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld,), }",
                           a->f32 ? "<f4" : "<f8", (long long)a->rows)
                : snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld, %lld), }",
                           a->f32 ? "<f4" : "<f8", (long long)a->rows, (long long)a->cols);
  size_t elem = a->f32 ? 4 : 8, total = 10 + (size_t)len + 1 + (size_t)count * elem;
  unsigned char *b = malloc(total);
  memcpy(b, "\x93NUMPY\x01\x00", 8);
  b[8] = (unsigned char)((len + 1) & 0xff);
  b[9] = (unsigned char)((len + 1) >> 8);
  memcpy(b + 10, header, (size_t)len);
  b[10 + len] = '\n';
  unsigned char *p = b + 11 + len;
  for (int64_t i = 0; i < count; ++i) {
    uint64_t bits = 0;
    if (a->f32) {
      uint32_t w;
      memcpy(&w, &a->f32[i], 4);
      bits = w;
    } else {
      memcpy(&bits, &a->f64[i], 8);
    }
    for (size_t k = 0; k < elem; ++k) *p++ = (unsigned char)(bits >> (8 * k));
  }
  *size = total;
  return b;
}

static void check_result(int st, const eval_array *a, const eval_error *err) {
  if (st != 0) {
    CHECK(st == -1);
    CHECK(strncmp(err->text, file_name, strlen(file_name)) == 0);
    CHECK(strlen(err->text) > strlen(file_name) + 2);
    CHECK(a->f32 == NULL && a->f64 == NULL && a->storage == NULL);
    return;
  }
  CHECK(a->ndim == 1 || a->ndim == 2);
  CHECK(a->rows >= 0 && a->cols >= 0);
  CHECK(a->ndim == 2 || a->cols == 1);
  int64_t count = a->rows * a->cols;
  CHECK(count == 0 || ((a->f32 == NULL) != (a->f64 == NULL)));
  CHECK(count == 0 || a->storage != NULL);
  /* read every element, so an allocation shorter than the shape is an over-read */
  uint64_t acc = 0;
  for (int64_t i = 0; i < count; ++i) {
    uint64_t bits = 0;
    if (a->f32)
      memcpy(&bits, &a->f32[i], 4);
    else
      memcpy(&bits, &a->f64[i], 8);
    acc ^= bits;
  }
  sink ^= acc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t mode = data[0];
  const unsigned char *file = data + 1;
  size_t file_size = size - 1;
  eval_array a = {0};
  eval_error err = {{0}};
  int st;
  switch (mode % 4) {
    case 0: st = eval_npy_parse(file, file_size, file_name, &a, &err); break;
    case 1: st = eval_text_parse(file, file_size, file_name, EVAL_TEXT_AUTO, &a, &err); break;
    case 2: {
      static const char delimiters[4] = {',', ';', '\t', ' '};
      st = eval_text_parse(file, file_size, file_name, delimiters[mode / 4 % 4], &a, &err);
      break;
    }
    default: {
      eval_read_options o = {.raw = 1, .dtype = (eval_dtype)(mode / 4 % 5), .raw_rows = -1, .raw_cols = mode / 32};
      st = eval_raw_parse(file, file_size, file_name, &o, &a, &err);
      break;
    }
  }
  check_result(st, &a, &err);
  if (st == 0 && mode % 4 == 0) {
    size_t n = 0;
    unsigned char *again = to_npy(&a, &n);
    if (again != NULL) {
      eval_array b = {0};
      eval_error err2 = {{0}};
      CHECK(eval_npy_parse(again, n, file_name, &b, &err2) == 0);
      CHECK(b.ndim == a.ndim && b.rows == a.rows && b.cols == a.cols);
      size_t bytes = (size_t)(a.rows * a.cols) * (a.f32 ? 4 : 8);
      CHECK(bytes == 0 || memcmp(a.f32 ? (void *)a.f32 : (void *)a.f64, b.f32 ? (void *)b.f32 : (void *)b.f64,
                                 bytes) == 0);
      eval_array_free(&b);
      free(again);
    }
  }
  eval_array_free(&a);
  return 0;
}
