// SSE2, 4 float lanes: the x86-64 baseline, for CPUs without AVX2 + FMA. There is no fused multiply-add, so
// the error-free steps (fma) run in double, where a product of two floats is exact (two double lanes at a
// time), and the other products (mulAdd) round twice; tables are read lane by lane; the reciprocal estimate is
// rcpps refined by one Newton step.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

struct Sse2Vec {
  using F = __m128;
  using M = __m128;
  static constexpr size_t kWidth = 4;
  static constexpr bool kHasScaleFloor = false;
  static constexpr bool kHasLoadColumns = false;
  static constexpr bool kHasStoreFirst = false;
  static constexpr bool kSumLogits = true;
  static constexpr unsigned kLog1pTableSize = 32;  // lookups are four loads whatever the size
  static constexpr bool kExpFirst = true;  // runSpan: 1.07x
  static constexpr bool kFastPathInDouble = true;  // fma is emulated: see kFastPathInDouble in bce_kernel.inl
  static constexpr bool kExpTable = true;

  static FUSED_BCE_INLINE F load(const float* p) { return _mm_loadu_ps(p); }
  static FUSED_BCE_INLINE void store(float* p, F v) { _mm_storeu_ps(p, v); }
  static FUSED_BCE_INLINE M loadLabelIsOne(const uint8_t* p) {
    int four;
    std::memcpy(&four, p, 4);
    const __m128i zero = _mm_setzero_si128();
    const __m128i wide = _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(four), zero), zero);
    return _mm_castsi128_ps(_mm_cmpgt_epi32(wide, zero));
  }
  static FUSED_BCE_INLINE M firstLanes(size_t count) {
    return _mm_castsi128_ps(_mm_cmpgt_epi32(_mm_set1_epi32(static_cast<int>(count)), _mm_setr_epi32(0, 1, 2, 3)));
  }
  static FUSED_BCE_INLINE F set1(float v) { return _mm_set1_ps(v); }
  static FUSED_BCE_INLINE F add(F a, F b) { return _mm_add_ps(a, b); }
  static FUSED_BCE_INLINE F sub(F a, F b) { return _mm_sub_ps(a, b); }
  static FUSED_BCE_INLINE F mul(F a, F b) { return _mm_mul_ps(a, b); }
  static FUSED_BCE_INLINE F div(F a, F b) { return _mm_div_ps(a, b); }
  static FUSED_BCE_INLINE F fma(F a, F b, F c) {
    const __m128d lo = _mm_add_pd(_mm_mul_pd(_mm_cvtps_pd(a), _mm_cvtps_pd(b)), _mm_cvtps_pd(c));
    const __m128d hi = _mm_add_pd(_mm_mul_pd(_mm_cvtps_pd(_mm_movehl_ps(a, a)), _mm_cvtps_pd(_mm_movehl_ps(b, b))),
                                  _mm_cvtps_pd(_mm_movehl_ps(c, c)));
    return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
  }
  static FUSED_BCE_INLINE F fms(F a, F b, F c) { return fma(a, b, _mm_xor_ps(c, _mm_set1_ps(-0.0f))); }
  static FUSED_BCE_INLINE F fnma(F a, F b, F c) { return fma(_mm_xor_ps(a, _mm_set1_ps(-0.0f)), b, c); }
  static FUSED_BCE_INLINE F mulAdd(F a, F b, F c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
  static FUSED_BCE_INLINE F abs(F a) { return _mm_andnot_ps(_mm_set1_ps(-0.0f), a); }
  static FUSED_BCE_INLINE F negAbs(F a) { return _mm_or_ps(_mm_set1_ps(-0.0f), a); }
  static FUSED_BCE_INLINE F maxKeepNan(F a, F b) { return _mm_max_ps(b, a); }
  static FUSED_BCE_INLINE F mulUnlessZero(F a, F b) { return _mm_and_ps(_mm_mul_ps(a, b), _mm_cmpneq_ps(a, _mm_setzero_ps())); }
  static FUSED_BCE_INLINE M lt(F a, F b) { return _mm_cmplt_ps(a, b); }
  static FUSED_BCE_INLINE M ge(F a, F b) { return _mm_cmpge_ps(a, b); }
  static FUSED_BCE_INLINE M eq(F a, F b) { return _mm_cmpeq_ps(a, b); }
  // Lanes not in [+0, 1]: signed compare of the patterns (negatives, -0 included, are negative integers).
  static FUSED_BCE_INLINE M notInUnitInterval(F a) {
    const __m128i bits = _mm_castps_si128(a);
    return _mm_castsi128_ps(_mm_or_si128(_mm_cmpgt_epi32(bits, _mm_set1_epi32(0x3f800000)),
                                         _mm_cmplt_epi32(bits, _mm_setzero_si128())));
  }
  static FUSED_BCE_INLINE F select(M m, F a, F b) { return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b)); }
  static FUSED_BCE_INLINE M maskXor(M a, M b) { return _mm_xor_ps(a, b); }
  static FUSED_BCE_INLINE bool any(M m) { return _mm_movemask_ps(m) != 0; }
  // v[0..3] as the rows of a 4 x 4 matrix, replaced by its columns (pairs interleaved, then halves).
  static FUSED_BCE_INLINE void transpose(F* v) {
    const __m128 t0 = _mm_unpacklo_ps(v[0], v[1]), t1 = _mm_unpacklo_ps(v[2], v[3]);
    const __m128 t2 = _mm_unpackhi_ps(v[0], v[1]), t3 = _mm_unpackhi_ps(v[2], v[3]);
    v[0] = _mm_movelh_ps(t0, t1);
    v[1] = _mm_movehl_ps(t1, t0);
    v[2] = _mm_movelh_ps(t2, t3);
    v[3] = _mm_movehl_ps(t3, t2);
  }

  using Table16 = const float*;
  using Table32 = const float*;
  static FUSED_BCE_INLINE Table16 loadTable16(const float* t) { return t; }
  static FUSED_BCE_INLINE Table32 loadTable32(const float* t) { return t; }
  template <unsigned kMask>
  static FUSED_BCE_INLINE F lookup(const float* t, F index) {
    alignas(16) uint32_t i[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(i), _mm_and_si128(_mm_castps_si128(index), _mm_set1_epi32(kMask)));
    return _mm_setr_ps(t[i[0]], t[i[1]], t[i[2]], t[i[3]]);
  }
  static FUSED_BCE_INLINE F lookup16(Table16 t, F index) { return lookup<15>(t, index); }
  static FUSED_BCE_INLINE F lookup32(Table32 t, F index) { return lookup<31>(t, index); }
  static FUSED_BCE_INLINE F addShiftedBits19(F a, F b) {
    return _mm_castsi128_ps(_mm_add_epi32(_mm_castps_si128(a), _mm_slli_epi32(_mm_castps_si128(b), 19)));
  }
  // 1 / a within about 2^-22: rcpps (1.5 * 2^-12) and a Newton step.
  static FUSED_BCE_INLINE F reciprocalEstimate(F a) {
    const F r = _mm_rcp_ps(a);
    return _mm_mul_ps(r, _mm_sub_ps(_mm_set1_ps(2.0f), _mm_mul_ps(a, r)));
  }
  // p * 2^k for integral k in [-151, 0], rounded once: 2^k = 2^k1 * 2^k2 with both factors normal.
  static FUSED_BCE_INLINE F scaleByPow2(F p, F k) {
    const __m128i ki = _mm_cvtps_epi32(k);
    const __m128i k1 = _mm_srai_epi32(ki, 1);
    return mul(mul(p, pow2(k1)), pow2(_mm_sub_epi32(ki, k1)));
  }
  static FUSED_BCE_INLINE F pow2(__m128i k) {  // 2^k for integral k in [-126, 127]
    return _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(k, _mm_set1_epi32(127)), 23));
  }

  // Double-precision pairs (lanes 0-1, 2-3), for the precise path.
  struct D {
    __m128d lo, hi;
  };
  static FUSED_BCE_INLINE D widen(F v) { return {_mm_cvtps_pd(v), _mm_cvtps_pd(_mm_movehl_ps(v, v))}; }
  static FUSED_BCE_INLINE D widenLoad(const float* p) { return widen(load(p)); }
  static FUSED_BCE_INLINE F narrow(D d) { return _mm_movelh_ps(_mm_cvtpd_ps(d.lo), _mm_cvtpd_ps(d.hi)); }
  static FUSED_BCE_INLINE void storeNarrowed(float* p, D d) { store(p, narrow(d)); }
  static FUSED_BCE_INLINE D dset1(double v) { return {_mm_set1_pd(v), _mm_set1_pd(v)}; }
  static FUSED_BCE_INLINE D dadd(D a, D b) { return {_mm_add_pd(a.lo, b.lo), _mm_add_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsub(D a, D b) { return {_mm_sub_pd(a.lo, b.lo), _mm_sub_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dmul(D a, D b) { return {_mm_mul_pd(a.lo, b.lo), _mm_mul_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D ddiv(D a, D b) { return {_mm_div_pd(a.lo, b.lo), _mm_div_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsqrt(D a) { return {_mm_sqrt_pd(a.lo), _mm_sqrt_pd(a.hi)}; }
  static FUSED_BCE_INLINE D dmin(D a, D b) { return {_mm_min_pd(a.lo, b.lo), _mm_min_pd(a.hi, b.hi)}; }
  // a < b ? b : a: maxpd returns its second operand where either is NaN
  static FUSED_BCE_INLINE D dmax(D a, D b) { return {_mm_max_pd(b.lo, a.lo), _mm_max_pd(b.hi, a.hi)}; }
  // Without FMA hardware: a product and a sum (two roundings at 2^-53, far below what float results show).
  static FUSED_BCE_INLINE D dfma(D a, D b, D c) { return dadd(dmul(a, b), c); }
  static FUSED_BCE_INLINE D dselect(M m, D a, D b) {
    const __m128d lo = _mm_castps_pd(_mm_unpacklo_ps(m, m)), hi = _mm_castps_pd(_mm_unpackhi_ps(m, m));
    return {_mm_or_pd(_mm_and_pd(lo, a.lo), _mm_andnot_pd(lo, b.lo)), _mm_or_pd(_mm_and_pd(hi, a.hi), _mm_andnot_pd(hi, b.hi))};
  }

  static FUSED_BCE_INLINE D dload(const double* p) { return {_mm_loadu_pd(p), _mm_loadu_pd(p + 2)}; }
  static FUSED_BCE_INLINE void dstore(double* p, D d) {
    _mm_storeu_pd(p, d.lo);
    _mm_storeu_pd(p + 2, d.hi);
  }
  // floor(log2 a) and a / 2^floor(log2 a), for positive normal a.
  static FUSED_BCE_INLINE F exponentOf(F a) {
    return _mm_cvtepi32_ps(_mm_sub_epi32(_mm_srli_epi32(_mm_castps_si128(a), 23), _mm_set1_epi32(127)));
  }
  static FUSED_BCE_INLINE F mantissaOf(F a) {
    return _mm_castsi128_ps(_mm_or_si128(_mm_and_si128(_mm_castps_si128(a), _mm_set1_epi32(0x7fffff)), _mm_set1_epi32(0x3f800000)));
  }

  struct Acc {
    __m128d lo, hi;
    FUSED_BCE_INLINE Acc() : lo(_mm_setzero_pd()), hi(_mm_setzero_pd()) {}
  };
  static FUSED_BCE_INLINE void accumulate(Acc& acc, F v) {
    acc.lo = _mm_add_pd(acc.lo, _mm_cvtps_pd(v));
    acc.hi = _mm_add_pd(acc.hi, _mm_cvtps_pd(_mm_movehl_ps(v, v)));
  }
  static FUSED_BCE_INLINE void accumulateDouble(Acc& acc, D d) {
    acc.lo = _mm_add_pd(acc.lo, d.lo);
    acc.hi = _mm_add_pd(acc.hi, d.hi);
  }
  static FUSED_BCE_INLINE double total(const Acc& acc) {
    alignas(16) double lanes[2];
    _mm_store_pd(lanes, _mm_add_pd(acc.lo, acc.hi));
    return lanes[0] + lanes[1];
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
