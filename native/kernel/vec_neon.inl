// NEON (armv8-a, always present on arm64), 4 float lanes. Table lookups by byte shuffles (tbl over 4 registers
// for 16 floats, tbl + tbx for 32); the reciprocal estimate is frecpe (8 bits) refined by two frecps steps.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

struct NeonVec {
  using F = float32x4_t;
  using M = uint32x4_t;
  static constexpr size_t kWidth = 4;
  static constexpr bool kHasScaleFloor = false;
  static constexpr bool kHasLoadColumns = false;
  static constexpr bool kHasStoreFirst = false;
  static constexpr bool kSumLogits = true;
  // 16 points (one tbl instead of two): 6-8% by llvm-mca's estimate (Neoverse V1, N1), unmeasured on hardware and
  // other bits; kept at 32 until a measurement says otherwise.
  static constexpr unsigned kLog1pTableSize = 32;
  // runSpan's e-first pass: 1.33x (Neoverse V1) and 1.07x (N1) by llvm-mca's estimate (npm run mca); same bits.
  static constexpr bool kExpFirst = true;
  static constexpr bool kFastPathInDouble = false;  // FMA in hardware: the float path with its error-free steps is cheaper
  static constexpr bool kExpTable = true;

  static FUSED_BCE_INLINE F load(const float* p) { return vld1q_f32(p); }
  static FUSED_BCE_INLINE void store(float* p, F v) { vst1q_f32(p, v); }
  static FUSED_BCE_INLINE M loadLabelIsOne(const uint8_t* p) {
    uint32_t four;
    std::memcpy(&four, p, 4);
    const uint16x8_t wide = vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(four)));
    return vcgtq_u32(vmovl_u16(vget_low_u16(wide)), vdupq_n_u32(0));
  }
  static FUSED_BCE_INLINE M firstLanes(size_t count) {
    static const uint32_t kLane[4] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(kLane), vdupq_n_u32(static_cast<uint32_t>(count)));
  }
  static FUSED_BCE_INLINE F set1(float v) { return vdupq_n_f32(v); }
  static FUSED_BCE_INLINE F add(F a, F b) { return vaddq_f32(a, b); }
  static FUSED_BCE_INLINE F sub(F a, F b) { return vsubq_f32(a, b); }
  static FUSED_BCE_INLINE F mul(F a, F b) { return vmulq_f32(a, b); }
  static FUSED_BCE_INLINE F div(F a, F b) { return vdivq_f32(a, b); }
  static FUSED_BCE_INLINE F fma(F a, F b, F c) { return vfmaq_f32(c, a, b); }
  static FUSED_BCE_INLINE F fms(F a, F b, F c) { return vnegq_f32(vfmsq_f32(c, a, b)); }
  static FUSED_BCE_INLINE F fnma(F a, F b, F c) { return vfmsq_f32(c, a, b); }
  static FUSED_BCE_INLINE F mulAdd(F a, F b, F c) { return vfmaq_f32(c, a, b); }
  static FUSED_BCE_INLINE F abs(F a) { return vabsq_f32(a); }
  static FUSED_BCE_INLINE F negAbs(F a) { return vnegq_f32(vabsq_f32(a)); }
  static FUSED_BCE_INLINE F maxKeepNan(F a, F b) { return vbslq_f32(vcltq_f32(a, b), b, a); }
  static FUSED_BCE_INLINE F mulUnlessZero(F a, F b) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(vmulq_f32(a, b)), vmvnq_u32(vceqzq_f32(a))));
  }
  static FUSED_BCE_INLINE M lt(F a, F b) { return vcltq_f32(a, b); }
  static FUSED_BCE_INLINE M ge(F a, F b) { return vcgeq_f32(a, b); }
  static FUSED_BCE_INLINE M eq(F a, F b) { return vceqq_f32(a, b); }
  static FUSED_BCE_INLINE M notInUnitInterval(F a) { return vcgtq_u32(vreinterpretq_u32_f32(a), vdupq_n_u32(0x3f800000u)); }
  static FUSED_BCE_INLINE F select(M m, F a, F b) { return vbslq_f32(m, a, b); }
  static FUSED_BCE_INLINE M maskXor(M a, M b) { return veorq_u32(a, b); }
  static FUSED_BCE_INLINE bool any(M m) { return vmaxvq_u32(m) != 0; }
  // v[0..3] as the rows of a 4 x 4 matrix, replaced by its columns (pairs interleaved, then halves).
  static FUSED_BCE_INLINE void transpose(F* v) {
    const float32x4_t t0 = vzip1q_f32(v[0], v[1]), t1 = vzip1q_f32(v[2], v[3]);
    const float32x4_t t2 = vzip2q_f32(v[0], v[1]), t3 = vzip2q_f32(v[2], v[3]);
    v[0] = vreinterpretq_f32_f64(vzip1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t1)));
    v[1] = vreinterpretq_f32_f64(vzip2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t1)));
    v[2] = vreinterpretq_f32_f64(vzip1q_f64(vreinterpretq_f64_f32(t2), vreinterpretq_f64_f32(t3)));
    v[3] = vreinterpretq_f32_f64(vzip2q_f64(vreinterpretq_f64_f32(t2), vreinterpretq_f64_f32(t3)));
  }

  struct Table16 {
    uint8x16x4_t bytes;
  };
  struct Table32 {
    uint8x16x4_t lo, hi;
  };
  static FUSED_BCE_INLINE uint8x16x4_t loadBytes(const float* t) { return vld1q_u8_x4(reinterpret_cast<const uint8_t*>(t)); }
  static FUSED_BCE_INLINE Table16 loadTable16(const float* t) { return {loadBytes(t)}; }
  static FUSED_BCE_INLINE Table32 loadTable32(const float* t) { return {loadBytes(t), loadBytes(t + 16)}; }
  // Byte indices 4 j + (0, 1, 2, 3) of each lane's float, j the low `mask` bits of the index's pattern.
  static FUSED_BCE_INLINE uint8x16_t byteIndices(F index, uint32_t mask) {
    const uint32x4_t j = vandq_u32(vreinterpretq_u32_f32(index), vdupq_n_u32(mask));
    return vreinterpretq_u8_u32(vmlaq_n_u32(vdupq_n_u32(0x03020100u), j, 0x04040404u));
  }
  static FUSED_BCE_INLINE F lookup16(const Table16& t, F index) {
    return vreinterpretq_f32_u8(vqtbl4q_u8(t.bytes, byteIndices(index, 15)));
  }
  static FUSED_BCE_INLINE F lookup32(const Table32& t, F index) {
    const uint8x16_t bytes = byteIndices(index, 31);  // 0..127: tbl takes 0..63, tbx the rest (less 64)
    return vreinterpretq_f32_u8(vqtbx4q_u8(vqtbl4q_u8(t.lo, bytes), t.hi, vsubq_u8(bytes, vdupq_n_u8(64))));
  }
  static FUSED_BCE_INLINE F addShiftedBits19(F a, F b) {
    return vreinterpretq_f32_u32(vaddq_u32(vreinterpretq_u32_f32(a), vshlq_n_u32(vreinterpretq_u32_f32(b), 19)));
  }
  // 1 / a within about 2^-22: frecpe (2^-8) and two Newton steps (frecps is 2 - a r, fused).
  static FUSED_BCE_INLINE F reciprocalEstimate(F a) {
    F r = vrecpeq_f32(a);
    r = vmulq_f32(r, vrecpsq_f32(a, r));
    return vmulq_f32(r, vrecpsq_f32(a, r));
  }
  // p * 2^k for integral k in [-151, 0], rounded once: 2^k = 2^k1 * 2^k2 with both factors normal.
  static FUSED_BCE_INLINE F scaleByPow2(F p, F k) {
    const int32x4_t ki = vcvtnq_s32_f32(k);
    const int32x4_t k1 = vshrq_n_s32(ki, 1);
    return mul(mul(p, pow2(k1)), pow2(vsubq_s32(ki, k1)));
  }
  static FUSED_BCE_INLINE F pow2(int32x4_t k) {  // 2^k for integral k in [-126, 127]
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k, vdupq_n_s32(127)), 23));
  }

  // Double-precision pairs (lanes 0-1, 2-3), for the precise path.
  struct D {
    float64x2_t lo, hi;
  };
  static FUSED_BCE_INLINE D widen(F v) { return {vcvt_f64_f32(vget_low_f32(v)), vcvt_high_f64_f32(v)}; }
  static FUSED_BCE_INLINE D widenLoad(const float* p) { return widen(load(p)); }
  static FUSED_BCE_INLINE F narrow(D d) { return vcvt_high_f32_f64(vcvt_f32_f64(d.lo), d.hi); }
  static FUSED_BCE_INLINE void storeNarrowed(float* p, D d) { store(p, narrow(d)); }
  static FUSED_BCE_INLINE D dset1(double v) { return {vdupq_n_f64(v), vdupq_n_f64(v)}; }
  static FUSED_BCE_INLINE D dadd(D a, D b) { return {vaddq_f64(a.lo, b.lo), vaddq_f64(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsub(D a, D b) { return {vsubq_f64(a.lo, b.lo), vsubq_f64(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dmul(D a, D b) { return {vmulq_f64(a.lo, b.lo), vmulq_f64(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D ddiv(D a, D b) { return {vdivq_f64(a.lo, b.lo), vdivq_f64(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsqrt(D a) { return {vsqrtq_f64(a.lo), vsqrtq_f64(a.hi)}; }
  static FUSED_BCE_INLINE D dmin(D a, D b) { return {vminq_f64(a.lo, b.lo), vminq_f64(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dmax(D a, D b) {  // a < b ? b : a (vmaxq would take a NaN from either)
    return {vbslq_f64(vcltq_f64(a.lo, b.lo), b.lo, a.lo), vbslq_f64(vcltq_f64(a.hi, b.hi), b.hi, a.hi)};
  }
  static FUSED_BCE_INLINE D dfma(D a, D b, D c) { return {vfmaq_f64(c.lo, a.lo, b.lo), vfmaq_f64(c.hi, a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dselect(M m, D a, D b) {
    // Sign-extend each 32-bit mask lane to 64 bits.
    const uint64x2_t lo = vreinterpretq_u64_s64(vmovl_s32(vreinterpret_s32_u32(vget_low_u32(m))));
    const uint64x2_t hi = vreinterpretq_u64_s64(vmovl_high_s32(vreinterpretq_s32_u32(m)));
    return {vbslq_f64(lo, a.lo, b.lo), vbslq_f64(hi, a.hi, b.hi)};
  }

  static FUSED_BCE_INLINE D dload(const double* p) { return {vld1q_f64(p), vld1q_f64(p + 2)}; }
  static FUSED_BCE_INLINE void dstore(double* p, D d) {
    vst1q_f64(p, d.lo);
    vst1q_f64(p + 2, d.hi);
  }
  // floor(log2 a) and a / 2^floor(log2 a), for positive normal a.
  static FUSED_BCE_INLINE F exponentOf(F a) {
    return vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_f32(a), 23)), vdupq_n_s32(127)));
  }
  static FUSED_BCE_INLINE F mantissaOf(F a) {
    return vreinterpretq_f32_u32(vorrq_u32(vandq_u32(vreinterpretq_u32_f32(a), vdupq_n_u32(0x7fffff)), vdupq_n_u32(0x3f800000)));
  }

  struct Acc {  // an explicit constructor, so that it is compiled inside the target region
    float64x2_t lo, hi;
    FUSED_BCE_INLINE Acc() : lo(vdupq_n_f64(0)), hi(vdupq_n_f64(0)) {}
  };
  static FUSED_BCE_INLINE void accumulate(Acc& acc, F v) {
    acc.lo = vaddq_f64(acc.lo, vcvt_f64_f32(vget_low_f32(v)));
    acc.hi = vaddq_f64(acc.hi, vcvt_high_f64_f32(v));
  }
  static FUSED_BCE_INLINE void accumulateDouble(Acc& acc, D d) {
    acc.lo = vaddq_f64(acc.lo, d.lo);
    acc.hi = vaddq_f64(acc.hi, d.hi);
  }
  static FUSED_BCE_INLINE double total(const Acc& acc) {
    const float64x2_t s = vaddq_f64(acc.lo, acc.hi);
    return vgetq_lane_f64(s, 0) + vgetq_lane_f64(s, 1);
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
