/* .npy files (numpy's format.py): the magic "\x93NUMPY", a major and a minor version byte, the
   header length (u16 little-endian in version 1.0, u32 in 2.0 and 3.0), then the header, a
   Python dict literal in ASCII (UTF-8 in 3.0) padded with spaces and a newline, then the data.

   The header grammar accepted here is the one numpy writes, with any spacing:
     '{' key ':' value (',' key ':' value)* [','] '}' blanks
   with exactly the keys 'descr' (a quoted dtype string), 'fortran_order' (True or False) and
   'shape' (a tuple of non-negative integers, '(n,)' or '(n, c)'); either quote character. */
#include "eval/npy.h"

#include <string.h>

/* Headers of the supported dtypes are about 120 bytes; version 2.0 exists for headers of
   more than 64 KiB (structured dtypes with many fields), which no supported dtype needs. */
#define NPY_HEADER_MAX (1 << 20)

typedef struct npy_cursor {
  const unsigned char *buf; /* the whole file */
  size_t pos, end;          /* the header is buf[pos, end) */
  const char *name;
  eval_error *err;
} npy_cursor;

static int at_fail(npy_cursor *c, const char *what) {
  return eval_fail(c->err, "%s: byte %zu: %s", c->name, c->pos, what);
}

static void skip_blanks(npy_cursor *c) {
  while (c->pos < c->end && (c->buf[c->pos] == ' ' || c->buf[c->pos] == '\t' || c->buf[c->pos] == '\n' ||
                             c->buf[c->pos] == '\r'))
    ++c->pos;
}

/* Consumes character ch after blanks; returns 0, or -1 (no error set) when it is not there. */
static int accept(npy_cursor *c, char ch) {
  skip_blanks(c);
  if (c->pos < c->end && c->buf[c->pos] == (unsigned char)ch) {
    ++c->pos;
    return 0;
  }
  return -1;
}

static int expect(npy_cursor *c, char ch, const char *what) { return accept(c, ch) == 0 ? 0 : at_fail(c, what); }

/* A quoted string of at most cap - 1 characters into s. */
static int read_string(npy_cursor *c, char *s, size_t cap) {
  skip_blanks(c);
  if (c->pos >= c->end || (c->buf[c->pos] != '\'' && c->buf[c->pos] != '"'))
    return at_fail(c, "expected a quoted string in the header");
  unsigned char quote = c->buf[c->pos++];
  size_t len = 0;
  while (c->pos < c->end && c->buf[c->pos] != quote) {
    if (len + 1 >= cap) return at_fail(c, "string too long in the header");
    s[len++] = (char)c->buf[c->pos++];
  }
  if (c->pos >= c->end) return at_fail(c, "unterminated string in the header");
  ++c->pos;
  s[len] = '\0';
  return 0;
}

/* True or False. */
static int read_bool(npy_cursor *c, int *v) {
  skip_blanks(c);
  size_t left = c->end - c->pos;
  if (left >= 4 && memcmp(c->buf + c->pos, "True", 4) == 0) {
    c->pos += 4;
    *v = 1;
    return 0;
  }
  if (left >= 5 && memcmp(c->buf + c->pos, "False", 5) == 0) {
    c->pos += 5;
    *v = 0;
    return 0;
  }
  return at_fail(c, "expected True or False for 'fortran_order'");
}

/* A tuple of non-negative integers; at most 2 dimensions are kept, more is an error. */
static int read_shape(npy_cursor *c, int *ndim, int64_t dims[2]) {
  if (expect(c, '(', "expected '(' to open 'shape'") != 0) return -1;
  *ndim = 0;
  for (;;) {
    if (accept(c, ')') == 0) break;
    skip_blanks(c);
    size_t start = c->pos;
    int64_t v = 0;
    while (c->pos < c->end && c->buf[c->pos] >= '0' && c->buf[c->pos] <= '9') {
      int digit = c->buf[c->pos] - '0';
      if (v > (INT64_MAX - digit) / 10) {
        c->pos = start;
        return at_fail(c, "a dimension of 'shape' overflows a 64-bit integer");
      }
      v = v * 10 + digit;
      ++c->pos;
    }
    if (c->pos == start) return at_fail(c, "expected a non-negative integer in 'shape'");
    /* numpy writes Python ints; a trailing L comes from Python 2 */
    if (c->pos < c->end && c->buf[c->pos] == 'L') ++c->pos;
    if (*ndim >= 2) {
      c->pos = start;
      return at_fail(c, "'shape' has more than 2 dimensions (1-D scores or 2-D logits are read)");
    }
    dims[(*ndim)++] = v;
    if (accept(c, ',') != 0) {
      if (expect(c, ')', "expected ',' or ')' in 'shape'") != 0) return -1;
      break;
    }
  }
  if (*ndim == 0) return at_fail(c, "'shape' is () (a scalar); 1-D scores or 2-D logits are read");
  return 0;
}

/* descr: [<>|=] then f2, f4, f8, i4 or i8. */
static int parse_descr(npy_cursor *c, const char *d, size_t at, eval_dtype *t, int *big_endian) {
  static const struct {
    const char *code;
    eval_dtype t;
  } codes[] = {{"f2", EVAL_F16}, {"f4", EVAL_F32}, {"f8", EVAL_F64}, {"i4", EVAL_I32}, {"i8", EVAL_I64}};
  const uint16_t probe = 1;
  unsigned char first;
  memcpy(&first, &probe, 1);
  int host_big = first == 0;
  c->pos = at;
  char order = d[0];
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return eval_fail(c->err,
                     "%s: byte %zu: unsupported dtype '%s' (supported: <f2 <f4 <f8 <i4 <i8, also with '>', '=' "
                     "or '|')",
                     c->name, at, d);
  for (size_t i = 0; i < sizeof codes / sizeof *codes; ++i)
    if (strcmp(d + 1, codes[i].code) == 0) {
      *t = codes[i].t;
      *big_endian = order == '>' || ((order == '=' || order == '|') && host_big);
      return 0;
    }
  return eval_fail(c->err,
                   "%s: byte %zu: unsupported dtype '%s' (supported: float16/32/64 and int32/64: f2 f4 f8 i4 i8)",
                   c->name, at, d);
}

int eval_npy_header(const unsigned char *buf, size_t size, const char *name, eval_npy_info *info, eval_error *err) {
  npy_cursor c = {.buf = buf, .pos = 0, .end = size, .name = name, .err = err};
  if (size == 0) return eval_fail(err, "%s: byte 0: empty file (a .npy file starts with \\x93NUMPY)", name);
  if (size < 6 || memcmp(buf, EVAL_NPY_MAGIC, 6) != 0)
    return eval_fail(err, "%s: byte 0: not a .npy file (the magic \\x93NUMPY is missing)", name);
  if (size < 8) return eval_fail(err, "%s: byte %zu: truncated in the version bytes", name, size);
  int major = buf[6], minor = buf[7];
  if (major < 1 || major > 3 || minor != 0)
    return eval_fail(err, "%s: byte 6: .npy version %d.%d is not supported (1.0, 2.0 and 3.0 are)", name, major,
                     minor);
  size_t len_bytes = major == 1 ? 2 : 4, header_start = 8 + len_bytes;
  if (size < header_start) return eval_fail(err, "%s: byte %zu: truncated in the header length", name, size);
  uint64_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= (uint64_t)buf[8 + i] << (8 * i);
  if (header_len > NPY_HEADER_MAX)
    return eval_fail(err, "%s: byte 8: header length %llu is above the %d bytes a supported dtype can need", name,
                     (unsigned long long)header_len, NPY_HEADER_MAX);
  if (header_len > size - header_start)
    return eval_fail(err, "%s: byte 8: header length %llu runs past the end of the file (%zu bytes)", name,
                     (unsigned long long)header_len, size);
  size_t data_start = header_start + (size_t)header_len;
  c.pos = header_start;
  c.end = data_start;
  /* the header is ASCII (1.0, 2.0) or UTF-8 (3.0); the supported headers are plain ASCII */
  for (size_t i = header_start; i < data_start; ++i)
    if (buf[i] == 0 || (buf[i] >= 0x80 && major < 3)) {
      c.pos = i;
      return at_fail(&c, "a non-ASCII or NUL byte in the header");
    }

  char descr[32] = "";
  size_t descr_at = 0;
  int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0, ndim = 0;
  int64_t dims[2] = {0, 0};
  if (expect(&c, '{', "expected '{' to open the header dict") != 0) return -1;
  for (;;) {
    if (accept(&c, '}') == 0) break;
    char key[32];
    size_t key_at = (skip_blanks(&c), c.pos);
    if (read_string(&c, key, sizeof key) != 0) return -1;
    if (expect(&c, ':', "expected ':' after a key") != 0) return -1;
    if (strcmp(key, "descr") == 0 && !have_descr) {
      skip_blanks(&c);
      descr_at = c.pos;
      if (c.pos < c.end && c.buf[c.pos] == '[') return at_fail(&c, "structured dtypes are not supported");
      if (read_string(&c, descr, sizeof descr) != 0) return -1;
      have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
      if (read_bool(&c, &fortran) != 0) return -1;
      have_order = 1;
    } else if (strcmp(key, "shape") == 0 && !have_shape) {
      if (read_shape(&c, &ndim, dims) != 0) return -1;
      have_shape = 1;
    } else {
      c.pos = key_at;
      return at_fail(&c, "unexpected or repeated key in the header (expected 'descr', 'fortran_order', 'shape')");
    }
    if (accept(&c, ',') != 0) {
      if (expect(&c, '}', "expected ',' or '}' in the header dict") != 0) return -1;
      break;
    }
  }
  skip_blanks(&c);
  if (c.pos != c.end) return at_fail(&c, "unexpected text after the header dict");
  if (!have_descr || !have_order || !have_shape) {
    c.pos = header_start;
    return at_fail(&c, "the header lacks one of 'descr', 'fortran_order' and 'shape'");
  }
  eval_dtype t = EVAL_F32;
  int big_endian = 0;
  if (parse_descr(&c, descr, descr_at, &t, &big_endian) != 0) return -1;
  /* Fortran order is the same bytes as C order for 1-D data and for one row or column. */
  if (fortran && ndim == 2 && dims[0] > 1 && dims[1] > 1)
    return eval_fail(err, "%s: byte %zu: fortran_order True is not supported (save with np.ascontiguousarray)", name,
                     header_start);

  int64_t rows = dims[0], cols = ndim == 2 ? dims[1] : 1, count, bytes;
  if (eval_mul_i64(rows, cols, &count) != 0 || eval_mul_i64(count, (int64_t)eval_dtype_size(t), &bytes) != 0)
    return eval_fail(err, "%s: byte %zu: shape (%lld, %lld) of %s overflows a 64-bit size", name, header_start,
                     (long long)rows, (long long)cols, descr);
  size_t have = size - data_start;
  if ((uint64_t)bytes != have)
    return eval_fail(err, "%s: byte %zu: the shape needs %lld data bytes, the file has %zu after the header%s", name,
                     data_start, (long long)bytes, have, (uint64_t)bytes > have ? " (truncated)" : "");
  *info = (eval_npy_info){.dtype = t, .big_endian = big_endian, .ndim = ndim, .rows = rows, .cols = cols,
                          .data_start = data_start};
  return 0;
}

int eval_npy_parse(const unsigned char *buf, size_t size, const char *name, eval_array *out, eval_error *err) {
  eval_npy_info info;
  out->f32 = NULL;
  out->f64 = NULL;
  out->storage = NULL;
  if (eval_npy_header(buf, size, name, &info, err) != 0) return -1;
  out->ndim = info.ndim;
  out->rows = info.rows;
  out->cols = info.cols;
  return eval_decode(buf + info.data_start, info.rows * info.cols, info.dtype, info.big_endian, name,
                     (int64_t)info.data_start, out, err);
}
