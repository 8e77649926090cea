// One-lane "vector": the portable scalar ISA (any CPU; on x86-64 the SSE2 tier is faster and chosen instead).
// kFma: a hardware fused multiply-add (armv8-a). Without it, fma goes through double: the product of two floats
// is exact there, so a * b + c rounds (but for rare double roundings) once, as the error-free steps need.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

template <bool kFma>
struct ScalarVec {
  using F = float;
  using M = bool;
  static constexpr size_t kWidth = 1;
  static constexpr bool kHasScaleFloor = false;
  static constexpr bool kHasLoadColumns = false;
  static constexpr bool kHasStoreFirst = false;
  static constexpr bool kSumLogits = true;
  static constexpr unsigned kLog1pTableSize = 32;  // a lookup is a load whatever the size
  static constexpr bool kExpFirst = true;  // runSpan: 1.1x
  static constexpr bool kFastPathInDouble = !kFma;  // without fma, as SSE2 (bce_kernel.inl)
  static constexpr bool kExpTable = true;

  static FUSED_BCE_INLINE F load(const float* p) { return *p; }
  static FUSED_BCE_INLINE void store(float* p, F v) { *p = v; }
  static FUSED_BCE_INLINE M loadLabelIsOne(const uint8_t* p) { return *p != 0; }
  static FUSED_BCE_INLINE M firstLanes(size_t count) { return count > 0; }
  static FUSED_BCE_INLINE F set1(float v) { return v; }
  static FUSED_BCE_INLINE F add(F a, F b) { return a + b; }
  static FUSED_BCE_INLINE F sub(F a, F b) { return a - b; }
  static FUSED_BCE_INLINE F mul(F a, F b) { return a * b; }
  static FUSED_BCE_INLINE F div(F a, F b) { return a / b; }
  static FUSED_BCE_INLINE F fma(F a, F b, F c) {
    if constexpr (kFma) return portable::fmaf(a, b, c);
    else return static_cast<float>(static_cast<double>(a) * static_cast<double>(b) + static_cast<double>(c));
  }
  static FUSED_BCE_INLINE F fms(F a, F b, F c) { return fma(a, b, -c); }
  static FUSED_BCE_INLINE F fnma(F a, F b, F c) { return fma(-a, b, c); }
  static FUSED_BCE_INLINE F mulAdd(F a, F b, F c) {
    if constexpr (kFma) return portable::fmaf(a, b, c);
    else return a * b + c;  // (fp-contract is off: two roundings, as intended)
  }
  static FUSED_BCE_INLINE F abs(F a) { return portable::withSignBit(a, false); }
  static FUSED_BCE_INLINE F negAbs(F a) { return portable::withSignBit(a, true); }
  static FUSED_BCE_INLINE F maxKeepNan(F a, F b) { return a < b ? b : a; }
  static FUSED_BCE_INLINE F mulUnlessZero(F a, F b) { return a == 0 ? 0.0f : a * b; }
  static FUSED_BCE_INLINE M lt(F a, F b) { return a < b; }
  static FUSED_BCE_INLINE M ge(F a, F b) { return a >= b; }
  static FUSED_BCE_INLINE M eq(F a, F b) { return a == b; }
  static FUSED_BCE_INLINE M notInUnitInterval(F a) { return portable::bitsOf(a) > 0x3f800000u; }
  static FUSED_BCE_INLINE F select(M m, F a, F b) { return m ? a : b; }
  static FUSED_BCE_INLINE M maskXor(M a, M b) { return a != b; }
  static FUSED_BCE_INLINE bool any(M m) { return m; }
  // v[0] as a 1 x 1 matrix: its own transpose.
  static FUSED_BCE_INLINE void transpose(F*) {}

  using Table16 = const float*;
  using Table32 = const float*;
  static FUSED_BCE_INLINE Table16 loadTable16(const float* t) { return t; }
  static FUSED_BCE_INLINE Table32 loadTable32(const float* t) { return t; }
  static FUSED_BCE_INLINE F lookup16(Table16 t, F index) { return t[portable::bitsOf(index) & 15u]; }
  static FUSED_BCE_INLINE F lookup32(Table32 t, F index) { return t[portable::bitsOf(index) & 31u]; }
  static FUSED_BCE_INLINE F addShiftedBits19(F a, F b) {
    return portable::floatOfBits(portable::bitsOf(a) + (portable::bitsOf(b) << 19));
  }
  static FUSED_BCE_INLINE F reciprocalEstimate(F a) { return 1.0f / a; }
  // p * 2^k for integral k in [-151, 0], rounded once: 2^k = 2^k1 * 2^k2 with both factors normal.
  static FUSED_BCE_INLINE F scaleByPow2(F p, F k) {
    const int ki = static_cast<int>(k);
    const int k1 = ki / 2;
    return p * pow2(k1) * pow2(ki - k1);
  }
  static FUSED_BCE_INLINE F pow2(int k) { return portable::floatOfBits(static_cast<uint32_t>(k + 127) << 23); }

  // Double precision, for the precise path.
  using D = double;
  static FUSED_BCE_INLINE D widen(F v) { return v; }
  static FUSED_BCE_INLINE D widenLoad(const float* p) { return widen(load(p)); }
  static FUSED_BCE_INLINE F narrow(D d) { return static_cast<float>(d); }
  static FUSED_BCE_INLINE void storeNarrowed(float* p, D d) { store(p, narrow(d)); }
  static FUSED_BCE_INLINE D dset1(double v) { return v; }
  static FUSED_BCE_INLINE D dadd(D a, D b) { return a + b; }
  static FUSED_BCE_INLINE D dsub(D a, D b) { return a - b; }
  static FUSED_BCE_INLINE D dmul(D a, D b) { return a * b; }
  static FUSED_BCE_INLINE D ddiv(D a, D b) { return a / b; }
  static FUSED_BCE_INLINE D dsqrt(D a) { return std::sqrt(a); }
  static FUSED_BCE_INLINE D dmin(D a, D b) { return b < a ? b : a; }
  static FUSED_BCE_INLINE D dmax(D a, D b) { return a < b ? b : a; }
  static FUSED_BCE_INLINE D dfma(D a, D b, D c) {
    if constexpr (kFma) return portable::fma(a, b, c);
    else return a * b + c;  // two roundings at 2^-53: far below what float32 results can show
  }
  static FUSED_BCE_INLINE D dselect(M m, D a, D b) { return m ? a : b; }

  static FUSED_BCE_INLINE D dload(const double* p) { return *p; }
  static FUSED_BCE_INLINE void dstore(double* p, D d) { *p = d; }
  // floor(log2 a) and a / 2^floor(log2 a), for positive normal a.
  static FUSED_BCE_INLINE F exponentOf(F a) { return static_cast<float>(static_cast<int>(portable::bitsOf(a) >> 23) - 127); }
  static FUSED_BCE_INLINE F mantissaOf(F a) { return portable::floatOfBits((portable::bitsOf(a) & 0x7fffffu) | 0x3f800000u); }

  struct Acc {
    double sum = 0;
  };
  static FUSED_BCE_INLINE void accumulate(Acc& acc, F v) { acc.sum += static_cast<double>(v); }
  static FUSED_BCE_INLINE void accumulateDouble(Acc& acc, D d) { acc.sum += d; }
  static FUSED_BCE_INLINE double total(const Acc& acc) { return acc.sum; }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
