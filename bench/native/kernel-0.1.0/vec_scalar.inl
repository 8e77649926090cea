// One-lane "vector": the scalar ISA, and the tail of ISAs without masked loads (AVX2, NEON).
// kFma selects a hardware fused multiply-add, so a tail computes exactly what its ISA's vector lanes compute;
// without it, fma goes through double, which is (but for rare double roundings) the same result.
// Included inside namespace fused_bce::FUSED_BCE_TARGET by an ISA file (no include guard on purpose).
namespace fused_bce {
namespace FUSED_BCE_TARGET {

template <bool kFma>
struct ScalarVec {
  using F = float;
  using M = bool;
  static constexpr size_t kWidth = 1;
  static constexpr bool kMaskedTail = false;

  static FUSED_BCE_INLINE F load(const float* p) { return *p; }
  static FUSED_BCE_INLINE F loadU8(const uint8_t* p) { return static_cast<float>(*p); }
  static FUSED_BCE_INLINE void store(float* p, F v) { *p = v; }
  static FUSED_BCE_INLINE F set1(float v) { return v; }
  static FUSED_BCE_INLINE F add(F a, F b) { return a + b; }
  static FUSED_BCE_INLINE F sub(F a, F b) { return a - b; }
  static FUSED_BCE_INLINE F mul(F a, F b) { return a * b; }
  static FUSED_BCE_INLINE F div(F a, F b) { return a / b; }
  static FUSED_BCE_INLINE F fma(F a, F b, F c) {
    if constexpr (kFma) return __builtin_fmaf(a, b, c);
    // Without FMA hardware: the product of two floats is exact in double, so this rounds (almost) once.
    else return static_cast<float>(static_cast<double>(a) * static_cast<double>(b) + static_cast<double>(c));
  }
  static FUSED_BCE_INLINE F abs(F a) {
    uint32_t u;
    std::memcpy(&u, &a, 4);
    u &= 0x7fffffffu;
    std::memcpy(&a, &u, 4);
    return a;
  }
  static FUSED_BCE_INLINE M lt(F a, F b) { return a < b; }
  static FUSED_BCE_INLINE M gt(F a, F b) { return a > b; }
  static FUSED_BCE_INLINE M ge(F a, F b) { return a >= b; }
  static FUSED_BCE_INLINE M eq(F a, F b) { return a == b; }
  static FUSED_BCE_INLINE M isNan(F a) { return a != a; }
  static FUSED_BCE_INLINE M orMask(M a, M b) { return a || b; }
  static FUSED_BCE_INLINE F select(M m, F a, F b) { return m ? a : b; }
  // 2^k for an integral k in [-126, 127]: the bits of k + 1.5 * 2^23 + 127 hold k + 127 in the low
  // mantissa bits; shifting them into the exponent field gives the power of two.
  // p * 2^k for integral k in [-151, 0], rounded once: 2^k = 2^k1 * 2^k2 with both factors normal.
  static FUSED_BCE_INLINE F scaleByPow2(F p, F k) {
    const F half = set1(0.5f), magic = set1(12582912.0f);
    const F k1 = sub(add(mul(k, half), magic), magic);  // round(k / 2)
    return mul(mul(p, pow2i(k1)), pow2i(sub(k, k1)));
  }
  static FUSED_BCE_INLINE F pow2i(F k) {
    F t = k + 12583039.0f;
    uint32_t u;
    std::memcpy(&u, &t, 4);
    u <<= 23;
    std::memcpy(&t, &u, 4);
    return t;
  }

  static FUSED_BCE_INLINE bool any(M m) { return m; }

  // Double precision, for the precise path of targets outside [0, 1]. Without FMA hardware, a product and a
  // sum in double (two roundings at 2^-53: far below what float32 results can show).
  using D = double;
  static FUSED_BCE_INLINE D widen(F v) { return v; }
  static FUSED_BCE_INLINE F narrow(D d) { return static_cast<float>(d); }
  static FUSED_BCE_INLINE D dset1(double v) { return v; }
  static FUSED_BCE_INLINE D dadd(D a, D b) { return a + b; }
  static FUSED_BCE_INLINE D dsub(D a, D b) { return a - b; }
  static FUSED_BCE_INLINE D dmul(D a, D b) { return a * b; }
  static FUSED_BCE_INLINE D ddiv(D a, D b) { return a / b; }
  static FUSED_BCE_INLINE D dfma(D a, D b, D c) {
    if constexpr (kFma) return __builtin_fma(a, b, c);
    else return a * b + c;
  }
  static FUSED_BCE_INLINE D dselect(M m, D a, D b) { return m ? a : b; }

  struct Acc {
    double sum = 0;
  };
  static FUSED_BCE_INLINE void accumulate(Acc& acc, F v) { acc.sum += static_cast<double>(v); }
  static FUSED_BCE_INLINE double total(const Acc& acc) { return acc.sum; }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
