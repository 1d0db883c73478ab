/* The vector layer of the AVX2 loss kernels (rows_avx2.inc, tile_avx2.inc): horizontal
   reductions, the float-to-double accumulators, transposes, masks and gathers, each written for
   float (ps) and double (pd); the loads and stores of the storage types (f32, f64, bf16, f16);
   then V_*, which names every operation once and picks the helper or intrinsic of the
   instantiation's vector suffix VS, and S_*, the loads and stores of its storage suffix SFX.
   Included by rows_avx2.c only: it needs AVX2+FMA (and F16C for f16). */
#ifndef LN_LOSS_VEC_AVX2_H
#define LN_LOSS_VEC_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "common/simd_math_avx2.h"

#define LN_CAT2(a, b) a##b
#define LN_CAT(a, b) LN_CAT2(a, b)

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

static inline float ln_hmin_ps(__m256 v) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

static inline double ln_hmin_pd(__m256d v) {
  __m128d m = _mm_min_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_min_sd(m, _mm_unpackhi_pd(m, m)));
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

/* The 8 floats (4 doubles) of v into p[0..8) as doubles. */
static inline void ln_store_wide_ps(double *p, __m256 v) {
  _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  _mm256_storeu_pd(p + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

/* 8 lane masks of 64 bits (p[0..8)) as 8 masks of 32 bits: the low half of each. */
static inline __m256 ln_load_keep_ps(const double *p) {
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  __m256i lo = _mm256_permutevar8x32_epi32(_mm256_castpd_si256(_mm256_loadu_pd(p)), even);
  __m256i hi = _mm256_permutevar8x32_epi32(_mm256_castpd_si256(_mm256_loadu_pd(p + 4)), even);
  return _mm256_castsi256_ps(_mm256_permute2x128_si256(lo, hi, 0x20));
}

/* out[j] = column j of the rows r[0..8): the 8 x 8 float transpose (unpack, shuffle, swap
   halves). Every r[j] is read before out is written, so out may be r. Taking the source and
   the destination as arguments keeps the tile's columns from being copied through the stack
   in 16-byte pieces and read back as whole vectors, which stalls the loads (no store
   forwarding). */
static inline void ln_transpose_ps(const __m256 *r, __m256 *out) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  /* s0 = column 0 of rows 0-3 | column 4 of rows 0-3, s1 columns 1 | 5, ... */
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
  out[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  out[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  out[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  out[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  out[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  out[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  out[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  out[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* The 4 x 4 double transpose, likewise. */
static inline void ln_transpose_pd(const __m256d *r, __m256d *out) {
  __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  out[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  out[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  out[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  out[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* The double forms of the float helpers above, so that rows_avx2.inc names each operation
   once, with the type's suffix (see VF below). */
static inline void ln_wacc_sq_pd(__m256d *acc, __m256d v) { acc[0] = _mm256_fmadd_pd(v, v, acc[0]); }
static inline void ln_wacc_add_pd(__m256d *acc, __m256d v) { acc[0] = _mm256_add_pd(acc[0], v); }
static inline void ln_store_wide_pd(double *p, __m256d v) { _mm256_storeu_pd(p, v); }
static inline __m256d ln_load_wide_pd(const double *p) { return _mm256_loadu_pd(p); }
static inline __m256d ln_load_keep_pd(const double *p) { return _mm256_loadu_pd(p); }

/* 8 doubles p[0..8) as 8 floats. */
static inline __m256 ln_load_wide_ps(const double *p) {
  return _mm256_set_m128(_mm256_cvtpd_ps(_mm256_loadu_pd(p + 4)), _mm256_cvtpd_ps(_mm256_loadu_pd(p)));
}

/* The mask of the first n lanes (n <= lanes). */
static inline __m256i ln_tail_ps(int64_t n) { return _mm256_loadu_si256((const __m256i *)(ln_tail32 + 8 - n)); }
static inline __m256i ln_tail_pd(int64_t n) { return _mm256_loadu_si256((const __m256i *)(ln_tail64 + 4 - n)); }

/* a in lane j, 0 elsewhere, built in registers (a vector stored lane by lane and loaded
   whole stalls on store forwarding). */
static inline __m256 ln_onehot_ps(float a, int64_t j) {
  __m256i eq = _mm256_cmpeq_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int32_t)j));
  return _mm256_and_ps(_mm256_set1_ps(a), _mm256_castsi256_ps(eq));
}
static inline __m256d ln_onehot_pd(double a, int64_t j) {
  __m256i eq = _mm256_cmpeq_epi64(_mm256_setr_epi64x(0, 1, 2, 3), _mm256_set1_epi64x(j));
  return _mm256_and_pd(_mm256_set1_pd(a), _mm256_castsi256_pd(eq));
}

/* The lanes' labels (8 int32 or 4 widened to int64); a column index in every lane (cv, from
   zero, stepped by ln_y_next); and the lanes whose label is that column. */
static inline __m256i ln_y_load_ps(const int32_t *y) { return _mm256_loadu_si256((const __m256i *)y); }
static inline __m256i ln_y_load_pd(const int32_t *y) {
  return _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)y));
}
static inline __m256i ln_y_next_ps(__m256i cv) { return _mm256_sub_epi32(cv, _mm256_set1_epi32(-1)); }
static inline __m256i ln_y_next_pd(__m256i cv) { return _mm256_sub_epi64(cv, _mm256_set1_epi64x(-1)); }
static inline __m256 ln_y_eq_ps(__m256i yv, __m256i cv) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(yv, cv)); }
static inline __m256d ln_y_eq_pd(__m256i yv, __m256i cv) { return _mm256_castsi256_pd(_mm256_cmpeq_epi64(yv, cv)); }

/* z[r ld + y_r] for the lanes r whose label y_r is in [0, C), 0 for the others, by one
   masked gather; (LANES - 1) ld + C must fit an int32 (the caller checks). */
static inline __m256 ln_gather_zy_ps(const float *z, int64_t ld, const int32_t *y, int64_t C) {
  const __m256i yv = _mm256_loadu_si256((const __m256i *)y);
  const __m256i ok = _mm256_and_si256(_mm256_cmpgt_epi32(yv, _mm256_set1_epi32(-1)),
                                      _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)C), yv));
  const __m256i row = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int32_t)ld));
  return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), z, _mm256_add_epi32(yv, row), _mm256_castsi256_ps(ok), 4);
}
static inline __m256d ln_gather_zy_pd(const double *z, int64_t ld, const int32_t *y, int64_t C) {
  const __m128i yv = _mm_loadu_si128((const __m128i *)y);
  const __m128i ok = _mm_and_si128(_mm_cmpgt_epi32(yv, _mm_set1_epi32(-1)), _mm_cmpgt_epi32(_mm_set1_epi32((int32_t)C), yv));
  const __m128i row = _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32((int32_t)ld));
  return _mm256_mask_i32gather_pd(_mm256_setzero_pd(), z, _mm_add_epi32(yv, row),
                                  _mm256_castsi256_pd(_mm256_cvtepi32_epi64(ok)), 8);
}

/* ---- storage: the element types the kernels load and store (the type table's S and SFX) ----
   f32 and f64 are moved as they are. bf16 and f16 are widened exactly to float on load and
   narrowed once, to nearest even, on store, by the rules of common/half.h: bf16 by a 16-bit
   shift and integer rounding (a NaN keeps its top payload bits and gets the quiet bit), f16 by
   F16C (vcvtph2ps; vcvtps2ph with the rounding immediate, not MXCSR). The masked forms take a
   tail mask of the first n lanes (V_TAIL) and touch no element past them. */
static inline __m256 ln_bf16_widen8(__m128i h) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
/* The bf16 of each lane in the low 16 bits of its 32-bit lane (so each lane < 2^16 and packs
   exactly). */
static inline __m256i ln_bf16_round8(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  return _mm256_blendv_epi8(rounded, quiet, nan);
}
static inline __m128i ln_bf16_narrow8(__m256 v) {
  const __m256i r = ln_bf16_round8(v);
  /* packus per 128-bit half gives r0-3 r0-3 | r4-7 r4-7: quadwords 0 and 2 are r0-7 */
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08));
}
static inline __m256 ln_f16_widen8(__m128i h) { return _mm256_cvtph_ps(h); }
static inline __m128i ln_f16_narrow8(__m256 v) { return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT); }

/* The number of lanes of a tail mask of 32-bit lanes. */
static inline int ln_tail_count_ps(__m256i mask) {
  return __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(mask)));
}

static inline __m256 ln_sload_f32(const float *p) { return _mm256_loadu_ps(p); }
static inline __m256d ln_sload_f64(const double *p) { return _mm256_loadu_pd(p); }
static inline __m256 ln_sload_bf16(const uint16_t *p) { return ln_bf16_widen8(_mm_loadu_si128((const __m128i *)p)); }
static inline __m256 ln_sload_f16(const uint16_t *p) { return ln_f16_widen8(_mm_loadu_si128((const __m128i *)p)); }
static inline void ln_sstore_f32(float *p, __m256 v) { _mm256_storeu_ps(p, v); }
static inline void ln_sstore_f64(double *p, __m256d v) { _mm256_storeu_pd(p, v); }
static inline void ln_sstore_bf16(uint16_t *p, __m256 v) { _mm_storeu_si128((__m128i *)p, ln_bf16_narrow8(v)); }
static inline void ln_sstore_f16(uint16_t *p, __m256 v) { _mm_storeu_si128((__m128i *)p, ln_f16_narrow8(v)); }
/* a to pa, then b to pb (two rows of a tile): bf16 narrows both with one pack and one permute
   (a0-3 b0-3 | a4-7 b4-7, then quadwords 0 2 1 3); the other types store each. */
static inline void ln_sstore2_f32(float *pa, float *pb, __m256 a, __m256 b) {
  _mm256_storeu_ps(pa, a);
  _mm256_storeu_ps(pb, b);
}
static inline void ln_sstore2_f64(double *pa, double *pb, __m256d a, __m256d b) {
  _mm256_storeu_pd(pa, a);
  _mm256_storeu_pd(pb, b);
}
static inline void ln_sstore2_bf16(uint16_t *pa, uint16_t *pb, __m256 a, __m256 b) {
  const __m256i ab = _mm256_permute4x64_epi64(_mm256_packus_epi32(ln_bf16_round8(a), ln_bf16_round8(b)), 0xd8);
  _mm_storeu_si128((__m128i *)pa, _mm256_castsi256_si128(ab));
  _mm_storeu_si128((__m128i *)pb, _mm256_extracti128_si256(ab, 1));
}
static inline void ln_sstore2_f16(uint16_t *pa, uint16_t *pb, __m256 a, __m256 b) {
  ln_sstore_f16(pa, a);
  ln_sstore_f16(pb, b);
}

static inline __m256 ln_smload_f32(const float *p, __m256i m) { return _mm256_maskload_ps(p, m); }
static inline __m256d ln_smload_f64(const double *p, __m256i m) { return _mm256_maskload_pd(p, m); }
/* The first n (0 to 4) 16-bit elements at p as the low lanes of a 64-bit integer (x86 is
   little-endian), and back. Masked half loads and stores go through integer registers in
   pieces of a constant size: a vector load from a buffer just written in smaller pieces would
   wait for the stores to retire (no store forwarding), in every partial block of a tile. */
static inline uint64_t ln_load_halves64(const uint16_t *p, int n) {
  uint64_t v = 0;
  if (n & 4) {
    memcpy(&v, p, 8);
    return v;
  }
  uint32_t w = 0;
  if (n & 2) memcpy(&w, p, 4);
  v = w;
  if (n & 1) v |= (uint64_t)p[n & 2] << (16 * (n & 2));
  return v;
}
static inline void ln_store_halves64(uint16_t *p, uint64_t v, int n) {
  if (n & 4) {
    memcpy(p, &v, 8);
    return;
  }
  if (n & 2) {
    const uint32_t w = (uint32_t)v;
    memcpy(p, &w, 4);
  }
  if (n & 1) p[n & 2] = (uint16_t)(v >> (16 * (n & 2)));
}
static inline __m128i ln_smload_half(const uint16_t *p, __m256i m) {
  const int n = ln_tail_count_ps(m);
  const uint64_t lo = ln_load_halves64(p, n < 4 ? n : 4), hi = n > 4 ? ln_load_halves64(p + 4, n - 4) : 0;
  return _mm_set_epi64x((long long)hi, (long long)lo);
}
static inline __m256 ln_smload_bf16(const uint16_t *p, __m256i m) { return ln_bf16_widen8(ln_smload_half(p, m)); }
static inline __m256 ln_smload_f16(const uint16_t *p, __m256i m) { return ln_f16_widen8(ln_smload_half(p, m)); }
static inline void ln_smstore_f32(float *p, __m256i m, __m256 v) { _mm256_maskstore_ps(p, m, v); }
static inline void ln_smstore_f64(double *p, __m256i m, __m256d v) { _mm256_maskstore_pd(p, m, v); }
/* The low 64 bits of h (movq; written so that 32-bit x86, which has no 64-bit integer
   registers, compiles it too). */
static inline uint64_t ln_low64(__m128i h) {
  uint64_t v;
  _mm_storel_epi64((__m128i *)(void *)&v, h);
  return v;
}
static inline void ln_smstore_half(uint16_t *p, __m256i m, __m128i h) {
  const int n = ln_tail_count_ps(m);
  ln_store_halves64(p, ln_low64(h), n < 4 ? n : 4);
  if (n > 4) ln_store_halves64(p + 4, ln_low64(_mm_unpackhi_epi64(h, h)), n - 4);
}
static inline void ln_smstore_bf16(uint16_t *p, __m256i m, __m256 v) { ln_smstore_half(p, m, ln_bf16_narrow8(v)); }
static inline void ln_smstore_f16(uint16_t *p, __m256i m, __m256 v) { ln_smstore_half(p, m, ln_f16_narrow8(v)); }

/* z[r ld + y_r] as ln_gather_zy_* gives them, for each storage type (the half ones lane by
   lane: a 32-bit gather of a 16-bit element could read past the matrix). */
static inline __m256 ln_sgather_zy_f32(const float *z, int64_t ld, const int32_t *y, int64_t C) {
  return ln_gather_zy_ps(z, ld, y, C);
}
static inline __m256d ln_sgather_zy_f64(const double *z, int64_t ld, const int32_t *y, int64_t C) {
  return ln_gather_zy_pd(z, ld, y, C);
}
/* The half z[r ld + y_r] in the high 16 bits of 32-bit lanes (0 in the lanes
   ln_gather_zy_ps leaves 0), by one masked 32-bit gather; the same int32 bound. A lane with
   element index i >= 1 reads elements i - 1 and i (x86 is little-endian: i is the high half);
   element i - 1 is in row r, or at worst the last padding element of row r - 1. The lane with
   i = 0 reads elements 0 and 1 and shifts element 0 up (callers gather from LANES rows, so
   element 1 exists). Nothing outside the matrix is read, and the lanes are not put together
   one 16-bit load at a time. */
static inline __m256i ln_gather_zy_half_hi(const uint16_t *z, int64_t ld, const int32_t *y, int64_t C) {
  const __m256i yv = _mm256_loadu_si256((const __m256i *)y);
  const __m256i ok = _mm256_and_si256(_mm256_cmpgt_epi32(yv, _mm256_set1_epi32(-1)),
                                      _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)C), yv));
  const __m256i row = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int32_t)ld));
  const __m256i i = _mm256_add_epi32(yv, row);
  const __m256i first = _mm256_cmpeq_epi32(i, _mm256_setzero_si256()); /* -1 where i = 0 */
  const __m256i at = _mm256_sub_epi32(_mm256_add_epi32(i, _mm256_set1_epi32(-1)), first); /* i - 1, or 0 */
  const __m256i w = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)z, at, ok, 2);
  return _mm256_blendv_epi8(_mm256_and_si256(w, _mm256_set1_epi32((int32_t)0xffff0000u)),
                            _mm256_slli_epi32(w, 16), first);
}
static inline __m256 ln_sgather_zy_bf16(const uint16_t *z, int64_t ld, const int32_t *y, int64_t C) {
  return _mm256_castsi256_ps(ln_gather_zy_half_hi(z, ld, y, C)); /* a bf16 is the top half of its float */
}
static inline __m256 ln_sgather_zy_f16(const uint16_t *z, int64_t ld, const int32_t *y, int64_t C) {
  const __m256i h = _mm256_srli_epi32(ln_gather_zy_half_hi(z, ld, y, C), 16);
  /* packus per 128-bit half gives h0-3 h0-3 | h4-7 h4-7: quadwords 0 and 2 are h0-7 */
  return ln_f16_widen8(_mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(h, h), 0x08)));
}

/* Lane counters in the integer lanes of the type's width (32 or 64 bits): an all-ones lane is
   -1, so subtracting a comparison's mask counts its true lanes. */
static inline __m256i ln_mask_sub_ps(__m256i a, __m256i b) { return _mm256_sub_epi32(a, b); }
static inline __m256i ln_mask_sub_pd(__m256i a, __m256i b) { return _mm256_sub_epi64(a, b); }
static inline __m256i ln_mask_add_ps(__m256i a, __m256i b) { return _mm256_add_epi32(a, b); }
static inline __m256i ln_mask_add_pd(__m256i a, __m256i b) { return _mm256_add_epi64(a, b); }
static inline int64_t ln_mask_hsum_ps(__m256i v) {
  int32_t x[8];
  _mm256_storeu_si256((__m256i *)x, v);
  return (int64_t)x[0] + x[1] + x[2] + x[3] + x[4] + x[5] + x[6] + x[7];
}
static inline int64_t ln_mask_hsum_pd(__m256i v) {
  int64_t x[4];
  _mm256_storeu_si256((__m256i *)x, v);
  return x[0] + x[1] + x[2] + x[3];
}

/* Every operation of the kernels is the intrinsic or helper of the type's suffix VS (ps or pd),
   so one table serves both types and an instantiation names only the type's constants. */
#define VF(name) LN_CAT(name, VS)
#define V_MASK __m256i
#define V_SET1(x) VF(_mm256_set1_)(x)
#define V_ZERO() VF(_mm256_setzero_)()
#define V_LOADU(p) VF(_mm256_loadu_)(p)
#define V_STOREU(p, v) VF(_mm256_storeu_)(p, v)
#define V_MLOAD(p, m) VF(_mm256_maskload_)(p, m)
#define V_MSTORE(p, m, v) VF(_mm256_maskstore_)(p, m, v)
#define V_ADD(a, b) VF(_mm256_add_)(a, b)
#define V_SUB(a, b) VF(_mm256_sub_)(a, b)
#define V_MUL(a, b) VF(_mm256_mul_)(a, b)
#define V_MAX(a, b) VF(_mm256_max_)(a, b)
#define V_MIN(a, b) VF(_mm256_min_)(a, b)
#define V_AND(a, b) VF(_mm256_and_)(a, b)
#define V_CMPNEQ(a, b) VF(_mm256_cmp_)(a, b, _CMP_NEQ_UQ)
#define V_CMPEQ(a, b) VF(_mm256_cmp_)(a, b, _CMP_EQ_OQ)
#define V_ANDNOT(a, b) VF(_mm256_andnot_)(a, b) /* ~a & b */
#define V_FMADD(a, b, c) VF(_mm256_fmadd_)(a, b, c)
#define V_FMSUB(a, b, c) VF(_mm256_fmsub_)(a, b, c)
#define V_BLEND(a, b, m) VF(_mm256_blendv_)(a, b, m)
#define V_MASKV(m) VF(_mm256_castsi256_)(m)
#define V_EXPN(x) VF(ln_exp_neg_)(x)
#define V_EXPC(x) VF(ln_exp_core_)(x) /* for arguments in [-EXP_SAFE, 0] or NaN only */
#define V_HMAX(v) VF(ln_hmax_)(v)
#define V_HMIN(v) VF(ln_hmin_)(v)
#define V_TAIL(n) VF(ln_tail_)(n)
#define V_WACC_SQ(acc, v) VF(ln_wacc_sq_)(acc, v)
#define V_WACC_ADD(acc, v) VF(ln_wacc_add_)(acc, v)
#define V_LOAD_W(p) VF(ln_load_wide_)(p)
#define V_STORE_W(p, v) VF(ln_store_wide_)(p, v)
#define V_LOAD_KEEP(p) VF(ln_load_keep_)(p)
#define V_TRANSPOSE(in, out) VF(ln_transpose_)(in, out) /* out = in transposed (may be in) */
#define V_Y_LOAD(y) VF(ln_y_load_)(y)
#define V_Y_EQ(yv, cv) VF(ln_y_eq_)(yv, cv)
#define V_Y_NEXT(cv) VF(ln_y_next_)(cv)
#define V_GATHER_ZY(z, ld, y, C) LN_CAT(ln_sgather_zy_, SFX)(z, ld, y, C) /* z of the storage type */
/* loads and stores of the storage type S (logits, targets, gradients), with the suffix SFX */
#define S_LOADU(p) LN_CAT(ln_sload_, SFX)(p)
#define S_STOREU(p, v) LN_CAT(ln_sstore_, SFX)(p, v)
#define S_STOREU2(pa, pb, a, b) LN_CAT(ln_sstore2_, SFX)(pa, pb, a, b) /* a to pa, then b to pb */
#define S_MLOAD(p, m) LN_CAT(ln_smload_, SFX)(p, m)
#define S_MSTORE(p, m, v) LN_CAT(ln_smstore_, SFX)(p, m, v)
#define V_ONEHOT(a, j) VF(ln_onehot_)(a, j)
#define V_MASK_ZERO() _mm256_setzero_si256()
#define V_MASKI(v) LN_CAT(VF(_mm256_cast), _si256)(v)
#define V_MASK_SUB(a, b) VF(ln_mask_sub_)(a, b)
#define V_MASK_ADD(a, b) VF(ln_mask_add_)(a, b)
#define V_MASK_HSUM(v) VF(ln_mask_hsum_)(v)

#endif
