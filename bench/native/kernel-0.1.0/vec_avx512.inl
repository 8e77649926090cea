// AVX-512 (F, BW, VL, DQ), 16 float lanes. Tails are one masked iteration: masked loads read nothing
// past the end of the arrays and masked stores write nothing there.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

struct Avx512Vec {
  using F = __m512;
  using M = __mmask16;
  static constexpr size_t kWidth = 16;
  static constexpr bool kMaskedTail = true;

  static FUSED_BCE_INLINE F load(const float* p) { return _mm512_loadu_ps(p); }
  static FUSED_BCE_INLINE F loadU8(const uint8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static FUSED_BCE_INLINE void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static FUSED_BCE_INLINE M firstLanes(size_t count) { return static_cast<M>((1u << count) - 1u); }
  static FUSED_BCE_INLINE F loadPartial(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static FUSED_BCE_INLINE F loadU8Partial(const uint8_t* p, M m) {
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p)));
  }
  static FUSED_BCE_INLINE void storePartial(float* p, F v, M m) { _mm512_mask_storeu_ps(p, m, v); }
  static FUSED_BCE_INLINE F set1(float v) { return _mm512_set1_ps(v); }
  static FUSED_BCE_INLINE F add(F a, F b) { return _mm512_add_ps(a, b); }
  static FUSED_BCE_INLINE F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static FUSED_BCE_INLINE F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static FUSED_BCE_INLINE F div(F a, F b) { return _mm512_div_ps(a, b); }
  static FUSED_BCE_INLINE F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static FUSED_BCE_INLINE F abs(F a) { return _mm512_abs_ps(a); }
  static FUSED_BCE_INLINE M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static FUSED_BCE_INLINE M gt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static FUSED_BCE_INLINE M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static FUSED_BCE_INLINE M eq(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static FUSED_BCE_INLINE M isNan(F a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static FUSED_BCE_INLINE M orMask(M a, M b) { return static_cast<M>(a | b); }
  static FUSED_BCE_INLINE F select(M m, F a, F b) { return _mm512_mask_blend_ps(m, b, a); }
  // p * 2^k for integral k in [-151, 0], rounded once (vscalefps handles subnormal results).
  static FUSED_BCE_INLINE F scaleByPow2(F p, F k) { return _mm512_scalef_ps(p, k); }
  static FUSED_BCE_INLINE F pow2i(F k) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(_mm512_add_ps(k, _mm512_set1_ps(12583039.0f))), 23));
  }

  static FUSED_BCE_INLINE bool any(M m) { return m != 0; }

  // Double-precision pairs (lanes 0-7, 8-15), for the precise path of targets outside [0, 1].
  struct D {
    __m512d lo, hi;
  };
  static FUSED_BCE_INLINE D widen(F v) {
    return {_mm512_cvtps_pd(_mm512_castps512_ps256(v)), _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1))};
  }
  static FUSED_BCE_INLINE F narrow(D d) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(d.lo)), _mm512_cvtpd_ps(d.hi), 1);
  }
  static FUSED_BCE_INLINE D dset1(double v) { return {_mm512_set1_pd(v), _mm512_set1_pd(v)}; }
  static FUSED_BCE_INLINE D dadd(D a, D b) { return {_mm512_add_pd(a.lo, b.lo), _mm512_add_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsub(D a, D b) { return {_mm512_sub_pd(a.lo, b.lo), _mm512_sub_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dmul(D a, D b) { return {_mm512_mul_pd(a.lo, b.lo), _mm512_mul_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D ddiv(D a, D b) { return {_mm512_div_pd(a.lo, b.lo), _mm512_div_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dfma(D a, D b, D c) { return {_mm512_fmadd_pd(a.lo, b.lo, c.lo), _mm512_fmadd_pd(a.hi, b.hi, c.hi)}; }
  static FUSED_BCE_INLINE D dselect(M m, D a, D b) {
    return {_mm512_mask_blend_pd(static_cast<__mmask8>(m), b.lo, a.lo), _mm512_mask_blend_pd(static_cast<__mmask8>(m >> 8), b.hi, a.hi)};
  }

  struct Acc {  // an explicit constructor, so that it is compiled inside the target region
    __m512d lo, hi;
    FUSED_BCE_INLINE Acc() : lo(_mm512_setzero_pd()), hi(_mm512_setzero_pd()) {}
  };
  static FUSED_BCE_INLINE void accumulate(Acc& acc, F v) {
    acc.lo = _mm512_add_pd(acc.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    acc.hi = _mm512_add_pd(acc.hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
  }
  static FUSED_BCE_INLINE double total(const Acc& acc) {
    alignas(64) double lanes[8];
    _mm512_store_pd(lanes, _mm512_add_pd(acc.lo, acc.hi));
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
