/* IDX and JSON readers for the examples. zlib's gzread also reads uncompressed files. */
#include "idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define IDX_MAGIC_UBYTE_1D 0x00000801u /* type 0x08 = unsigned byte, 1 dimension */
#define IDX_MAGIC_UBYTE_3D 0x00000803u

static int fail(char *err, int errlen, const char *path, const char *what) {
  snprintf(err, (size_t)errlen, "%s: %s", path, what);
  return -1;
}

/* IDX headers are big-endian 32-bit integers. */
static int read_be32(gzFile f, uint32_t *out) {
  unsigned char b[4];
  if (gzread(f, b, 4) != 4) return -1;
  *out = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
  return 0;
}

/* Reads exactly `size` bytes in chunks (gzread takes an unsigned count). */
static int read_bytes(gzFile f, unsigned char *dst, size_t size) {
  while (size > 0) {
    unsigned chunk = size > (1u << 30) ? (1u << 30) : (unsigned)size;
    int got = gzread(f, dst, chunk);
    if (got <= 0) return -1;
    dst += got;
    size -= (size_t)got;
  }
  return 0;
}

int idx_read_images(const char *path, int64_t *count, int *rows, int *cols, float **pixels,
                    char *err, int errlen) {
  gzFile f = gzopen(path, "rb");
  if (!f) return fail(err, errlen, path, "cannot open");
  uint32_t magic, n, r, c;
  if (read_be32(f, &magic) || read_be32(f, &n) || read_be32(f, &r) || read_be32(f, &c)) {
    gzclose(f);
    return fail(err, errlen, path, "truncated header");
  }
  /* 1e7 images of at most 256 x 256 bounds the allocation against a corrupt header. */
  if (magic != IDX_MAGIC_UBYTE_3D || n == 0 || n > 10000000u || r == 0 || c == 0 || r > 256 || c > 256) {
    gzclose(f);
    return fail(err, errlen, path, "not an IDX3 unsigned-byte image file");
  }
  size_t size = (size_t)n * r * c;
  unsigned char *raw = malloc(size);
  float *out = malloc(size * sizeof(float));
  if (!raw || !out || read_bytes(f, raw, size)) {
    free(raw);
    free(out);
    gzclose(f);
    return fail(err, errlen, path, raw && out ? "truncated pixel data" : "out of memory");
  }
  gzclose(f);
  for (size_t i = 0; i < size; i++) out[i] = (float)raw[i] / 255.0f;
  free(raw);
  *count = n;
  *rows = (int)r;
  *cols = (int)c;
  *pixels = out;
  return 0;
}

int idx_read_labels(const char *path, int64_t *count, int32_t **labels, char *err, int errlen) {
  gzFile f = gzopen(path, "rb");
  if (!f) return fail(err, errlen, path, "cannot open");
  uint32_t magic, n;
  if (read_be32(f, &magic) || read_be32(f, &n)) {
    gzclose(f);
    return fail(err, errlen, path, "truncated header");
  }
  if (magic != IDX_MAGIC_UBYTE_1D || n == 0 || n > 10000000u) {
    gzclose(f);
    return fail(err, errlen, path, "not an IDX1 unsigned-byte label file");
  }
  unsigned char *raw = malloc(n);
  int32_t *out = malloc((size_t)n * sizeof(int32_t));
  if (!raw || !out || read_bytes(f, raw, n)) {
    free(raw);
    free(out);
    gzclose(f);
    return fail(err, errlen, path, raw && out ? "truncated label data" : "out of memory");
  }
  gzclose(f);
  for (uint32_t i = 0; i < n; i++) out[i] = raw[i];
  free(raw);
  *count = n;
  *labels = out;
  return 0;
}

/* Reads a whole file into a NUL-terminated buffer. */
static char *read_text_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - len - 1, f);
    if (len < cap - 1) break;
    char *bigger = realloc(buf, cap * 2);
    if (!bigger) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = bigger;
    cap *= 2;
  }
  if (buf && ferror(f)) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) {
    buf[len] = '\0';
    *size = len;
  }
  return buf;
}

static const char *skip_space(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

/* A small scanner, not a JSON parser: find the key "data" followed by ':' and '[', then read
   numbers separated by commas up to ']'. Anything else is reported as malformed. */
int json_read_data_array(const char *path, int64_t *count, float **values, char *err, int errlen) {
  size_t size = 0;
  char *text = read_text_file(path, &size);
  if (!text) return fail(err, errlen, path, "cannot read");
  const char *p = text;
  const char *key;
  for (;;) {
    key = strstr(p, "\"data\"");
    if (!key) {
      free(text);
      return fail(err, errlen, path, "no \"data\" array");
    }
    p = skip_space(key + 6);
    if (*p == ':') break; /* the key, not a string value "data" */
  }
  p = skip_space(p + 1);
  if (*p != '[') {
    free(text);
    return fail(err, errlen, path, "\"data\" is not an array");
  }
  p++;
  /* Every number needs at least one character plus a separator, so size / 2 + 1 bounds them. */
  size_t cap = size / 2 + 1, n = 0;
  float *out = malloc(cap * sizeof(float));
  if (!out) {
    free(text);
    return fail(err, errlen, path, "out of memory");
  }
  p = skip_space(p);
  if (*p == ']') goto done;
  for (;;) {
    char *end;
    double v = strtod(p, &end);
    if (end == p || n >= cap) {
      free(out);
      free(text);
      return fail(err, errlen, path, "malformed number in \"data\"");
    }
    out[n++] = (float)v;
    p = skip_space(end);
    if (*p == ',') {
      p = skip_space(p + 1);
      continue;
    }
    if (*p == ']') break;
    free(out);
    free(text);
    return fail(err, errlen, path, "expected ',' or ']' in \"data\"");
  }
done:
  free(text);
  *count = (int64_t)n;
  *values = out;
  return 0;
}
