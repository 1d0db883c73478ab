/* posix_memalign and madvise need a POSIX level (and MADV_HUGEPAGE the default glibc one). */
#define _DEFAULT_SOURCE

#include "alloc.h"

#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

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

/* Above this a buffer is worth whole 2 MB pages: the rounding wastes at most a third. */
#define LN_LARGE_BYTES ((size_t)4 << 20)
#define LN_HUGE_PAGE ((size_t)2 << 20)

void *ln_malloc(int64_t count, size_t size) {
  size_t bytes;
  if (!ln_bytes(count, size, &bytes)) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes >= LN_LARGE_BYTES && bytes <= SIZE_MAX - LN_HUGE_PAGE) {
    size_t rounded = (bytes + LN_HUGE_PAGE - 1) & ~(LN_HUGE_PAGE - 1);
    void *p = NULL;
    if (posix_memalign(&p, LN_HUGE_PAGE, rounded) != 0) return NULL;
    (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice only: a refusal changes nothing */
    return p;
  }
#endif
  return malloc(bytes);
}

void *ln_realloc(void *p, int64_t count, size_t size) {
  size_t bytes;
  if (!ln_bytes(count, size, &bytes)) return NULL;
  return realloc(p, bytes);
}

void ln_free(void *p) { free(p); }
