// WebAssembly SIMD128, 4 float lanes. No fused multiply-add (relaxed SIMD is not assumed), so, as on SSE2, the
// error-free steps (fma) run in double, where a product of two floats is exact, and the other products round
// twice; tables are read with byte swizzles over 4-float registers; the reciprocal "estimate" is a division
// (exact, so the gradient's fold has nothing to correct but 1 + e's rounding).
namespace fused_bce {
namespace FUSED_BCE_TARGET {

struct WasmVec {
  using F = v128_t;
  using M = v128_t;
  static constexpr size_t kWidth = 4;
  static constexpr bool kHasScaleFloor = false;
  static constexpr bool kHasLoadColumns = false;
  static constexpr bool kHasStoreFirst = false;
  // Cross-entropy smoothing distances one by one in the gradient loop: summing the logits beside the max
  // (kSumLogits) made V8's code for 256 x 10 rows 1.2x slower.
  static constexpr bool kSumLogits = false;
  static constexpr unsigned kLog1pTableSize = 32;  // (the common path uses no log1p table here: kFastPathInDouble)
  static constexpr bool kExpFirst = true;
  static constexpr bool kFastPathInDouble = true;  // fma is emulated: see kFastPathInDouble in bce_kernel.inl
  static constexpr bool kExpTable = false;  // a lookup is four swizzles of three instructions each in V8: the polynomial is cheaper

  static FUSED_BCE_INLINE F load(const float* p) { return wasm_v128_load(p); }
  static FUSED_BCE_INLINE void store(float* p, F v) { wasm_v128_store(p, v); }
  static FUSED_BCE_INLINE M loadLabelIsOne(const uint8_t* p) {
    // The byte masks sign-extended: 5 instructions in V8 (x64), where a compare of the widened labels was 10.
    const v128_t isOne = wasm_i8x16_ne(wasm_v128_load32_zero(p), wasm_i8x16_splat(0));
    return wasm_i32x4_extend_low_i16x8(wasm_i16x8_extend_low_i8x16(isOne));
  }
  static FUSED_BCE_INLINE M firstLanes(size_t count) {
    return wasm_i32x4_lt(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(static_cast<int32_t>(count)));
  }
  static FUSED_BCE_INLINE F set1(float v) { return wasm_f32x4_splat(v); }
  static FUSED_BCE_INLINE F add(F a, F b) { return wasm_f32x4_add(a, b); }
  static FUSED_BCE_INLINE F sub(F a, F b) { return wasm_f32x4_sub(a, b); }
  static FUSED_BCE_INLINE F mul(F a, F b) { return wasm_f32x4_mul(a, b); }
  static FUSED_BCE_INLINE F div(F a, F b) { return wasm_f32x4_div(a, b); }
  static FUSED_BCE_INLINE F fma(F a, F b, F c) {
    const D product = dmul(widen(a), widen(b));
    return narrow(dadd(product, widen(c)));
  }
  static FUSED_BCE_INLINE F fms(F a, F b, F c) { return fma(a, b, wasm_f32x4_neg(c)); }
  static FUSED_BCE_INLINE F fnma(F a, F b, F c) { return fma(wasm_f32x4_neg(a), b, c); }
  static FUSED_BCE_INLINE F mulAdd(F a, F b, F c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }
  static FUSED_BCE_INLINE F abs(F a) { return wasm_f32x4_abs(a); }
  static FUSED_BCE_INLINE F negAbs(F a) { return wasm_v128_or(a, wasm_f32x4_splat(-0.0f)); }
  static FUSED_BCE_INLINE F maxKeepNan(F a, F b) { return wasm_f32x4_pmax(a, b); }  // a < b ? b : a, one maxps
  static FUSED_BCE_INLINE F mulUnlessZero(F a, F b) {
    return wasm_v128_and(wasm_f32x4_mul(a, b), wasm_f32x4_ne(a, wasm_f32x4_splat(0.0f)));
  }
  static FUSED_BCE_INLINE M lt(F a, F b) { return wasm_f32x4_lt(a, b); }
  static FUSED_BCE_INLINE M ge(F a, F b) { return wasm_f32x4_ge(a, b); }
  static FUSED_BCE_INLINE M eq(F a, F b) { return wasm_f32x4_eq(a, b); }
  static FUSED_BCE_INLINE M notInUnitInterval(F a) { return wasm_u32x4_gt(a, wasm_i32x4_splat(0x3f800000)); }
  static FUSED_BCE_INLINE F select(M m, F a, F b) { return wasm_v128_bitselect(a, b, m); }
  static FUSED_BCE_INLINE M maskXor(M a, M b) { return wasm_v128_xor(a, b); }
  static FUSED_BCE_INLINE bool any(M m) { return wasm_v128_any_true(m); }
  // v[0..3] as the rows of a 4 x 4 matrix, replaced by its columns (pairs interleaved, then halves).
  static FUSED_BCE_INLINE void transpose(F* v) {
    const v128_t t0 = wasm_i32x4_shuffle(v[0], v[1], 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(v[2], v[3], 0, 4, 1, 5);
    const v128_t t2 = wasm_i32x4_shuffle(v[0], v[1], 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(v[2], v[3], 2, 6, 3, 7);
    v[0] = wasm_i64x2_shuffle(t0, t1, 0, 2);
    v[1] = wasm_i64x2_shuffle(t0, t1, 1, 3);
    v[2] = wasm_i64x2_shuffle(t2, t3, 0, 2);
    v[3] = wasm_i64x2_shuffle(t2, t3, 1, 3);
  }

  // Tables: 16 floats in four registers, 32 in eight; a lane's float j is gathered as the bytes 4 j .. 4 j + 3,
  // one swizzle per register (a byte index beyond a register's 16 bytes reads 0) and an OR of the results.
  struct Table16 {
    v128_t part[4];
  };
  struct Table32 {
    Table16 lo, hi;
  };
  static FUSED_BCE_INLINE Table16 loadTable16(const float* t) {
    return {{wasm_v128_load(t), wasm_v128_load(t + 4), wasm_v128_load(t + 8), wasm_v128_load(t + 12)}};
  }
  static FUSED_BCE_INLINE Table32 loadTable32(const float* t) { return {loadTable16(t), loadTable16(t + 16)}; }
  static FUSED_BCE_INLINE v128_t byteIndices(F index, int32_t mask) {
    const v128_t j = wasm_v128_and(index, wasm_i32x4_splat(mask));
    return wasm_i32x4_add(wasm_i32x4_mul(j, wasm_i32x4_splat(0x04040404)), wasm_i32x4_splat(0x03020100));
  }
  static FUSED_BCE_INLINE F gather16(const Table16& t, v128_t bytes) {
    const v128_t sixteen = wasm_i8x16_splat(16);
    v128_t r = wasm_i8x16_swizzle(t.part[0], bytes);
    for (int k = 1; k < 4; ++k) {
      bytes = wasm_i8x16_sub(bytes, sixteen);
      r = wasm_v128_or(r, wasm_i8x16_swizzle(t.part[k], bytes));
    }
    return r;
  }
  static FUSED_BCE_INLINE F lookup16(const Table16& t, F index) { return gather16(t, byteIndices(index, 15)); }
  static FUSED_BCE_INLINE F lookup32(const Table32& t, F index) {
    const v128_t bytes = byteIndices(index, 31);  // 0..127: the low table takes 0..63, the high one the rest
    return wasm_v128_or(gather16(t.lo, bytes), gather16(t.hi, wasm_i8x16_sub(bytes, wasm_i8x16_splat(64))));
  }
  static FUSED_BCE_INLINE F addShiftedBits19(F a, F b) { return wasm_i32x4_add(a, wasm_i32x4_shl(b, 19)); }
  static FUSED_BCE_INLINE F reciprocalEstimate(F a) { return wasm_f32x4_div(wasm_f32x4_splat(1.0f), a); }
  // p * 2^k for integral k in [-151, 0], rounded once: 2^k = 2^k1 * 2^k2 with both factors normal.
  static FUSED_BCE_INLINE F scaleByPow2(F p, F k) {
    // k + 1.5 * 2^23 holds k in its low bits: two instructions, where V8's trunc_sat takes six.
    const v128_t ki = wasm_i32x4_sub(wasm_f32x4_add(k, wasm_f32x4_splat(0x1.8p+23f)), wasm_i32x4_splat(0x4b400000));
    const v128_t k1 = wasm_i32x4_shr(ki, 1);
    return mul(mul(p, pow2(k1)), pow2(wasm_i32x4_sub(ki, k1)));
  }
  static FUSED_BCE_INLINE F pow2(v128_t k) { return wasm_i32x4_shl(wasm_i32x4_add(k, wasm_i32x4_splat(127)), 23); }

  // Double-precision pairs (lanes 0-1, 2-3), for the precise path and the emulated fma.
  struct D {
    v128_t lo, hi;
  };
  static FUSED_BCE_INLINE D widen(F v) {
    return {wasm_f64x2_promote_low_f32x4(v), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1))};
  }
  static FUSED_BCE_INLINE D widenLoad(const float* p) { return widen(load(p)); }
  static FUSED_BCE_INLINE F narrow(D d) {
    return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(d.lo), wasm_f32x4_demote_f64x2_zero(d.hi), 0, 1, 4, 5);
  }
  static FUSED_BCE_INLINE void storeNarrowed(float* p, D d) { store(p, narrow(d)); }
  static FUSED_BCE_INLINE D dset1(double v) { return {wasm_f64x2_splat(v), wasm_f64x2_splat(v)}; }
  static FUSED_BCE_INLINE D dadd(D a, D b) { return {wasm_f64x2_add(a.lo, b.lo), wasm_f64x2_add(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsub(D a, D b) { return {wasm_f64x2_sub(a.lo, b.lo), wasm_f64x2_sub(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dmul(D a, D b) { return {wasm_f64x2_mul(a.lo, b.lo), wasm_f64x2_mul(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D ddiv(D a, D b) { return {wasm_f64x2_div(a.lo, b.lo), wasm_f64x2_div(a.hi, b.hi)}; }
  static FUSED_BCE_INLINE D dsqrt(D a) { return {wasm_f64x2_sqrt(a.lo), wasm_f64x2_sqrt(a.hi)}; }
  static FUSED_BCE_INLINE D dmin(D a, D b) { return {wasm_f64x2_pmin(a.lo, b.lo), wasm_f64x2_pmin(a.hi, b.hi)}; }  // b < a ? b : a
  static FUSED_BCE_INLINE D dmax(D a, D b) { return {wasm_f64x2_pmax(a.lo, b.lo), wasm_f64x2_pmax(a.hi, b.hi)}; }  // a < b ? b : a
  // Without FMA: a product and a sum (two roundings at 2^-53, far below what float results show).
  static FUSED_BCE_INLINE D dfma(D a, D b, D c) { return dadd(dmul(a, b), c); }
  static FUSED_BCE_INLINE D dselect(M m, D a, D b) {
    const v128_t lo = wasm_i32x4_shuffle(m, m, 0, 0, 1, 1), hi = wasm_i32x4_shuffle(m, m, 2, 2, 3, 3);
    return {wasm_v128_bitselect(a.lo, b.lo, lo), wasm_v128_bitselect(a.hi, b.hi, hi)};
  }

  static FUSED_BCE_INLINE D dload(const double* p) { return {wasm_v128_load(p), wasm_v128_load(p + 2)}; }
  static FUSED_BCE_INLINE void dstore(double* p, D d) {
    wasm_v128_store(p, d.lo);
    wasm_v128_store(p + 2, d.hi);
  }
  // floor(log2 a) and a / 2^floor(log2 a), for positive normal a.
  static FUSED_BCE_INLINE F exponentOf(F a) {
    return wasm_f32x4_convert_i32x4(wasm_i32x4_sub(wasm_u32x4_shr(a, 23), wasm_i32x4_splat(127)));
  }
  static FUSED_BCE_INLINE F mantissaOf(F a) {
    return wasm_v128_or(wasm_v128_and(a, wasm_i32x4_splat(0x7fffff)), wasm_i32x4_splat(0x3f800000));
  }

  struct Acc {
    v128_t lo, hi;
    FUSED_BCE_INLINE Acc() : lo(wasm_f64x2_splat(0.0)), hi(wasm_f64x2_splat(0.0)) {}
  };
  static FUSED_BCE_INLINE void accumulate(Acc& acc, F v) { accumulateDouble(acc, widen(v)); }
  static FUSED_BCE_INLINE void accumulateDouble(Acc& acc, D d) {
    acc.lo = wasm_f64x2_add(acc.lo, d.lo);
    acc.hi = wasm_f64x2_add(acc.hi, d.hi);
  }
  static FUSED_BCE_INLINE double total(const Acc& acc) {
    const v128_t s = wasm_f64x2_add(acc.lo, acc.hi);
    return wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1);
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
