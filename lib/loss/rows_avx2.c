/* AVX2+FMA row kernels for float and double: rows_avx2.inc over a small vector layer. */
#include "rows_avx2.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "common/simd_math_avx2.h"

#define LN_TILE_C 16 /* the tile path's largest C: the tile then fits in registers and L1 */
#define LN_FLUSH 16  /* float vectors summed in pass 2 before the partial sums go to double */

static const int32_t ln_tail32[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static const int64_t ln_tail64[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

static inline double ln_hsum_pd(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

static inline float ln_hmax_ps(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

static inline double ln_hmax_pd(__m256d v) {
  __m128d m = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_max_sd(m, _mm_unpackhi_pd(m, m)));
}

/* acc += v^2 and acc += v, in double: float lanes 0-3 go to acc[0], 4-7 to acc[1]. */
static inline void ln_wacc_sq_ps(__m256d *acc, __m256 v) {
  __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
  acc[0] = _mm256_fmadd_pd(lo, lo, acc[0]);
  acc[1] = _mm256_fmadd_pd(hi, hi, acc[1]);
}

static inline void ln_wacc_add_ps(__m256d *acc, __m256 v) {
  acc[0] = _mm256_add_pd(acc[0], _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  acc[1] = _mm256_add_pd(acc[1], _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

/* Lane r of the mask is set when bit r of bits is. */
static inline __m256i ln_lanes32(int bits) {
  const __m256i b = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(bits), b), b);
}

static inline __m256i ln_lanes64(int bits) {
  const __m256i b = _mm256_setr_epi64x(1, 2, 4, 8);
  return _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(bits), b), b);
}

static inline __m256i ln_labels32(const int32_t *y) {
  return y ? _mm256_loadu_si256((const __m256i *)y) : _mm256_setzero_si256();
}

static inline __m256i ln_labels64(const int32_t *y) {
  return y ? _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)y)) : _mm256_setzero_si256();
}

/* ---- float: 8 lanes ---- */
#define T float
#define SFX f32
#define V __m256
#define LANES 8
#define LN_INF_T INFINITY
#define V_MASK __m256i
#define V_IDX __m256i
#define V_SET1(x) _mm256_set1_ps(x)
#define V_ZERO() _mm256_setzero_ps()
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STOREU(p, v) _mm256_storeu_ps(p, v)
#define V_MLOAD(p, m) _mm256_maskload_ps(p, m)
#define V_MSTORE(p, m, v) _mm256_maskstore_ps(p, m, v)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_SUB(a, b) _mm256_sub_ps(a, b)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_MAX(a, b) _mm256_max_ps(a, b)
#define V_AND(a, b) _mm256_and_ps(a, b)
#define V_FMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_FMSUB(a, b, c) _mm256_fmsub_ps(a, b, c)
#define V_BLEND(a, b, m) _mm256_blendv_ps(a, b, m)
#define V_EXP(x) ln_exp_ps(x)
#define V_HMAX(v) ln_hmax_ps(v)
#define V_TAIL(n) _mm256_loadu_si256((const __m256i *)(ln_tail32 + 8 - (n)))
#define V_MASKV(m) _mm256_castsi256_ps(m)
#define V_WACC_SQ(acc, v) ln_wacc_sq_ps(acc, v)
#define V_WACC_ADD(acc, v) ln_wacc_add_ps(acc, v)
#define V_LOAD_W(p) _mm256_set_m128(_mm256_cvtpd_ps(_mm256_loadu_pd((p) + 4)), _mm256_cvtpd_ps(_mm256_loadu_pd(p)))
#define V_GATHER_MAX INT32_MAX
#define V_IDX_MAKE(ld) _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int32_t)(ld)))
#define V_GATHER(p, idx) _mm256_i32gather_ps(p, idx, 4)
#define V_IDX_LABELS(y) ln_labels32(y)
#define V_IDX_EQ(yv, c) _mm256_cmpeq_epi32(yv, _mm256_set1_epi32((int32_t)(c)))
#define V_LANES_FROM_BITS(bits) ln_lanes32(bits)
#include "rows_avx2.inc"
#undef T
#undef SFX
#undef V
#undef LANES
#undef LN_INF_T
#undef V_SET1
#undef V_ZERO
#undef V_LOADU
#undef V_STOREU
#undef V_MLOAD
#undef V_MSTORE
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_MAX
#undef V_AND
#undef V_FMADD
#undef V_FMSUB
#undef V_BLEND
#undef V_EXP
#undef V_HMAX
#undef V_TAIL
#undef V_MASKV
#undef V_WACC_SQ
#undef V_WACC_ADD
#undef V_LOAD_W
#undef V_GATHER_MAX
#undef V_IDX_MAKE
#undef V_GATHER
#undef V_IDX_LABELS
#undef V_IDX_EQ
#undef V_LANES_FROM_BITS

/* ---- double: 4 lanes ---- */
#define T double
#define SFX f64
#define V __m256d
#define LANES 4
#define LN_INF_T INFINITY
#define V_SET1(x) _mm256_set1_pd(x)
#define V_ZERO() _mm256_setzero_pd()
#define V_LOADU(p) _mm256_loadu_pd(p)
#define V_STOREU(p, v) _mm256_storeu_pd(p, v)
#define V_MLOAD(p, m) _mm256_maskload_pd(p, m)
#define V_MSTORE(p, m, v) _mm256_maskstore_pd(p, m, v)
#define V_ADD(a, b) _mm256_add_pd(a, b)
#define V_SUB(a, b) _mm256_sub_pd(a, b)
#define V_MUL(a, b) _mm256_mul_pd(a, b)
#define V_MAX(a, b) _mm256_max_pd(a, b)
#define V_AND(a, b) _mm256_and_pd(a, b)
#define V_FMADD(a, b, c) _mm256_fmadd_pd(a, b, c)
#define V_FMSUB(a, b, c) _mm256_fmsub_pd(a, b, c)
#define V_BLEND(a, b, m) _mm256_blendv_pd(a, b, m)
#define V_EXP(x) ln_exp_pd(x)
#define V_HMAX(v) ln_hmax_pd(v)
#define V_TAIL(n) _mm256_loadu_si256((const __m256i *)(ln_tail64 + 4 - (n)))
#define V_MASKV(m) _mm256_castsi256_pd(m)
#define V_WACC_SQ(acc, v) ((acc)[0] = _mm256_fmadd_pd(v, v, (acc)[0]))
#define V_WACC_ADD(acc, v) ((acc)[0] = _mm256_add_pd((acc)[0], v))
#define V_LOAD_W(p) _mm256_loadu_pd(p)
#define V_GATHER_MAX (INT64_MAX / 8)
#define V_IDX_MAKE(ld) _mm256_setr_epi64x(0, (ld), 2 * (ld), 3 * (ld))
#define V_GATHER(p, idx) _mm256_i64gather_pd(p, idx, 8)
#define V_IDX_LABELS(y) ln_labels64(y)
#define V_IDX_EQ(yv, c) _mm256_cmpeq_epi64(yv, _mm256_set1_epi64x(c))
#define V_LANES_FROM_BITS(bits) ln_lanes64(bits)
#include "rows_avx2.inc"
