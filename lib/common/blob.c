#include "blob.h"

#include <string.h>

#include "error.h"

uint32_t ln_crc32(const void *data, size_t size) {
  /* Byte-wise table for the reflected polynomial 0xEDB88320; built per call (256 entries
     is noise next to any real blob) so there is no global state. */
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  const unsigned char *p = data;
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

/* ---- writer ---- */

void ln_put_bytes(ln_writer *w, const void *src, size_t size) {
  if (w->buf != NULL && size > 0) memcpy(w->buf + w->pos, src, size);
  w->pos += size;
}

static void ln_put_le(ln_writer *w, uint64_t v, int bytes) {
  unsigned char b[8];
  for (int i = 0; i < bytes; ++i) b[i] = (unsigned char)(v >> (8 * i));
  ln_put_bytes(w, b, (size_t)bytes);
}

void ln_put_u32(ln_writer *w, uint32_t v) { ln_put_le(w, v, 4); }
void ln_put_u64(ln_writer *w, uint64_t v) { ln_put_le(w, v, 8); }
void ln_put_i64(ln_writer *w, int64_t v) { ln_put_le(w, (uint64_t)v, 8); }

void ln_put_f64(ln_writer *w, double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  ln_put_le(w, u, 8);
}

void ln_put_f32s(ln_writer *w, const float *v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u;
    memcpy(&u, &v[i], sizeof u);
    ln_put_le(w, u, 4);
  }
}

void ln_put_f64s(ln_writer *w, const double *v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) ln_put_f64(w, v[i]);
}

logitnorm_status ln_blob_save(unsigned object, uint32_t subkind, ln_payload_fn fn, const void *ctx, void *buf,
                              size_t capacity, size_t *size) {
  return ln_blob_save_version(object, LN_BLOB_VERSION, subkind, fn, ctx, buf, capacity, size);
}

logitnorm_status ln_blob_save_version(unsigned object, unsigned version, uint32_t subkind, ln_payload_fn fn,
                                      const void *ctx, void *buf, size_t capacity, size_t *size) {
  if (size == NULL) return ln_fail(LOGITNORM_ERR_NULL_POINTER, "size is NULL");
  if (capacity > 0 && buf == NULL) return ln_fail(LOGITNORM_ERR_NULL_POINTER, "buf is NULL");
  ln_writer counter = {.buf = NULL, .pos = 0};
  fn(&counter, ctx);
  size_t payload = counter.pos;
  size_t total = LN_BLOB_HEADER + payload + 4;
  if (capacity == 0) {
    *size = total;
    return LOGITNORM_OK;
  }
  if (capacity < total) {
    *size = total;
    return ln_fail(LOGITNORM_ERR_BUFFER_TOO_SMALL, "the blob needs %zu bytes, capacity is %zu", total, capacity);
  }
  ln_writer w = {.buf = buf, .pos = 0};
  ln_put_bytes(&w, "LGNM", 4);
  ln_put_le(&w, version, 2);
  ln_put_le(&w, object, 2);
  ln_put_u32(&w, subkind);
  ln_put_u32(&w, 0);
  ln_put_u64(&w, payload);
  fn(&w, ctx);
  ln_put_u32(&w, ln_crc32(buf, LN_BLOB_HEADER + payload));
  *size = total;
  return LOGITNORM_OK;
}

/* ---- reader ---- */

static uint64_t ln_le(const unsigned char *b, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

logitnorm_status ln_blob_open(ln_reader *r, const void *buf, size_t size, unsigned object, uint32_t *subkind) {
  unsigned version = 0;
  return ln_blob_open_version(r, buf, size, object, LN_BLOB_VERSION, &version, subkind);
}

logitnorm_status ln_blob_open_version(ln_reader *r, const void *buf, size_t size, unsigned object, unsigned newest,
                                      unsigned *version_out, uint32_t *subkind) {
  if (buf == NULL) return ln_fail(LOGITNORM_ERR_NULL_POINTER, "buf is NULL");
  const unsigned char *b = buf;
  if (size < LN_BLOB_HEADER + 4)
    return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "blob of %zu bytes is shorter than its %d-byte frame", size,
                   LN_BLOB_HEADER + 4);
  if (memcmp(b, "LGNM", 4) != 0) return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "blob magic is not LGNM");
  unsigned version = (unsigned)ln_le(b + 4, 2);
  if (version < 1 || version > newest)
    return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "blob format version %u is outside 1..%u (what this library reads)",
                   version, newest);
  unsigned obj = (unsigned)ln_le(b + 6, 2);
  if (obj != object)
    return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "blob holds object type %u, expected %u", obj, object);
  if (ln_le(b + 12, 4) != 0) return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "blob reserved field is not 0");
  uint64_t payload = ln_le(b + 16, 8);
  if (payload != (uint64_t)(size - LN_BLOB_HEADER - 4))
    return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "blob payload size %llu does not match the %zu bytes given",
                   (unsigned long long)payload, size);
  if (ln_crc32(b, size - 4) != (uint32_t)ln_le(b + size - 4, 4))
    return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "blob CRC-32 mismatch");
  r->p = b;
  r->pos = LN_BLOB_HEADER;
  r->end = size - 4;
  r->bad = 0;
  if (subkind != NULL) *subkind = (uint32_t)ln_le(b + 8, 4);
  *version_out = version;
  return LOGITNORM_OK;
}

void ln_get_bytes(ln_reader *r, void *dst, size_t size) {
  if (r->bad || size > r->end - r->pos) {
    r->bad = 1;
    memset(dst, 0, size);
    return;
  }
  memcpy(dst, r->p + r->pos, size);
  r->pos += size;
}

static uint64_t ln_get_le(ln_reader *r, int bytes) {
  unsigned char b[8];
  ln_get_bytes(r, b, (size_t)bytes);
  return ln_le(b, bytes);
}

uint32_t ln_get_u32(ln_reader *r) { return (uint32_t)ln_get_le(r, 4); }
uint64_t ln_get_u64(ln_reader *r) { return ln_get_le(r, 8); }
int64_t ln_get_i64(ln_reader *r) { return (int64_t)ln_get_le(r, 8); }

double ln_get_f64(ln_reader *r) {
  uint64_t u = ln_get_le(r, 8);
  double v;
  memcpy(&v, &u, sizeof v);
  return v;
}

void ln_get_f32s(ln_reader *r, float *dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u = (uint32_t)ln_get_le(r, 4);
    memcpy(&dst[i], &u, sizeof u);
  }
}

void ln_get_f64s(ln_reader *r, double *dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = ln_get_f64(r);
}

int64_t ln_get_count(ln_reader *r, size_t elem, int64_t max) {
  uint64_t n = ln_get_u64(r);
  if (r->bad || n > (uint64_t)max || (elem > 0 && n > (r->end - r->pos) / elem)) {
    r->bad = 1;
    return -1;
  }
  return (int64_t)n;
}

logitnorm_status ln_blob_close(const ln_reader *r) {
  if (r->bad) return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "blob payload is truncated or holds an invalid field");
  if (r->pos != r->end)
    return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "blob payload has %zu unread bytes", r->end - r->pos);
  return LOGITNORM_OK;
}
