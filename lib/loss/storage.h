/* The storage types of the loss kernels, element by element: what the type tables of
   rows_generic.c and rows_avx2.c call ST (the type of logits, targets and gradients in memory)
   against T (the type the kernels compute in). f32 and f64 are stored as computed; bf16 and f16
   are computed in float, widened exactly on load and narrowed once, to nearest even, on store
   (common/half.h). LN_SGET and LN_SPUT pick the function of the instantiation's suffix SFX. */
#ifndef LN_LOSS_STORAGE_H
#define LN_LOSS_STORAGE_H

#include <stdint.h>

#include "common/half.h"

static inline float ln_sget_f32(float x) { return x; }
static inline double ln_sget_f64(double x) { return x; }
static inline float ln_sget_bf16(uint16_t x) { return ln_bf16_to_f32(x); }
static inline float ln_sget_f16(uint16_t x) { return ln_f16_to_f32(x); }

static inline float ln_sput_f32(float x) { return x; }
static inline double ln_sput_f64(double x) { return x; }
static inline uint16_t ln_sput_bf16(float x) { return ln_f32_to_bf16(x); }
static inline uint16_t ln_sput_f16(float x) { return ln_f32_to_f16(x); }

#define LN_SCAT2(a, b) a##b
#define LN_SCAT(a, b) LN_SCAT2(a, b)
#define LN_SGET(x) LN_SCAT(ln_sget_, SFX)(x) /* a stored element, widened to T */
#define LN_SPUT(x) LN_SCAT(ln_sput_, SFX)(x) /* a T value, rounded once to the storage type */

/* The row driver may keep exp values (T) in the grad row (ST) only when they have one size. */
#define LN_EC_IN_GRAD (sizeof(ST) == sizeof(T))

#endif
