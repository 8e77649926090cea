// NEON (armv8-a, always present on arm64), 4 float lanes. Tails use ScalarVec<true> (fmadd).
namespace fused_bce {
namespace FUSED_BCE_TARGET {

struct NeonVec {
  using F = float32x4_t;
  using M = uint32x4_t;
  static constexpr size_t kWidth = 4;
  static constexpr bool kMaskedTail = false;

  static FUSED_BCE_INLINE F load(const float* p) { return vld1q_f32(p); }
  static FUSED_BCE_INLINE F loadU8(const uint8_t* p) {
    uint32_t four;
    std::memcpy(&four, p, 4);
    const uint16x8_t wide = vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(four)));
    return vcvtq_f32_u32(vmovl_u16(vget_low_u16(wide)));
  }
  static FUSED_BCE_INLINE void store(float* p, F v) { vst1q_f32(p, v); }
  static FUSED_BCE_INLINE F set1(float v) { return vdupq_n_f32(v); }
  static FUSED_BCE_INLINE F add(F a, F b) { return vaddq_f32(a, b); }
  static FUSED_BCE_INLINE F sub(F a, F b) { return vsubq_f32(a, b); }
  static FUSED_BCE_INLINE F mul(F a, F b) { return vmulq_f32(a, b); }
  static FUSED_BCE_INLINE F div(F a, F b) { return vdivq_f32(a, b); }
  static FUSED_BCE_INLINE F fma(F a, F b, F c) { return vfmaq_f32(c, a, b); }
  static FUSED_BCE_INLINE F abs(F a) { return vabsq_f32(a); }
  static FUSED_BCE_INLINE M lt(F a, F b) { return vcltq_f32(a, b); }
  static FUSED_BCE_INLINE M gt(F a, F b) { return vcgtq_f32(a, b); }
  static FUSED_BCE_INLINE M ge(F a, F b) { return vcgeq_f32(a, b); }
  static FUSED_BCE_INLINE M eq(F a, F b) { return vceqq_f32(a, b); }
  static FUSED_BCE_INLINE M isNan(F a) { return vmvnq_u32(vceqq_f32(a, a)); }
  static FUSED_BCE_INLINE M orMask(M a, M b) { return vorrq_u32(a, b); }
  static FUSED_BCE_INLINE F select(M m, F a, F b) { return vbslq_f32(m, a, b); }
  // p * 2^k for integral k in [-151, 0], rounded once: 2^k = 2^k1 * 2^k2 with both factors normal.
  static FUSED_BCE_INLINE F scaleByPow2(F p, F k) {
    const F half = set1(0.5f), magic = set1(12582912.0f);
    const F k1 = sub(add(mul(k, half), magic), magic);  // round(k / 2)
    return mul(mul(p, pow2i(k1)), pow2i(sub(k, k1)));
  }
  static FUSED_BCE_INLINE F pow2i(F k) {
    return vreinterpretq_f32_u32(vshlq_n_u32(vreinterpretq_u32_f32(vaddq_f32(k, vdupq_n_f32(12583039.0f))), 23));
  }

  static FUSED_BCE_INLINE bool any(M m) { return vmaxvq_u32(m) != 0; }

  // Double-precision pairs (lanes 0-1, 2-3), for the precise path of targets outside [0, 1].
  struct D {
    float64x2_t lo, hi;
  };
  static FUSED_BCE_INLINE D widen(F v) { return {vcvt_f64_f32(vget_low_f32(v)), vcvt_high_f64_f32(v)}; }
  static FUSED_BCE_INLINE F narrow(D d) { return vcvt_high_f32_f64(vcvt_f32_f64(d.lo), d.hi); }
  static FUSED_BCE_INLINE D dset1(double v) { return {vdupq_n_f64(v), vdupq_n_f64(v)}; }
  static FUSED_BCE_INLINE D dadd(D a, D b) { return {vaddq_f64(a.lo, b.lo), vaddq_f64(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsub(D a, D b) { return {vsubq_f64(a.lo, b.lo), vsubq_f64(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dmul(D a, D b) { return {vmulq_f64(a.lo, b.lo), vmulq_f64(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D ddiv(D a, D b) { return {vdivq_f64(a.lo, b.lo), vdivq_f64(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dfma(D a, D b, D c) { return {vfmaq_f64(c.lo, a.lo, b.lo), vfmaq_f64(c.hi, a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dselect(M m, D a, D b) {
    // Sign-extend each 32-bit mask lane to 64 bits.
    const uint64x2_t lo = vreinterpretq_u64_s64(vmovl_s32(vreinterpret_s32_u32(vget_low_u32(m))));
    const uint64x2_t hi = vreinterpretq_u64_s64(vmovl_high_s32(vreinterpretq_s32_u32(m)));
    return {vbslq_f64(lo, a.lo, b.lo), vbslq_f64(hi, a.hi, b.hi)};
  }

  struct Acc {  // an explicit constructor, so that it is compiled inside the target region
    float64x2_t lo, hi;
    FUSED_BCE_INLINE Acc() : lo(vdupq_n_f64(0)), hi(vdupq_n_f64(0)) {}
  };
  static FUSED_BCE_INLINE void accumulate(Acc& acc, F v) {
    acc.lo = vaddq_f64(acc.lo, vcvt_f64_f32(vget_low_f32(v)));
    acc.hi = vaddq_f64(acc.hi, vcvt_high_f64_f32(v));
  }
  static FUSED_BCE_INLINE double total(const Acc& acc) {
    const float64x2_t s = vaddq_f64(acc.lo, acc.hi);
    return vgetq_lane_f64(s, 0) + vgetq_lane_f64(s, 1);
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
