/* Runtime choice between the baseline kernels and the AVX2+FMA ones. */
#ifndef LN_COMMON_DISPATCH_H
#define LN_COMMON_DISPATCH_H

/* 1 when the AVX2+FMA kernels are to be used: the CPU has AVX2 and FMA, the library was
   built with them, and LOGITNORM_DISPATCH (read once per process) does not say "generic".
   LOGITNORM_DISPATCH=avx2 on a CPU without AVX2 falls back to generic. */
int ln_use_avx2(void);

#endif
