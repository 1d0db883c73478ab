/* Shared by the fuzz targets: a checked abort that names the broken property, and a byte
   reader that turns the fuzzer's input into choices (zeros once the input is used up). */
#ifndef LN_FUZZ_COMMON_H
#define LN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/blob.h"
#include "logitnorm.h"

#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);      \
      abort();                                                                         \
    }                                                                                  \
  } while (0)

/* A failed call: a known status with a non-empty error text. */
#define FUZZ_CHECK_FAILED(st)                                                          \
  do {                                                                                 \
    FUZZ_CHECK((st) > LOGITNORM_OK && (st) <= LOGITNORM_ERR_UNSUPPORTED);              \
    FUZZ_CHECK(logitnorm_last_error()[0] != '\0');                                     \
  } while (0)

typedef struct fuzz_bytes {
  const uint8_t *p;
  size_t size, pos;
} fuzz_bytes;

static inline uint8_t fuzz_u8(fuzz_bytes *b) { return b->pos < b->size ? b->p[b->pos++] : 0; }

static inline uint32_t fuzz_u32(fuzz_bytes *b) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= (uint32_t)fuzz_u8(b) << (8 * i);
  return v;
}

/* A copy of the input whose frame is made consistent: payload size and CRC-32 rewritten, so
   mutations reach the payload validation instead of stopping at the CRC. NULL when too short. */
static inline unsigned char *fuzz_fixed_frame(const uint8_t *data, size_t size) {
  if (size < LN_BLOB_HEADER + 4) return NULL;
  unsigned char *b = malloc(size);
  memcpy(b, data, size);
  uint64_t payload = size - LN_BLOB_HEADER - 4;
  for (int i = 0; i < 8; ++i) b[16 + i] = (unsigned char)(payload >> (8 * i));
  uint32_t crc = ln_crc32(b, size - 4);
  for (int i = 0; i < 4; ++i) b[size - 4 + i] = (unsigned char)(crc >> (8 * i));
  return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
