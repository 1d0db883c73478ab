/* File input and the choice of reader (see load.h). */
#include "eval/load.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/npy.h"
#include "eval/text.h"

int eval_raw_parse(const unsigned char *buf, size_t size, const char *name, const eval_read_options *o,
                   eval_array *out, eval_error *err) {
  out->f32 = NULL;
  out->f64 = NULL;
  out->storage = NULL;
  int64_t elem = (int64_t)eval_dtype_size(o->dtype), cols = o->raw_cols > 0 ? o->raw_cols : 1, row_bytes;
  if (size == 0) return eval_fail(err, "%s: byte 0: empty file", name);
  if (eval_mul_i64(cols, elem, &row_bytes) != 0)
    return eval_fail(err, "%s: --shape with %lld columns of %s overflows a 64-bit size", name, (long long)cols,
                     eval_dtype_name(o->dtype));
  if (size % (uint64_t)elem != 0)
    return eval_fail(err, "%s: byte %zu: the file's %zu bytes are not a whole number of %s elements", name,
                     size - size % (size_t)elem, size, eval_dtype_name(o->dtype));
  int64_t rows = o->raw_rows, need;
  if (rows < 0) {
    if (size % (uint64_t)row_bytes != 0)
      return eval_fail(err, "%s: byte %zu: the file's %zu bytes are not a whole number of rows of %lld %s values",
                       name, size - size % (size_t)row_bytes, size, (long long)cols, eval_dtype_name(o->dtype));
    rows = (int64_t)(size / (uint64_t)row_bytes);
  }
  if (eval_mul_i64(rows, row_bytes, &need) != 0)
    return eval_fail(err, "%s: --shape %lldx%lld of %s overflows a 64-bit size", name, (long long)rows,
                     (long long)cols, eval_dtype_name(o->dtype));
  if ((uint64_t)need != size)
    return eval_fail(err, "%s: byte %zu: --shape %lldx%lld of %s needs %lld bytes, the file has %zu%s", name,
                     (uint64_t)need < size ? (size_t)need : size, (long long)rows, (long long)cols,
                     eval_dtype_name(o->dtype), (long long)need, size, (uint64_t)need > size ? " (truncated)" : "");
  out->ndim = o->raw_cols > 0 ? 2 : 1;
  out->rows = rows;
  out->cols = cols;
  return eval_decode(buf, rows * cols, o->dtype, 0, name, 0, out, err);
}

/* Whether path ends in ext (a dot and letters), ignoring case. */
static int has_ext(const char *path, const char *ext) {
  size_t n = strlen(path), k = strlen(ext);
  if (n < k) return 0;
  for (size_t i = 0; i < k; ++i)
    if (tolower((unsigned char)path[n - k + i]) != ext[i]) return 0;
  return 1;
}

static int read_all(const char *path, unsigned char **data, size_t *size, eval_error *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return eval_fail(err, "%s: cannot open: %s", path, strerror(errno));
  /* a regular file's size sizes the buffer at once; a pipe grows it */
  size_t cap = (size_t)1 << 16, n = 0;
  if (fseek(f, 0, SEEK_END) == 0) {
    long end = ftell(f);
    if (end > 0) cap = (size_t)end + 1;
    if (fseek(f, 0, SEEK_SET) != 0) cap = (size_t)1 << 16;
  }
  unsigned char *buf = malloc(cap);
  for (;;) {
    if (buf == NULL) {
      fclose(f);
      return eval_fail(err, "%s: out of memory reading the file", path);
    }
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    unsigned char *grown = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
    if (grown == NULL) free(buf);
    buf = grown;
    cap *= 2;
  }
  int bad = ferror(f);
  int saved = errno;
  fclose(f);
  if (bad) {
    free(buf);
    return eval_fail(err, "%s: cannot read: %s", path, strerror(saved));
  }
  *data = buf;
  *size = n;
  return 0;
}

/* A .npy file of little-endian f4 or f8 on a little-endian host, its data aligned for the type
   (numpy pads headers to 64 bytes): the array takes over the buffer and reads the data where
   they are, without a copy. Returns 0 when it did, 1 when the file needs decoding, -1 on error. */
static int npy_in_place(unsigned char *buf, size_t size, const char *path, eval_array *out, eval_error *err) {
  const uint16_t probe = 1;
  unsigned char first;
  memcpy(&first, &probe, 1);
  eval_npy_info info;
  if (eval_npy_header(buf, size, path, &info, err) != 0) return -1;
  size_t elem = eval_dtype_size(info.dtype);
  if (first != 1 || info.big_endian || (info.dtype != EVAL_F32 && info.dtype != EVAL_F64) ||
      info.data_start % elem != 0 || info.rows * info.cols == 0)
    return 1;
  out->ndim = info.ndim;
  out->rows = info.rows;
  out->cols = info.cols;
  out->storage = buf;
  if (info.dtype == EVAL_F32)
    out->f32 = (float *)(void *)(buf + info.data_start);
  else
    out->f64 = (double *)(void *)(buf + info.data_start);
  return 0;
}

int eval_read_file(const char *path, const eval_read_options *o, eval_array *out, eval_error *err) {
  unsigned char *buf = NULL;
  size_t size = 0;
  out->f32 = NULL;
  out->f64 = NULL;
  out->storage = NULL;
  if (read_all(path, &buf, &size, err) != 0) return -1;
  int npy_magic = size >= 6 && memcmp(buf, EVAL_NPY_MAGIC, 6) == 0;
  int text_name = has_ext(path, ".csv") || has_ext(path, ".tsv") || has_ext(path, ".txt");
  int st;
  if (has_ext(path, ".npy") || (npy_magic && !text_name)) {
    st = npy_in_place(buf, size, path, out, err);
    if (st == 0) return 0; /* out owns buf */
    if (st > 0) st = eval_npy_parse(buf, size, path, out, err);
  } else if (text_name || !o->raw) {
    st = eval_text_parse(buf, size, path, o->delimiter, out, err);
  } else {
    st = eval_raw_parse(buf, size, path, o, out, err);
  }
  free(buf);
  return st;
}
