// AVX-512 (F, BW, VL, DQ), 16 float lanes. Tables live in registers: vpermps for 16 entries, vpermt2ps for 32;
// exp's scaling is one vscalefps (2^floor(k/16), subnormal results rounded once); the reciprocal estimate is
// vrcp14ps (relative error below 2^-14, the same bits on every AVX-512 CPU).
namespace fused_bce {
namespace FUSED_BCE_TARGET {

struct Avx512Vec {
  using F = __m512;
  using M = __mmask16;
  static constexpr size_t kWidth = 16;
  static constexpr bool kHasScaleFloor = true;
  static constexpr bool kHasLoadColumns = true;  // 128-bit row pieces into lanes: half the shuffles of a transpose
  static constexpr bool kHasStoreFirst = true;   // masked stores
  static constexpr bool kSumLogits = true;
  static constexpr unsigned kLog1pTableSize = 32;  // one vpermt2ps, as 16 entries are one vpermps
  // runSpan's e-first pass: 1.2x here (public API, 64K, AMD EPYC Zen 5), 1.1x on an Intel Xeon (Sapphire Rapids).
  static constexpr bool kExpFirst = true;
  static constexpr bool kFastPathInDouble = false;  // FMA in hardware: the float path with its error-free steps is cheaper
  static constexpr bool kExpTable = true;

  static FUSED_BCE_INLINE F load(const float* p) { return _mm512_loadu_ps(p); }
  static FUSED_BCE_INLINE void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static FUSED_BCE_INLINE M loadLabelIsOne(const uint8_t* p) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm_test_epi8_mask(bytes, bytes);
  }
  static FUSED_BCE_INLINE M firstLanes(size_t count) { return static_cast<M>((1u << count) - 1u); }
  static FUSED_BCE_INLINE F set1(float v) { return _mm512_set1_ps(v); }
  static FUSED_BCE_INLINE F add(F a, F b) { return _mm512_add_ps(a, b); }
  static FUSED_BCE_INLINE F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static FUSED_BCE_INLINE F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static FUSED_BCE_INLINE F div(F a, F b) { return _mm512_div_ps(a, b); }
  static FUSED_BCE_INLINE F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static FUSED_BCE_INLINE F fms(F a, F b, F c) { return _mm512_fmsub_ps(a, b, c); }
  static FUSED_BCE_INLINE F fnma(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  static FUSED_BCE_INLINE F mulAdd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static FUSED_BCE_INLINE F abs(F a) { return _mm512_abs_ps(a); }
  static FUSED_BCE_INLINE F negAbs(F a) { return _mm512_or_ps(a, _mm512_set1_ps(-0.0f)); }
  static FUSED_BCE_INLINE F maxKeepNan(F a, F b) { return _mm512_max_ps(b, a); }
  static FUSED_BCE_INLINE F mulUnlessZero(F a, F b) {
    return _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_NEQ_UQ), a, b);
  }
  static FUSED_BCE_INLINE M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static FUSED_BCE_INLINE M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static FUSED_BCE_INLINE M eq(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static FUSED_BCE_INLINE M notInUnitInterval(F a) {
    return _mm512_cmpgt_epu32_mask(_mm512_castps_si512(a), _mm512_set1_epi32(0x3f800000));
  }
  static FUSED_BCE_INLINE F select(M m, F a, F b) { return _mm512_mask_blend_ps(m, b, a); }
  static FUSED_BCE_INLINE M maskXor(M a, M b) { return static_cast<M>(a ^ b); }
  static FUSED_BCE_INLINE bool any(M m) { return m != 0; }

  // v[0..15] as the rows of a 16 x 16 matrix, replaced by its columns: pairs, then quads within 128-bit lanes,
  // then 128-bit lanes across vectors (64 shuffles).
  static FUSED_BCE_INLINE void transpose(F* v) {
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
      u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
      u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    // u[4g + j] holds, in its 128-bit lane k, column 4k + j of rows 4g to 4g + 3. (The lanes move as integers:
    // vshufi32x4 is the same shuffle, and SIMDe, which tests this kernel elsewhere, has no _mm512_shuffle_f32x4.)
    const auto lanes = [](__m512 a, __m512 b, auto imm) {
      return _mm512_castsi512_ps(_mm512_shuffle_i32x4(_mm512_castps_si512(a), _mm512_castps_si512(b), decltype(imm)::value));
    };
    using Even = std::integral_constant<int, 0x88>;
    using Odd = std::integral_constant<int, 0xdd>;
    for (int j = 0; j < 4; ++j) {
      const __m512 a = lanes(u[j], u[4 + j], Even{}), b = lanes(u[j], u[4 + j], Odd{});
      const __m512 c = lanes(u[8 + j], u[12 + j], Even{}), d = lanes(u[8 + j], u[12 + j], Odd{});
      v[j] = lanes(a, c, Even{});
      v[8 + j] = lanes(a, c, Odd{});
      v[4 + j] = lanes(b, d, Even{});
      v[12 + j] = lanes(b, d, Odd{});
    }
  }

  // The columns [0, columns) of the 16 x 16 tile whose row l starts at p + l stride, into out + c 16 (whole groups
  // of 4 columns: rows read to 4 ceil(columns / 4)). The 128-bit pieces of rows i, i + 4, i + 8, i + 12 load into
  // one vector's four lanes (a load and masked broadcasts: no shuffle), so that a 4 x 4 transpose within lanes
  // finishes each group of 4 columns: 8 shuffles per group, where transpose takes 64 for the tile.
  static FUSED_BCE_INLINE void loadColumns(const float* p, size_t stride, size_t columns, float* out) {
    for (size_t k = 0; 4 * k < columns; ++k) {
      __m512 r[4];
      for (size_t i = 0; i < 4; ++i) {
        const float* piece = p + i * stride + 4 * k;
        __m512 x = _mm512_castps128_ps512(_mm_loadu_ps(piece));
        x = _mm512_mask_broadcast_f32x4(x, 0x00f0, _mm_loadu_ps(piece + 4 * stride));
        x = _mm512_mask_broadcast_f32x4(x, 0x0f00, _mm_loadu_ps(piece + 8 * stride));
        r[i] = _mm512_mask_broadcast_f32x4(x, 0xf000, _mm_loadu_ps(piece + 12 * stride));
      }
      const __m512 t0 = _mm512_unpacklo_ps(r[0], r[1]), t1 = _mm512_unpackhi_ps(r[0], r[1]);
      const __m512 t2 = _mm512_unpacklo_ps(r[2], r[3]), t3 = _mm512_unpackhi_ps(r[2], r[3]);
      float* group = out + 64 * k;
      _mm512_storeu_ps(group, _mm512_shuffle_ps(t0, t2, 0x44));
      _mm512_storeu_ps(group + 16, _mm512_shuffle_ps(t0, t2, 0xee));
      _mm512_storeu_ps(group + 32, _mm512_shuffle_ps(t1, t3, 0x44));
      _mm512_storeu_ps(group + 48, _mm512_shuffle_ps(t1, t3, 0xee));
    }
  }
  // Lanes [0, count) of v to p, nothing past them.
  static FUSED_BCE_INLINE void storeFirst(float* p, F v, size_t count) { _mm512_mask_storeu_ps(p, firstLanes(count), v); }

  using Table16 = __m512;
  struct Table32 {
    __m512 lo, hi;
  };
  static FUSED_BCE_INLINE Table16 loadTable16(const float* t) { return _mm512_load_ps(t); }
  static FUSED_BCE_INLINE Table32 loadTable32(const float* t) { return {_mm512_load_ps(t), _mm512_load_ps(t + 16)}; }
  static FUSED_BCE_INLINE F lookup16(Table16 t, F index) { return _mm512_permutexvar_ps(_mm512_castps_si512(index), t); }
  static FUSED_BCE_INLINE F lookup32(const Table32& t, F index) {
    return _mm512_permutex2var_ps(t.lo, _mm512_castps_si512(index), t.hi);
  }
  static FUSED_BCE_INLINE F addShiftedBits19(F a, F b) {
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), _mm512_slli_epi32(_mm512_castps_si512(b), 19)));
  }
  // p * 2^floor(k), rounded once (subnormal and zero results included).
  static FUSED_BCE_INLINE F scaleFloor(F p, F k) { return _mm512_scalef_ps(p, k); }
  static FUSED_BCE_INLINE F scaleByPow2(F p, F k) { return _mm512_scalef_ps(p, k); }
  static FUSED_BCE_INLINE F reciprocalEstimate(F a) { return _mm512_rcp14_ps(a); }

  // Double-precision pairs (lanes 0-7, 8-15), for the precise path.
  struct D {
    __m512d lo, hi;
  };
  static FUSED_BCE_INLINE D widen(F v) {
    return {_mm512_cvtps_pd(_mm512_castps512_ps256(v)), _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1))};
  }
  // each half converted from memory: no shuffle for the upper half
  static FUSED_BCE_INLINE D widenLoad(const float* p) {
    return {_mm512_cvtps_pd(_mm256_loadu_ps(p)), _mm512_cvtps_pd(_mm256_loadu_ps(p + 8))};
  }
  static FUSED_BCE_INLINE F narrow(D d) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(d.lo)), _mm512_cvtpd_ps(d.hi), 1);
  }
  // narrow and store: two 256-bit stores instead of the shuffle that joins the halves
  static FUSED_BCE_INLINE void storeNarrowed(float* p, D d) {
    _mm256_storeu_ps(p, _mm512_cvtpd_ps(d.lo));
    _mm256_storeu_ps(p + 8, _mm512_cvtpd_ps(d.hi));
  }
  static FUSED_BCE_INLINE D dset1(double v) { return {_mm512_set1_pd(v), _mm512_set1_pd(v)}; }
  static FUSED_BCE_INLINE D dadd(D a, D b) { return {_mm512_add_pd(a.lo, b.lo), _mm512_add_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsub(D a, D b) { return {_mm512_sub_pd(a.lo, b.lo), _mm512_sub_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dmul(D a, D b) { return {_mm512_mul_pd(a.lo, b.lo), _mm512_mul_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D ddiv(D a, D b) { return {_mm512_div_pd(a.lo, b.lo), _mm512_div_pd(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsqrt(D a) { return {_mm512_sqrt_pd(a.lo), _mm512_sqrt_pd(a.hi)}; }
  static FUSED_BCE_INLINE D dmin(D a, D b) { return {_mm512_min_pd(a.lo, b.lo), _mm512_min_pd(a.hi, b.hi)}; }
  // a < b ? b : a: maxpd returns its second operand where either is NaN
  static FUSED_BCE_INLINE D dmax(D a, D b) { return {_mm512_max_pd(b.lo, a.lo), _mm512_max_pd(b.hi, a.hi)}; }
  static FUSED_BCE_INLINE D dfma(D a, D b, D c) { return {_mm512_fmadd_pd(a.lo, b.lo, c.lo), _mm512_fmadd_pd(a.hi, b.hi, c.hi)}; }
  static FUSED_BCE_INLINE D dselect(M m, D a, D b) {
    return {_mm512_mask_blend_pd(static_cast<__mmask8>(m), b.lo, a.lo), _mm512_mask_blend_pd(static_cast<__mmask8>(m >> 8), b.hi, a.hi)};
  }

  static FUSED_BCE_INLINE D dload(const double* p) { return {_mm512_loadu_pd(p), _mm512_loadu_pd(p + 8)}; }
  static FUSED_BCE_INLINE void dstore(double* p, D d) {
    _mm512_storeu_pd(p, d.lo);
    _mm512_storeu_pd(p + 8, d.hi);
  }
  // floor(log2 a) and a / 2^floor(log2 a), for positive normal a: from the bits (SIMDe, which tests this kernel on
  // CPUs without AVX-512, has no vgetexpps/vgetmantps).
  static FUSED_BCE_INLINE F exponentOf(F a) {
    return _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(_mm512_castps_si512(a), 23), _mm512_set1_epi32(127)));
  }
  static FUSED_BCE_INLINE F mantissaOf(F a) {
    const __m512i bits = _mm512_castps_si512(a);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi32(0x7fffff)), _mm512_set1_epi32(0x3f800000)));
  }

  struct Acc {  // an explicit constructor, so that it is compiled inside the target region
    __m512d lo, hi;
    FUSED_BCE_INLINE Acc() : lo(_mm512_setzero_pd()), hi(_mm512_setzero_pd()) {}
  };
  static FUSED_BCE_INLINE void accumulate(Acc& acc, F v) {
    acc.lo = _mm512_add_pd(acc.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    acc.hi = _mm512_add_pd(acc.hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
  }
  static FUSED_BCE_INLINE void accumulateDouble(Acc& acc, D d) {
    acc.lo = _mm512_add_pd(acc.lo, d.lo);
    acc.hi = _mm512_add_pd(acc.hi, d.hi);
  }
  static FUSED_BCE_INLINE double total(const Acc& acc) {
    alignas(64) double lanes[8];
    _mm512_store_pd(lanes, _mm512_add_pd(acc.lo, acc.hi));
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
