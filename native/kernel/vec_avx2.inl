// AVX2 + FMA, 8 float lanes. Table lookups by in-register permutes (vpermps over 8-entry halves, blended on
// the index's next bit); the reciprocal estimate is vrcpps (12 bits) refined by one Newton step.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

struct Avx2Vec {
  using F = __m256;
  using M = __m256;
  static constexpr size_t kWidth = 8;
  static constexpr bool kHasScaleFloor = false;
  static constexpr bool kHasLoadColumns = false;
  static constexpr bool kHasStoreFirst = false;
  static constexpr bool kSumLogits = true;
  // Each 8 entries of a lookup cost a vpermps and a blend: the 16-point log1p table and one more polynomial term
  // measured 1.1x the 32-point one. runSpan's e-first pass: 1.1x.
  static constexpr unsigned kLog1pTableSize = 16;
  static constexpr bool kExpFirst = true;
  static constexpr bool kFastPathInDouble = false;  // FMA in hardware: the float path with its error-free steps is cheaper
  static constexpr bool kExpTable = true;

  static FUSED_BCE_INLINE F load(const float* p) { return _mm256_loadu_ps(p); }
  static FUSED_BCE_INLINE void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  // Lanes whose label (checked to be 0 or 1) is 1.
  static FUSED_BCE_INLINE M loadLabelIsOne(const uint8_t* p) {
    const __m256i wide = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(wide, _mm256_setzero_si256()));
  }
  static FUSED_BCE_INLINE M firstLanes(size_t count) {
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
  }
  static FUSED_BCE_INLINE F set1(float v) { return _mm256_set1_ps(v); }
  static FUSED_BCE_INLINE F add(F a, F b) { return _mm256_add_ps(a, b); }
  static FUSED_BCE_INLINE F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static FUSED_BCE_INLINE F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static FUSED_BCE_INLINE F div(F a, F b) { return _mm256_div_ps(a, b); }
  // a * b + c with one rounding; a * b - c; c - a * b.
  static FUSED_BCE_INLINE F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static FUSED_BCE_INLINE F fms(F a, F b, F c) { return _mm256_fmsub_ps(a, b, c); }
  static FUSED_BCE_INLINE F fnma(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
  // a * b + c where a second rounding would do (polynomials): the fma here.
  static FUSED_BCE_INLINE F mulAdd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static FUSED_BCE_INLINE F abs(F a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static FUSED_BCE_INLINE F negAbs(F a) { return _mm256_or_ps(_mm256_set1_ps(-0.0f), a); }
  // max(a, b), a when a is NaN.
  static FUSED_BCE_INLINE F maxKeepNan(F a, F b) { return _mm256_max_ps(b, a); }
  // a * b, but 0 where a is 0 (whatever b).
  static FUSED_BCE_INLINE F mulUnlessZero(F a, F b) {
    return _mm256_and_ps(_mm256_mul_ps(a, b), _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_NEQ_UQ));
  }
  static FUSED_BCE_INLINE M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static FUSED_BCE_INLINE M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static FUSED_BCE_INLINE M eq(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  // Lanes not in [+0, 1] (-0, negatives, above 1, NaN): one unsigned compare of the bit patterns.
  static FUSED_BCE_INLINE M notInUnitInterval(F a) {
    const __m256i bits = _mm256_castps_si256(a);
    const __m256i one = _mm256_set1_epi32(0x3f800000);
    return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_cmpeq_epi32(_mm256_min_epu32(bits, one), bits), _mm256_set1_epi32(-1)));
  }
  static FUSED_BCE_INLINE F select(M m, F a, F b) { return _mm256_blendv_ps(b, a, m); }
  static FUSED_BCE_INLINE M maskXor(M a, M b) { return _mm256_xor_ps(a, b); }
  static FUSED_BCE_INLINE bool any(M m) { return _mm256_movemask_ps(m) != 0; }
  // v[0..7] as the rows of an 8 x 8 matrix, replaced by its columns: 4 x 4 transposes within 128-bit lanes, then
  // the lanes exchanged across vectors.
  static FUSED_BCE_INLINE void transpose(F* v) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
      u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    // u[4g + j] holds, in its 128-bit lane k, column 4k + j of rows 4g to 4g + 3.
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
      v[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
    }
  }

  // Tables: 16 entries as two 8-entry registers, 32 as four; the index is the low bits of a float's pattern.
  struct Table16 {
    __m256 lo, hi;
  };
  struct Table32 {
    Table16 lo, hi;
  };
  static FUSED_BCE_INLINE Table16 loadTable16(const float* t) { return {_mm256_load_ps(t), _mm256_load_ps(t + 8)}; }
  static FUSED_BCE_INLINE Table32 loadTable32(const float* t) { return {loadTable16(t), loadTable16(t + 16)}; }
  static FUSED_BCE_INLINE F lookup16(const Table16& t, F index) {
    const __m256i i = _mm256_castps_si256(index);
    const __m256 bit3 = _mm256_castsi256_ps(_mm256_slli_epi32(i, 28));  // vblendvps reads the sign bit
    return _mm256_blendv_ps(_mm256_permutevar8x32_ps(t.lo, i), _mm256_permutevar8x32_ps(t.hi, i), bit3);
  }
  static FUSED_BCE_INLINE F lookup32(const Table32& t, F index) {
    const __m256 bit4 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(index), 27));
    return _mm256_blendv_ps(lookup16(t.lo, index), lookup16(t.hi, index), bit4);
  }
  // The float with pattern bits(a) + (bits(b) << 19).
  static FUSED_BCE_INLINE F addShiftedBits19(F a, F b) {
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(a), _mm256_slli_epi32(_mm256_castps_si256(b), 19)));
  }
  // 1 / a within 2^-22 (vrcpps's 1.5 * 2^-12, squared by a Newton step, plus the step's roundings).
  static FUSED_BCE_INLINE F reciprocalEstimate(F a) {
    const F r = _mm256_rcp_ps(a);
    return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(a, r, _mm256_set1_ps(1.0f)), r);
  }
  // p * 2^k for integral k in [-151, 0], rounded once: 2^k = 2^k1 * 2^k2 with both factors normal.
  static FUSED_BCE_INLINE F scaleByPow2(F p, F k) {
    const F k1 = _mm256_round_ps(_mm256_mul_ps(k, set1(0.5f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return mul(mul(p, pow2(k1)), pow2(sub(k, k1)));
  }
  static FUSED_BCE_INLINE F pow2(F k) {  // 2^k for integral k in [-126, 127]
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23));
  }

  // Double-precision pairs (lanes 0-3, 4-7), for the precise path.
  struct D {
    __m256d lo, hi;
  };
  static FUSED_BCE_INLINE D widen(F v) {
    return {_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))};
  }
  // each half converted from memory: no shuffle for the upper half
  static FUSED_BCE_INLINE D widenLoad(const float* p) {
    return {_mm256_cvtps_pd(_mm_loadu_ps(p)), _mm256_cvtps_pd(_mm_loadu_ps(p + 4))};
  }
  static FUSED_BCE_INLINE F narrow(D d) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(d.lo)), _mm256_cvtpd_ps(d.hi), 1);
  }
  // narrow and store: two 128-bit stores instead of the shuffle that joins the halves
  static FUSED_BCE_INLINE void storeNarrowed(float* p, D d) {
    _mm_storeu_ps(p, _mm256_cvtpd_ps(d.lo));
    _mm_storeu_ps(p + 4, _mm256_cvtpd_ps(d.hi));
  }
  static FUSED_BCE_INLINE D dset1(double v) { return {_mm256_set1_pd(v), _mm256_set1_pd(v)}; }
  static FUSED_BCE_INLINE D dadd(D a, D b) { return {_mm256_add_pd(a.lo, b.lo), _mm256_add_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsub(D a, D b) { return {_mm256_sub_pd(a.lo, b.lo), _mm256_sub_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dmul(D a, D b) { return {_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D ddiv(D a, D b) { return {_mm256_div_pd(a.lo, b.lo), _mm256_div_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsqrt(D a) { return {_mm256_sqrt_pd(a.lo), _mm256_sqrt_pd(a.hi)}; }
  static FUSED_BCE_INLINE D dmin(D a, D b) { return {_mm256_min_pd(a.lo, b.lo), _mm256_min_pd(a.hi, b.hi)}; }
  // a < b ? b : a: maxpd returns its second operand where either is NaN
  static FUSED_BCE_INLINE D dmax(D a, D b) { return {_mm256_max_pd(b.lo, a.lo), _mm256_max_pd(b.hi, a.hi)}; }
  static FUSED_BCE_INLINE D dfma(D a, D b, D c) { return {_mm256_fmadd_pd(a.lo, b.lo, c.lo), _mm256_fmadd_pd(a.hi, b.hi, c.hi)}; }
  static FUSED_BCE_INLINE D dselect(M m, D a, D b) {
    // Sign-extend each 32-bit mask lane to 64 bits.
    const __m256i wide = _mm256_castps_si256(m);
    const __m256d lo = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(wide)));
    const __m256d hi = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(wide, 1)));
    return {_mm256_blendv_pd(b.lo, a.lo, lo), _mm256_blendv_pd(b.hi, a.hi, hi)};
  }

  static FUSED_BCE_INLINE D dload(const double* p) { return {_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)}; }
  static FUSED_BCE_INLINE void dstore(double* p, D d) {
    _mm256_storeu_pd(p, d.lo);
    _mm256_storeu_pd(p + 4, d.hi);
  }
  // floor(log2 a) and a / 2^floor(log2 a), for positive normal a: the exponent field, and the significand with
  // the exponent of 1.
  static FUSED_BCE_INLINE F exponentOf(F a) {
    const __m256i bits = _mm256_castps_si256(a);
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127)));
  }
  static FUSED_BCE_INLINE F mantissaOf(F a) {
    const __m256i bits = _mm256_castps_si256(a);
    return _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x7fffff)), _mm256_set1_epi32(0x3f800000)));
  }

  // One float64 accumulator of 4 lanes, fed the sum of a vector's two halves (a sum of two floats, nearly always
  // exact in double): the loop is short of the 16 registers and keeps its accumulators in memory, so one is a
  // load and a store fewer per vector than two (1.03-1.08x).
  struct Acc {  // an explicit constructor, so that it is compiled inside the target region
    __m256d sum;
    FUSED_BCE_INLINE Acc() : sum(_mm256_setzero_pd()) {}
  };
  static FUSED_BCE_INLINE void accumulate(Acc& acc, F v) {
    const __m256d halves = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    acc.sum = _mm256_add_pd(acc.sum, halves);
  }
  static FUSED_BCE_INLINE void accumulateDouble(Acc& acc, D d) { acc.sum = _mm256_add_pd(acc.sum, _mm256_add_pd(d.lo, d.hi)); }
  static FUSED_BCE_INLINE double total(const Acc& acc) {
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, acc.sum);
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
