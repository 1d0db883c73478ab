/* Allocation with overflow-checked sizes. Every allocation in the library goes through
   here, so a size computed from untrusted counts can never wrap. */
#ifndef LN_COMMON_ALLOC_H
#define LN_COMMON_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* count * size bytes, zeroed; NULL on overflow, on count < 0 or when out of memory.
   A zero-byte request returns a valid, unique pointer. */
void *ln_calloc(int64_t count, size_t size);
/* Resizes to count * size bytes (contents kept up to the smaller size); NULL leaves p intact. */
void *ln_realloc(void *p, int64_t count, size_t size);
void ln_free(void *p);

#endif
