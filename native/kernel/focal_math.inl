// The double-precision functions of the focal loss, written once over a vector type V from its float tables and
// double lanes (no libm):
//   expDouble(t), t in [-200, 0] or NaN: k = round(16 t / ln 2) (in float: any k gives an exact reduction),
//     r = t - k ln2/16 in double (ln2/16 as hi + lo, each product exact inside an fma), |r| <= ln2/32,
//     e^t = T_j (1 + ratio_j) 2^floor(k/16) (1 + r + r^2/2 + ... + r^5/120): the float table and its relative
//     rounding error (kExp2TableLoRatio) give 2^(j/16) within 2^-47, the polynomial's truncation is below 2^-42,
//     and the power of two is a product of two floats 2^m1 2^m2 (m >= -290, each factor >= 2^-145, exact).
//   expSplit(t): e^t for a float t in float (BceMath's steps and bits) and the float residual of that result, so
//     that single + residual is e^t within about 0.1 x 2^-24 (in double: expSplitInDouble).
//   log1pDouble(u), u in [0, 1]: BceMath's log1p reduction (j = round(N u), r = c_j u + (c_j - 1)) in double;
//     the table's -log(c_j) is within 1e-10 relative and the polynomial within 0.04 x 2^-24 of log1p(r)'s
//     relative error budget: about 2^-28 absolute, far below what the float32 result shows.
//   logUnitDouble(v), v in (0, 1]: v = v_f (1 + d) with v_f = float(v), log v_f = k ln2 + log1p(m - 1) from
//     v_f's exponent k and mantissa m (exact), log(1 + d) = d within 2^-48 (|d| <= 2^-24); v below 2^-100 is
//     scaled by 2^64 first (a float32 target near the bottom of the subnormal range); v = 0 gives -inf.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

template <class V>
struct FocalMath {
  using F = typename V::F;
  using D = typename V::D;
  using Math = BceMath<V>;

  using Tables = typename Math::Tables;

  // round(a) for an integral-valued or half-odd a with |a| < 2^22, as a float.
  static FUSED_BCE_INLINE F roundToInteger(F a) {
    return V::sub(Math::withRoundedInLowBits(a, V::set1(1.0f)), V::set1(tables::kRoundMagic));
  }

  static FUSED_BCE_INLINE D expDouble(const Tables& tab, D t) {
    const F z = Math::withRoundedInLowBits(V::narrow(t), V::set1(tables::kSixteenOverLn2));  // low bits: k
    const F k = V::sub(z, V::set1(tables::kRoundMagic));
    const D kD = V::widen(k);
    D r = V::dfma(kD, V::dset1(-tables::kLn2Over16HiD), t);
    r = V::dfma(kD, V::dset1(-tables::kLn2Over16LoD), r);
    D poly = V::dfma(V::dset1(1.0 / 120), r, V::dset1(1.0 / 24));
    poly = V::dfma(poly, r, V::dset1(1.0 / 6));
    poly = V::dfma(poly, r, V::dset1(0.5));
    poly = V::dfma(poly, r, V::dset1(1.0));
    poly = V::dfma(poly, r, V::dset1(1.0));
    const D entry = V::widen(V::lookup16(tab.exp2, z));
    const D table = V::dfma(entry, V::widen(V::lookup16(tab.exp2LoRatio, z)), entry);
    // m = floor(k / 16) = round(k / 16 - 15/32) (never halfway), split as m1 = floor(m / 2) and m2 = m - m1.
    // (NaN t: m is taken as 0, the result is NaN through r; scaleByPow2 needs an integral k)
    const F mRounded = roundToInteger(V::mulAdd(k, V::set1(0.0625f), V::set1(-0.46875f)));
    const F m = V::select(V::eq(mRounded, mRounded), mRounded, V::set1(0.0f));
    const F m1 = roundToInteger(V::mulAdd(m, V::set1(0.5f), V::set1(-0.25f)));
    const F m2 = V::sub(m, m1);
    const D scale = V::dmul(V::widen(V::scaleByPow2(V::set1(1.0f), m1)), V::widen(V::scaleByPow2(V::set1(1.0f), m2)));
    return V::dmul(V::dmul(table, poly), scale);
  }

  // e^t for t in [-200, 0] or NaN (a float argument) as a float and its residual: single as
  // BceMath::expNonPositive gives it (the same steps and bits, 0 below -104.5), and residual = e^t - single from
  // those steps. The float result's errors are the table's rounding and its own final rounding; with s = 2^(j/16)
  // 2^floor(k/16) rounded as the float entry (the scaling is exact while e^t is normal), e^t = s (1 + q)(1 +
  // ratio_j) = s + s (q + ratio_j) (q ratio_j < 2^-29 is dropped, q + ratio_j rounds at 2^-30), and residual =
  // s (q + ratio_j) + (s - single): s - single is exact (single is within 3% of s), the product rounds at 2^-29 of
  // e^t where it is not fused, and the residual is below 2^-23 single, so its own rounding is below 2^-47 of e^t:
  // single + residual is e^t within about 0.1 x 2^-24. Two floats, so that the double e^t is formed where it is
  // used (the focal kernel's first stage stores two floats instead of a float and a double). Lanes where e^t is
  // subnormal in float (subnormal) take expSubnormal for single and expDouble in expSplitInDouble; their residual is
  // not used.
  struct ExpSplit {
    F single, residual;
    typename V::M subnormal;
    bool anySubnormal;
  };
  static FUSED_BCE_INLINE ExpSplit expSplit(const Tables& tab, F t) {
    const F clamped = V::maxKeepNan(t, V::set1(-104.5f));
    const F z = Math::withRoundedInLowBits(clamped, V::set1(tables::kSixteenOverLn2));  // low bits: k
    const F k = V::sub(z, V::set1(tables::kRoundMagic));
    F r = V::mulAdd(k, V::set1(-tables::kLn2Over16Hi), clamped);
    r = V::mulAdd(k, V::set1(-tables::kLn2Over16Lo), r);
    const F q = V::mul(V::mulAdd(V::mulAdd(V::set1(tables::kExpC3), r, V::set1(tables::kExpC2)), r, V::set1(1.0f)), r);
    const F s = V::addShiftedBits19(V::lookup16(tab.exp2LessIndex, z), z);
    ExpSplit out;
    out.single = V::mulAdd(s, q, s);
    out.residual = V::mulAdd(s, V::add(q, V::lookup16(tab.exp2LoRatio, z)), V::sub(s, out.single));
    out.subnormal = V::lt(t, V::set1(tables::kExpNormalLimit));
    out.anySubnormal = V::any(out.subnormal);
    if (FUSED_BCE_UNLIKELY(out.anySubnormal)) {
      out.single = V::select(out.subnormal, Math::expSubnormal(tab, z, k, q), out.single);
    }
    return out;
  }

  // e^t in double from expSplit(t): single + residual (exact), expDouble in the subnormal lanes.
  static FUSED_BCE_INLINE D expSplitInDouble(const Tables& tab, F t, const ExpSplit& e) {
    const D sum = V::dadd(V::widen(e.single), V::widen(e.residual));
    if (FUSED_BCE_UNLIKELY(e.anySubnormal)) return V::dselect(e.subnormal, expDouble(tab, V::widen(t)), sum);
    return sum;
  }

  static FUSED_BCE_INLINE D log1pDouble(const Tables& tab, D u) {
    using Table = typename Math::Log1pTable;
    const F index = Math::withRoundedInLowBits(V::narrow(u), V::set1(Table::kIndexScale));
    const D point = V::widen(Math::lookupLog(tab.logPoint, index));
    const D r = V::dfma(point, u, V::dsub(point, V::dset1(1.0)));
    D tail;
    if constexpr (Math::kLog16) tail = V::dfma(V::dfma(V::dset1(Table::kA5), r, V::dset1(Table::kA4)), r, V::dset1(Table::kA3));
    else tail = V::dfma(V::dset1(Table::kA4), r, V::dset1(Table::kA3));
    tail = V::dfma(tail, r, V::dset1(Table::kA2));
    return V::dadd(V::dfma(V::dmul(r, r), tail, r), V::widen(Math::lookupLog(tab.negLogPoint, index)));
  }

  static FUSED_BCE_INLINE D logUnitDouble(const Tables& tab, D v) {
    const auto tiny = V::lt(V::narrow(v), V::set1(0x1p-100f));
    const D scaled = V::dselect(tiny, V::dmul(v, V::dset1(0x1p64)), v);
    const F rounded = V::narrow(scaled);
    // log(scaled) = log(rounded) + log(scaled / rounded), the latter (scaled - rounded) / rounded within 2^-48.
    const D exponent = V::dsub(V::widen(V::exponentOf(rounded)), V::dselect(tiny, V::dset1(64.0), V::dset1(0.0)));
    const D logRounded = V::dfma(exponent, V::dset1(0.69314718055994530942),
                                 log1pDouble(tab, V::widen(V::sub(V::mantissaOf(rounded), V::set1(1.0f)))));
    const D correction = V::dmul(V::dsub(scaled, V::widen(rounded)), V::widen(V::reciprocalEstimate(rounded)));
    return V::dselect(V::eq(rounded, V::set1(0.0f)), V::dset1(-std::numeric_limits<double>::infinity()),
                      V::dadd(logRounded, correction));
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
