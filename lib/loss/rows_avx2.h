/* AVX2+FMA row kernels: the same contract and math as the generic ones in loss.h (see
   rows_avx2.inc). Call them only when ln_use_avx2() says so
   (the f16 ones use F16C too, which ln_use_avx2() checks). */
#ifndef LN_LOSS_ROWS_AVX2_H
#define LN_LOSS_ROWS_AVX2_H

#include <stdint.h>

#include "loss.h"

double ln_loss_rows_f32_avx2(const ln_loss_job *job, int64_t begin, int64_t end, void *ecache);
double ln_loss_rows_f64_avx2(const ln_loss_job *job, int64_t begin, int64_t end, void *ecache);
double ln_loss_rows_bf16_avx2(const ln_loss_job *job, int64_t begin, int64_t end, void *ecache);
double ln_loss_rows_f16_avx2(const ln_loss_job *job, int64_t begin, int64_t end, void *ecache);

#endif
