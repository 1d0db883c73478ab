/* Allocation with overflow-checked sizes. Every allocation in the library goes through
   here, so a size computed from untrusted counts can never wrap. */
#ifndef LN_COMMON_ALLOC_H
#define LN_COMMON_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* count * size bytes, zeroed; NULL on overflow, on count < 0 or when out of memory.
   A zero-byte request returns a valid, unique pointer. */
void *ln_calloc(int64_t count, size_t size);
/* count * size bytes, not initialised (for buffers written before they are read); the same
   checks as ln_calloc. Buffers of 4 MB and more (score arrays, sort scratch) are, on Linux,
   aligned to 2 MB and advised as transparent huge pages, so that filling them takes one
   page fault per 2 MB instead of one per 4 KB and the scatter passes of a sort do not miss
   the TLB. */
void *ln_malloc(int64_t count, size_t size);
/* Resizes to count * size bytes (contents kept up to the smaller size); NULL leaves p intact. */
void *ln_realloc(void *p, int64_t count, size_t size);
void ln_free(void *p);

#endif
