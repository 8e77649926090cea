// e^-|x|, log1p(e^-|x|) and 1/(1 + e^-|x|) for the loss, written once over a vector type V (no libm), with
// the tables and coefficients of bce_tables.h (native/tools/gen_tables.py).
//   expNonPositive(t), t in [-inf, 0] or NaN: k = round(16 t / ln 2), r = t - k ln2/16 (Cody-Waite, hi + lo),
//     e^t = 2^(k/16) (1 + q), q = r + c2 r^2 + c3 r^3, 2^(j/16) from a 16-entry table in registers. Relative
//     error: the table's rounding (<= 0.8 x 2^-24), the polynomial's (0.03 x 2^-24) and the final rounding;
//     subnormal results are rounded once. t is clamped at -104.5, where e^t rounds to 0.
//   log1pOfExp(e), e in [0, 1]: j = round(N e), r = c_j e + (c_j - 1) in one fma (exactly e for j = 0),
//     log1p(e) = -log(c_j) + r + r^2 P(r); the table size is the vector type's (V::kLog1pTableSize): N = 31 and
//     P of degree 2, or N = 15 and P of degree 3 where each 8 entries of a lookup cost a permute (AVX2);
//     polynomial error 0.04 or 0.01 x 2^-24 (relative), then two roundings. No 1 + e is formed, so nothing
//     needs a rounding correction.
//   The gradient's 1/(1 + e) starts from V::reciprocalEstimate (relative error <= 2^-14: vrcp14ps, or an
//     estimate refined by Newton steps) and the kernel folds the estimate's error and the rounding of 1 + e
//     into its final rounding (bce_kernel.inl).
// Accuracy of the whole loss and gradient is measured by native/tests/accuracy_sweep.cc (README: Accuracy).
namespace fused_bce {
namespace FUSED_BCE_TARGET {

// The registers of a log1p table (16 or 32 entries): picked by specialisation, since a vector type (__m512 as
// Table16) cannot be a template argument of std::conditional without losing its attributes.
template <class V, bool kSixteen>
struct LogRegistersOf {
  using Type = typename V::Table32;
};
template <class V>
struct LogRegistersOf<V, true> {
  using Type = typename V::Table16;
};

template <class V>
struct BceMath {
  using F = typename V::F;
  using D = typename V::D;
  static constexpr bool kLog16 = V::kLog1pTableSize == 16;
  static_assert(kLog16 || V::kLog1pTableSize == 32, "log1p tables come in 16 and 32 points");
  using Log1pTable = std::conditional_t<kLog16, tables::Log1pTable16, tables::Log1pTable32>;
  using LogRegisters = typename LogRegistersOf<V, kLog16>::Type;

  // The tables, loaded into registers (or pointed at) once per span.
  struct Tables {
    typename V::Table16 exp2;
    typename V::Table16 exp2LessIndex;
    typename V::Table16 exp2LoRatio;  // the focal kernel's double exp (focal_math.inl)
    LogRegisters logPoint;
    LogRegisters negLogPoint;
    FUSED_BCE_INLINE Tables()
        : exp2(V::loadTable16(tables::kExp2Table)),
          exp2LessIndex(V::loadTable16(tables::kExp2TableLessIndex)),
          exp2LoRatio(V::loadTable16(tables::kExp2TableLoRatio)),
          logPoint(loadLogTable(Log1pTable::kPoint)),
          negLogPoint(loadLogTable(Log1pTable::kNegLogPoint)) {}
  };
  static FUSED_BCE_INLINE LogRegisters loadLogTable(const float* t) {
    if constexpr (kLog16) return V::loadTable16(t);
    else return V::loadTable32(t);
  }
  static FUSED_BCE_INLINE F lookupLog(const LogRegisters& t, F index) {
    if constexpr (kLog16) return V::lookup16(t, index);
    else return V::lookup32(t, index);
  }

  // Round to the nearest integer for |x| < 2^22, as a float whose pattern also holds it in its low bits.
  // (Which integer a product just below a half rounds to does not matter to the callers: any k gives an exact
  // reduction, any j a reduced argument in range.)
  static FUSED_BCE_INLINE F withRoundedInLowBits(F x, F scale) {
    return V::mulAdd(x, scale, V::set1(tables::kRoundMagic));
  }

  // e^t for t in [-inf, 0] or NaN; NaN propagates.
  static FUSED_BCE_INLINE F expNonPositive(const Tables& tab, F t) {
    t = V::maxKeepNan(t, V::set1(-104.5f));
    if constexpr (!V::kExpTable) return expNonPositiveByPolynomial(t);
    const F z = withRoundedInLowBits(t, V::set1(tables::kSixteenOverLn2));  // low bits: k
    const F k = V::sub(z, V::set1(tables::kRoundMagic));
    F r = V::mulAdd(k, V::set1(-tables::kLn2Over16Hi), t);  // k * hi is exact (12 + 12 bits)
    r = V::mulAdd(k, V::set1(-tables::kLn2Over16Lo), r);
    const F q = V::mul(V::mulAdd(V::mulAdd(V::set1(tables::kExpC3), r, V::set1(tables::kExpC2)), r, V::set1(1.0f)), r);
    if constexpr (V::kHasScaleFloor) {
      // p * 2^floor(k / 16) in one instruction that also rounds subnormal results once.
      const F table = V::lookup16(tab.exp2, z);
      const F p = V::mulAdd(table, q, table);
      return V::scaleFloor(p, V::mul(k, V::set1(0.0625f)));
    } else {
      // 2^(j/16) 2^floor(k/16) by adding the exponent to the table entry's bits, valid while it is normal.
      const F s = V::addShiftedBits19(V::lookup16(tab.exp2LessIndex, z), z);
      const F e = V::mulAdd(s, q, s);
      const auto subnormal = V::lt(t, V::set1(tables::kExpNormalLimit));
      if (FUSED_BCE_UNLIKELY(V::any(subnormal))) return V::select(subnormal, expSubnormal(tab, z, k, q), e);
      return e;
    }
  }

  // e^t without a table (V::kExpTable false), t in [-104.5, 0] or NaN: k = round(t / ln 2) in [-151, 0],
  // r = t - k ln2 (k hi exact, |r| <= ln2 / 2), p = 1 + (r + r^2 E(r)) in [0.7, 1.42], then p 2^k rounded once
  // (also where it is subnormal, with no branch). Relative error: E's (0.07 x 2^-24), r's rounding (<= 0.18 ulp
  // of the result), r + r^2 E's (<= 0.3) and the two of 1 + ... and the scaling (0.5 each); the table's rounding
  // (0.8 ulp) is gone, so this is no less accurate than the table's path.
  static FUSED_BCE_INLINE F expNonPositiveByPolynomial(F t) {
    const F z = withRoundedInLowBits(t, V::set1(tables::kOneOverLn2));
    const F k = V::sub(z, V::set1(tables::kRoundMagic));
    F r = V::mulAdd(k, V::set1(-tables::kLn2Hi), t);
    r = V::mulAdd(k, V::set1(-tables::kLn2Lo), r);
    const F r2 = V::mul(r, r);
    const F low = V::mulAdd(V::set1(tables::kExpWideE3), r, V::set1(tables::kExpWideE2));
    const F high = V::mulAdd(V::mulAdd(V::set1(tables::kExpWideE6), r, V::set1(tables::kExpWideE5)), r, V::set1(tables::kExpWideE4));
    const F poly = V::mulAdd(high, r2, low);  // E(r) by Estrin's scheme: a shorter chain than Horner's
    const F p = V::add(V::mulAdd(r2, poly, r), V::set1(1.0f));
    return V::scaleByPow2(p, k);
  }

  // The same result where e^t is subnormal: p = 2^(j/16) (1 + q), then p * 2^floor(k/16) rounded once.
  static FUSED_BCE_NOINLINE F expSubnormal(const Tables& tab, F z, F k, F q) {
    const F table = V::lookup16(tab.exp2, z);
    const F p = V::mulAdd(table, q, table);
    // floor(k/16) = round(k/16 - 15/32): k/16 - 15/32 is exact and never halfway between two integers.
    const F shifted = V::mulAdd(k, V::set1(0.0625f), V::set1(-0.46875f));
    const F floorK16 = V::sub(withRoundedInLowBits(shifted, V::set1(1.0f)), V::set1(tables::kRoundMagic));
    return V::scaleByPow2(p, floorK16);
  }

  // The pieces of log1p(e) shared by the float and the double evaluation.
  struct LogReduced {
    F reduced;     // r = c_j e + (c_j - 1), one rounding (exactly e for j = 0)
    F negLogPoint; // -log(c_j), within 1e-10 relative
  };
  static FUSED_BCE_INLINE LogReduced logReduce(const Tables& tab, F e) {
    const F index = withRoundedInLowBits(e, V::set1(Log1pTable::kIndexScale));  // low bits: round(N e)
    const F point = lookupLog(tab.logPoint, index);
    return {V::fma(point, e, V::sub(point, V::set1(1.0f))), lookupLog(tab.negLogPoint, index)};
  }

  static FUSED_BCE_INLINE F log1pPolynomialTail(F r) {  // P(r) = a2 + a3 r + a4 r^2 (+ a5 r^3)
    F p;
    if constexpr (kLog16) p = V::mulAdd(V::mulAdd(V::set1(Log1pTable::kA5), r, V::set1(Log1pTable::kA4)), r, V::set1(Log1pTable::kA3));
    else p = V::mulAdd(V::set1(Log1pTable::kA4), r, V::set1(Log1pTable::kA3));
    return V::mulAdd(p, r, V::set1(Log1pTable::kA2));
  }

  // log(1 + e) for e in [0, 1] (NaN propagates).
  static FUSED_BCE_INLINE F log1pOfExp(const Tables& tab, F e) {
    const LogReduced lr = logReduce(tab, e);
    const F r = lr.reduced;
    return V::mulAdd(V::mul(r, r), log1pPolynomialTail(r), V::add(lr.negLogPoint, r));
  }

  // The same in double from the same reduction (r is within half an ulp; the polynomial's error is far below
  // float's), for the precise path: within about 0.1 float ulp.
  static FUSED_BCE_INLINE D log1pOfExpPrecise(const Tables& tab, F e) {
    const F index = withRoundedInLowBits(e, V::set1(Log1pTable::kIndexScale));
    const F point = lookupLog(tab.logPoint, index);
    const D pointD = V::widen(point);
    // c e + (c - 1) is exact in double (a 48-bit product and a sum of nearby magnitudes).
    const D r = V::dfma(pointD, V::widen(e), V::dsub(pointD, V::dset1(1.0)));
    D tail;
    if constexpr (kLog16) tail = V::dfma(V::dfma(V::dset1(Log1pTable::kA5), r, V::dset1(Log1pTable::kA4)), r, V::dset1(Log1pTable::kA3));
    else tail = V::dfma(V::dset1(Log1pTable::kA4), r, V::dset1(Log1pTable::kA3));
    tail = V::dfma(tail, r, V::dset1(Log1pTable::kA2));
    return V::dadd(V::dfma(V::dmul(r, r), tail, r), V::widen(lookupLog(tab.negLogPoint, index)));
  }

  // log1p(e) and 1 / (1 + e) in double lanes from one division and no table (the fast path where
  // V::kFastPathInDouble: there a table lookup costs several shuffles, and the float path's error-free steps a
  // round trip through double each):
  //   u = 1 + e, v = 2 + e (exact), q = 1 / (u v);  1 / (1 + e) = v q;  S = 2 e / (2 + e) = 2 e u q;
  //   log1p(e) = 2 atanh(e / (2 + e)) = S + S z Q(z), z = (e / (2 + e))^2 in [0, 1/9] (bce_tables.h).
  // S z Q(z) is at most 3.7% of the result, so z Q(z) runs in float from its own float division, beside the
  // double chain rather than after it: its few roundings reach the result at 0.04 of theirs (about 0.2 ulp at
  // most). Q by Estrin's scheme, for the same reason. Both results are within a few 2^-53 (relative) of the real
  // functions of e but for that; NaN propagates.
  struct Log1pAndReciprocal {
    D log1p, reciprocal;
  };
  static FUSED_BCE_INLINE Log1pAndReciprocal log1pAndReciprocalByDivision(F e) {
    const F s = V::div(e, V::add(e, V::set1(2.0f)));
    const F z = V::mul(s, s), z2 = V::mul(z, z);
    const F low = V::mulAdd(V::set1(tables::kAtanhTailQ1), z, V::set1(tables::kAtanhTailQ0));
    const F mid = V::mulAdd(V::set1(tables::kAtanhTailQ3), z, V::set1(tables::kAtanhTailQ2));
    const F high = V::mulAdd(V::set1(tables::kAtanhTailQ4), z2, mid);
    const F tail = V::mul(V::mulAdd(high, z2, low), z);
    const D eD = V::widen(e), one = V::dset1(1.0);
    const D u = V::dadd(one, eD), v = V::dadd(u, one);
    const D q = V::ddiv(one, V::dmul(u, v));
    const D twiceS = V::dmul(V::dmul(V::dadd(eD, eD), u), q);
    return {V::dfma(twiceS, V::widen(tail), twiceS), V::dmul(v, q)};
  }

  // 1 / x in double from a float estimate with relative error <= 2^-14: two Newton steps (2^-28, then 2^-56).
  static FUSED_BCE_INLINE D reciprocalPrecise(D x, F estimate) {
    D r = V::widen(estimate);
    r = V::dfma(r, V::dfma(V::dsub(V::dset1(0.0), x), r, V::dset1(1.0)), r);
    return V::dfma(r, V::dfma(V::dsub(V::dset1(0.0), x), r, V::dset1(1.0)), r);
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
