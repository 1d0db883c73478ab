/* Runtime choice between the baseline kernels and the AVX2+FMA ones.

   LOGITNORM_DISPATCH, read once per process (at the first loss call), may be
     unset or empty  the CPU decides: AVX2+FMA kernels when the CPU has AVX2, FMA and F16C
                     (the f16 kernels convert with F16C);
     "generic"       the baseline kernels;
     "avx2"          the AVX2+FMA kernels; on a CPU without AVX2, FMA and F16C (or a build without
                     them) the baseline kernels, since the others cannot run there;
   and nothing else. Any other value (a misspelling such as "AVX2" or "gneric") is rejected:
   the kernels fall back to generic, and ln_dispatch_check() fails, so every call that
   checks it returns LOGITNORM_ERR_INVALID_ARGUMENT with a last_error naming the variable and
   its value. Silently running some path other than the one the variable names would let
   a test believe it covered a path it never ran. */
#ifndef LN_COMMON_DISPATCH_H
#define LN_COMMON_DISPATCH_H

#include "error.h"

typedef enum ln_dispatch_request {
  LN_DISPATCH_AUTO = 0,    /* unset or empty */
  LN_DISPATCH_GENERIC = 1,
  LN_DISPATCH_AVX2 = 2,
  LN_DISPATCH_UNKNOWN = 3  /* any other value: rejected */
} ln_dispatch_request;

/* The request a value of LOGITNORM_DISPATCH (NULL: unset) makes; exact, case-sensitive. */
ln_dispatch_request ln_dispatch_parse(const char *value);

/* 1 when the AVX2+FMA kernels run for `request` on a CPU that has them (cpu_avx2 = 1) or not. */
int ln_dispatch_decide(ln_dispatch_request request, int cpu_avx2);

/* 1 when the AVX2+FMA kernels are to be used in this process (the CPU has AVX2, FMA and F16C, the
   library was built with them, and LOGITNORM_DISPATCH allows them). */
int ln_use_avx2(void);

/* NULL when LOGITNORM_DISPATCH is acceptable; otherwise the text of the rejection. Kept apart
   from ln_fail so that this file needs nothing else of the library (tests link it alone). */
const char *ln_dispatch_error(void);

/* LOGITNORM_OK, or LOGITNORM_ERR_INVALID_ARGUMENT with the rejection as last_error. For the
   entry of every call whose result depends on the dispatch. */
static inline logitnorm_status ln_dispatch_check(void) {
  const char *bad = ln_dispatch_error();
  return bad == NULL ? LOGITNORM_OK : ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s", bad);
}

#endif
