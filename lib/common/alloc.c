#include "alloc.h"

#include <stdlib.h>

static int ln_bytes(int64_t count, size_t size, size_t *bytes) {
  if (count < 0 || (size != 0 && (uint64_t)count > SIZE_MAX / size)) return 0;
  *bytes = (size_t)count * size;
  if (*bytes == 0) *bytes = 1;
  return 1;
}

void *ln_calloc(int64_t count, size_t size) {
  size_t bytes;
  if (!ln_bytes(count, size, &bytes)) return NULL;
  return calloc(1, bytes);
}

void *ln_realloc(void *p, int64_t count, size_t size) {
  size_t bytes;
  if (!ln_bytes(count, size, &bytes)) return NULL;
  return realloc(p, bytes);
}

void ln_free(void *p) { free(p); }
