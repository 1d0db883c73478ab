/* The one blob reader and writer. Every saved object (metrics, calibration, fitted scorers)
   has the same frame, all little-endian:

     offset  size  field
          0     4  magic "LGNM"
          4     2  format version, per object: 1 (LN_BLOB_VERSION) unless the object's file says
                   otherwise; a loader accepts 1 to its newest and rejects anything newer
          6     2  object (LN_BLOB_METRICS, LN_BLOB_CALIBRATION, LN_BLOB_SCORER)
          8     4  subkind (the scorer kind; 0 otherwise)
         12     4  reserved, 0
         16     8  payload size P in bytes
         24     P  payload, written with the ln_put_* calls
     24 + P     4  CRC-32 (IEEE 802.3, reflected) of bytes [0, 24 + P)

   The reader checks the size against the buffer, the magic, the version, the object and the
   CRC before a single payload field is read, and every read is bounds-checked afterwards: a
   length inside the payload is never trusted (ln_get_count checks it against the bytes left). */
#ifndef LN_COMMON_BLOB_H
#define LN_COMMON_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "logitnorm.h"

#define LN_BLOB_VERSION 1
#define LN_BLOB_HEADER 24
enum { LN_BLOB_METRICS = 1, LN_BLOB_CALIBRATION = 2, LN_BLOB_SCORER = 3 };

uint32_t ln_crc32(const void *data, size_t size);

/* Writer: with buf == NULL it only counts bytes. */
typedef struct ln_writer {
  unsigned char *buf;
  size_t pos;
} ln_writer;

void ln_put_bytes(ln_writer *w, const void *src, size_t size);
void ln_put_u32(ln_writer *w, uint32_t v);
void ln_put_u64(ln_writer *w, uint64_t v);
void ln_put_i64(ln_writer *w, int64_t v);
void ln_put_f64(ln_writer *w, double v);
void ln_put_f32s(ln_writer *w, const float *v, int64_t n);
void ln_put_f64s(ln_writer *w, const double *v, int64_t n);

/* Writes the payload through fn(w, ctx), called twice (count, then write).
   capacity 0: *size gets the blob size and nothing is written. capacity too small:
   LOGITNORM_ERR_BUFFER_TOO_SMALL with *size set and buf untouched. */
typedef void (*ln_payload_fn)(ln_writer *w, const void *ctx);
logitnorm_status ln_blob_save(unsigned object, uint32_t subkind, ln_payload_fn fn, const void *ctx, void *buf,
                              size_t capacity, size_t *size);
/* The same with the format version given (ln_blob_save writes LN_BLOB_VERSION). */
logitnorm_status ln_blob_save_version(unsigned object, unsigned version, uint32_t subkind, ln_payload_fn fn,
                                      const void *ctx, void *buf, size_t capacity, size_t *size);

/* Reader: a failed read sets `bad` and yields zeros; check with ln_blob_close. */
typedef struct ln_reader {
  const unsigned char *p;
  size_t pos, end;
  int bad;
} ln_reader;

logitnorm_status ln_blob_open(ln_reader *r, const void *buf, size_t size, unsigned object, uint32_t *subkind);
/* The same for an object whose loader reads format versions 1 to newest; *version gets the blob's. */
logitnorm_status ln_blob_open_version(ln_reader *r, const void *buf, size_t size, unsigned object, unsigned newest,
                                      unsigned *version, uint32_t *subkind);
void ln_get_bytes(ln_reader *r, void *dst, size_t size);
uint32_t ln_get_u32(ln_reader *r);
uint64_t ln_get_u64(ln_reader *r);
int64_t ln_get_i64(ln_reader *r);
double ln_get_f64(ln_reader *r);
void ln_get_f32s(ln_reader *r, float *dst, int64_t n);
void ln_get_f64s(ln_reader *r, double *dst, int64_t n);
/* Reads a count stored as u64 that must lie in [0, max] and whose elements of elem bytes
   must still fit in the payload; otherwise marks the reader bad and returns -1. */
int64_t ln_get_count(ln_reader *r, size_t elem, int64_t max);
/* LOGITNORM_OK when every read succeeded and the payload was consumed exactly. */
logitnorm_status ln_blob_close(const ln_reader *r);

#endif
