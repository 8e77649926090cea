// AVX2 + FMA, 8 float lanes. Tails use ScalarVec<true> (AVX2 has no byte-masked loads).
namespace fused_bce {
namespace FUSED_BCE_TARGET {

struct Avx2Vec {
  using F = __m256;
  using M = __m256;
  static constexpr size_t kWidth = 8;
  static constexpr bool kMaskedTail = false;

  static FUSED_BCE_INLINE F load(const float* p) { return _mm256_loadu_ps(p); }
  static FUSED_BCE_INLINE F loadU8(const uint8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static FUSED_BCE_INLINE void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static FUSED_BCE_INLINE F set1(float v) { return _mm256_set1_ps(v); }
  static FUSED_BCE_INLINE F add(F a, F b) { return _mm256_add_ps(a, b); }
  static FUSED_BCE_INLINE F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static FUSED_BCE_INLINE F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static FUSED_BCE_INLINE F div(F a, F b) { return _mm256_div_ps(a, b); }
  static FUSED_BCE_INLINE F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static FUSED_BCE_INLINE F abs(F a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  static FUSED_BCE_INLINE M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static FUSED_BCE_INLINE M gt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static FUSED_BCE_INLINE M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static FUSED_BCE_INLINE M eq(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static FUSED_BCE_INLINE M isNan(F a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static FUSED_BCE_INLINE M orMask(M a, M b) { return _mm256_or_ps(a, b); }
  static FUSED_BCE_INLINE F select(M m, F a, F b) { return _mm256_blendv_ps(b, a, m); }
  // p * 2^k for integral k in [-151, 0], rounded once: 2^k = 2^k1 * 2^k2 with both factors normal.
  static FUSED_BCE_INLINE F scaleByPow2(F p, F k) {
    const F half = set1(0.5f), magic = set1(12582912.0f);
    const F k1 = sub(add(mul(k, half), magic), magic);  // round(k / 2)
    return mul(mul(p, pow2i(k1)), pow2i(sub(k, k1)));
  }
  static FUSED_BCE_INLINE F pow2i(F k) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(_mm256_add_ps(k, _mm256_set1_ps(12583039.0f))), 23));
  }

  static FUSED_BCE_INLINE bool any(M m) { return _mm256_movemask_ps(m) != 0; }

  // Double-precision pairs (lanes 0-3, 4-7), for the precise path of targets outside [0, 1].
  struct D {
    __m256d lo, hi;
  };
  static FUSED_BCE_INLINE D widen(F v) {
    return {_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))};
  }
  static FUSED_BCE_INLINE F narrow(D d) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(d.lo)), _mm256_cvtpd_ps(d.hi), 1);
  }
  static FUSED_BCE_INLINE D dset1(double v) { return {_mm256_set1_pd(v), _mm256_set1_pd(v)}; }
  static FUSED_BCE_INLINE D dadd(D a, D b) { return {_mm256_add_pd(a.lo, b.lo), _mm256_add_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsub(D a, D b) { return {_mm256_sub_pd(a.lo, b.lo), _mm256_sub_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dmul(D a, D b) { return {_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D ddiv(D a, D b) { return {_mm256_div_pd(a.lo, b.lo), _mm256_div_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dfma(D a, D b, D c) { return {_mm256_fmadd_pd(a.lo, b.lo, c.lo), _mm256_fmadd_pd(a.hi, b.hi, c.hi)}; }
  static FUSED_BCE_INLINE D dselect(M m, D a, D b) {
    // Sign-extend each 32-bit mask lane to 64 bits.
    const __m256i wide = _mm256_castps_si256(m);
    const __m256d lo = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(wide)));
    const __m256d hi = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(wide, 1)));
    return {_mm256_blendv_pd(b.lo, a.lo, lo), _mm256_blendv_pd(b.hi, a.hi, hi)};
  }

  struct Acc {  // an explicit constructor, so that it is compiled inside the target region
    __m256d lo, hi;
    FUSED_BCE_INLINE Acc() : lo(_mm256_setzero_pd()), hi(_mm256_setzero_pd()) {}
  };
  static FUSED_BCE_INLINE void accumulate(Acc& acc, F v) {
    acc.lo = _mm256_add_pd(acc.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    acc.hi = _mm256_add_pd(acc.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  static FUSED_BCE_INLINE double total(const Acc& acc) {
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, _mm256_add_pd(acc.lo, acc.hi));
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
