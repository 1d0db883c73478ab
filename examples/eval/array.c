/* Element decoding shared by the .npy and raw readers. Bytes are assembled into integers
   explicitly, so the result does not depend on the host's byte order (compilers turn the
   little-endian loops into plain loads on little-endian hosts). */
#include "eval/array.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void eval_array_free(eval_array *a) {
  free(a->storage);
  a->storage = NULL;
  a->f32 = NULL;
  a->f64 = NULL;
}

int eval_fail(eval_error *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->text, sizeof err->text, fmt, ap);
  va_end(ap);
  return -1;
}

size_t eval_dtype_size(eval_dtype t) {
  switch (t) {
    case EVAL_F16: return 2;
    case EVAL_F32:
    case EVAL_I32: return 4;
    case EVAL_F64:
    case EVAL_I64: return 8;
  }
  return 0;
}

static const char *const dtype_names[] = {"f16", "f32", "f64", "i32", "i64"};

const char *eval_dtype_name(eval_dtype t) {
  return (unsigned)t < sizeof dtype_names / sizeof *dtype_names ? dtype_names[t] : "?";
}

int eval_dtype_parse(const char *s, eval_dtype *t) {
  for (unsigned i = 0; i < sizeof dtype_names / sizeof *dtype_names; ++i)
    if (strcmp(s, dtype_names[i]) == 0) {
      *t = (eval_dtype)i;
      return 0;
    }
  return -1;
}

int eval_mul_i64(int64_t a, int64_t b, int64_t *out) {
  if (a < 0 || b < 0) return -1;
  if (a != 0 && b > INT64_MAX / a) return -1;
  *out = a * b;
  return 0;
}

/* The 2-, 4- and 8-byte unsigned integers at p, little-endian (le) or big-endian (be). Fixed
   widths, so that each little-endian form compiles to one load on a little-endian host. */
static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint16_t be16(const unsigned char *p) { return (uint16_t)(p[1] | p[0] << 8); }
static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static uint64_t be64(const unsigned char *p) { return (uint64_t)be32(p + 4) | (uint64_t)be32(p) << 32; }

/* IEEE binary16 -> float, exactly: every half is a float. Normal: (1024 + m) 2^(e - 25);
   subnormal: m 2^-24; e = 31: infinity or NaN. */
static float half_to_float(uint16_t h) {
  int e = (h >> 10) & 31, m = h & 1023;
  float v;
  if (e == 0)
    v = ldexpf((float)m, -24);
  else if (e == 31)
    v = m != 0 ? NAN : INFINITY;
  else
    v = ldexpf((float)(m | 1024), e - 25);
  return (h & 0x8000) ? -v : v;
}

int eval_decode(const unsigned char *src, int64_t count, eval_dtype t, int big_endian, const char *name,
                int64_t base, eval_array *out, eval_error *err) {
  int to_f32 = t == EVAL_F16 || t == EVAL_F32;
  size_t out_size = to_f32 ? sizeof(float) : sizeof(double);
  out->f32 = NULL;
  out->f64 = NULL;
  out->storage = NULL;
  if (count < 0 || (uint64_t)count > SIZE_MAX / 8)
    return eval_fail(err, "%s: %lld elements do not fit in memory", name, (long long)count);
  if (count == 0) return 0;
  void *buf = malloc((size_t)count * out_size);
  if (buf == NULL)
    return eval_fail(err, "%s: out of memory for %lld elements", name, (long long)count);
  float *f = buf;
  double *d = buf;
  uint16_t (*load16)(const unsigned char *) = big_endian ? be16 : le16;
  uint32_t (*load32)(const unsigned char *) = big_endian ? be32 : le32;
  uint64_t (*load64)(const unsigned char *) = big_endian ? be64 : le64;
  /* one loop per type and byte order, so that each is a plain load loop */
  switch (t) {
    case EVAL_F16:
      for (int64_t i = 0; i < count; ++i) f[i] = half_to_float(load16(src + 2 * i));
      break;
    case EVAL_F32:
      if (!big_endian) {
        for (int64_t i = 0; i < count; ++i) {
          uint32_t w = le32(src + 4 * i);
          memcpy(&f[i], &w, sizeof w);
        }
      } else {
        for (int64_t i = 0; i < count; ++i) {
          uint32_t w = be32(src + 4 * i);
          memcpy(&f[i], &w, sizeof w);
        }
      }
      break;
    case EVAL_F64:
      for (int64_t i = 0; i < count; ++i) {
        uint64_t w = load64(src + 8 * i);
        memcpy(&d[i], &w, sizeof w);
      }
      break;
    case EVAL_I32:
      for (int64_t i = 0; i < count; ++i) {
        uint32_t w = load32(src + 4 * i);
        d[i] = w <= INT32_MAX ? (double)w : (double)w - 4294967296.0; /* two's complement */
      }
      break;
    case EVAL_I64:
      for (int64_t i = 0; i < count; ++i) {
        uint64_t w = load64(src + 8 * i);
        /* two's complement without implementation-defined conversions */
        int64_t v = w <= (uint64_t)INT64_MAX ? (int64_t)w : -(int64_t)(~w) - 1;
        if (v > (INT64_C(1) << 53) || v < -(INT64_C(1) << 53)) {
          free(buf);
          return eval_fail(err, "%s: byte %lld: the integer %lld is not exactly a double (|v| > 2^53)", name,
                           (long long)(base + 8 * i), (long long)v);
        }
        d[i] = (double)v;
      }
      break;
  }
  if (to_f32)
    out->f32 = f;
  else
    out->f64 = d;
  out->storage = buf;
  return 0;
}
