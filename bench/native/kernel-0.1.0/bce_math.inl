// Vectorised e^-|x| and log1p(e) for the loss, written once over a vector type V (no libm needed).
//   expNegAbs: Cody-Waite reduction k = round(t / ln 2), r = t - k ln 2, e^r = 1 + r + r^2 P(r) with a
//     degree-4 P fitted for relative error (3e-9 in float64), scaled by 2^k as two factors so that results
//     down to the smallest subnormal are rounded once. t is clamped at -104.5, where e^t rounds to 0.
//   log1pOfExp: u = 1 + e rounded, log(u) by f = u - 1 (or u/2 - 1 above sqrt 2) and
//     log(1 + f) = f - f^2/2 + f^3 Q(f), degree-7 Q (6e-9 relative), plus the rounding correction
//     (e - (u - 1)) / u, which keeps full relative accuracy when e is tiny. log1pOfExpPrecise assembles the
//     same pieces in double (the precise path for targets outside [0, 1]).
// The reciprocal 1/u is shared with the sigmoid. Accuracy of the whole loss and gradient is measured by
// native/tests/accuracy_sweep.cc against float64 (README: Accuracy).
namespace fused_bce {
namespace FUSED_BCE_TARGET {

template <class V>
struct BceMath {
  using F = typename V::F;

  // Round to the nearest integer for |x| < 2^22 by adding and removing 1.5 * 2^23 (same on every ISA).
  static FUSED_BCE_INLINE F roundToInt(F x) {
    const F magic = V::set1(12582912.0f);
    return V::sub(V::add(x, magic), magic);
  }

  // e^t for t in [-inf, 0] or NaN; NaN propagates.
  static FUSED_BCE_INLINE F expNonPositive(F t) {
    const F lowest = V::set1(-104.5f);
    t = V::select(V::lt(t, lowest), lowest, t);  // NaN compares false and stays NaN
    const F k = roundToInt(V::mul(t, V::set1(1.44269504088896341f)));
    F r = V::fma(k, V::set1(-0.693359375f), t);  // k * ln2hi is exact (9 + 8 bits)
    r = V::fma(k, V::set1(2.12194440e-4f), r);   // ln2 = ln2hi - 2.12194440e-4
    F p = V::set1(0.00138146104f);
    p = V::fma(p, r, V::set1(0.00836871006f));
    p = V::fma(p, r, V::set1(0.041668389f));
    p = V::fma(p, r, V::set1(0.166665211f));
    p = V::fma(p, r, V::set1(0.49999994f));
    p = V::add(V::fma(V::mul(r, r), p, r), V::set1(1.0f));
    return V::scaleByPow2(p, k);  // k in [-151, 0]; results down to the smallest subnormal round once
  }

  // The reduction of log(u), u in [1, 2]: log(u) = k ln2 + log(1 + f) with f = u - 1, or u/2 - 1 (k = 1)
  // above sqrt 2 (both exact), and log(1 + f) = f - f^2/2 + f^3 q(f).
  struct LogReduced {
    F f, q;
    typename V::M aboveSqrt2;
  };
  static FUSED_BCE_INLINE LogReduced logReduce(F u) {
    const auto aboveSqrt2 = V::gt(u, V::set1(1.41421356f));
    const F f = V::select(aboveSqrt2, V::fma(u, V::set1(0.5f), V::set1(-1.0f)), V::sub(u, V::set1(1.0f)));
    F q = V::set1(-0.0763442963f);
    q = V::fma(q, f, V::set1(0.127615497f));
    q = V::fma(q, f, V::set1(-0.131601945f));
    q = V::fma(q, f, V::set1(0.142017618f));
    q = V::fma(q, f, V::set1(-0.166233569f));
    q = V::fma(q, f, V::set1(0.200012267f));
    q = V::fma(q, f, V::set1(-0.250008225f));
    q = V::fma(q, f, V::set1(0.333333313f));
    return {f, q, aboveSqrt2};
  }

  // log(1 + e) for e in [0, 1] given u = 1 + e (rounded) and recip = 1 / u.
  static FUSED_BCE_INLINE F log1pOfExp(F e, F u, F recip) {
    const F one = V::set1(1.0f);
    const F zero = V::set1(0.0f);
    const LogReduced r = logReduce(u);
    const F kHi = V::select(r.aboveSqrt2, V::set1(0.693359375f), zero);
    const F kLo = V::select(r.aboveSqrt2, V::set1(-2.12194440e-4f), zero);
    const F correction = V::mul(V::sub(e, V::sub(u, one)), recip);
    const F head = V::fma(V::mul(V::set1(-0.5f), r.f), r.f, r.f);  // f - f^2/2, one rounding
    const F logf1 = V::fma(V::mul(V::mul(r.f, r.f), r.f), r.q, head);
    return V::add(V::add(logf1, V::add(kLo, correction)), kHi);
  }

  // The same in double from the same reduction (f and the rounding error e - (u - 1) are exact floats; q is
  // float but scaled by f^3, at most 6% of the result), for the precise path: within about 0.1 float ulp.
  // 1 / x in double from a float approximation (within a few float ulps): one Newton step squares the
  // relative error, to about 2^-46, in two fmas (a double division costs several times more).
  static FUSED_BCE_INLINE typename V::D reciprocal(typename V::D x, F approx) {
    const typename V::D r = V::widen(approx);
    return V::dfma(r, V::dfma(V::dsub(V::dset1(0.0), x), r, V::dset1(1.0)), r);
  }

  static FUSED_BCE_INLINE typename V::D log1pOfExpPrecise(F e, F u, F recip) {
    using D = typename V::D;
    const LogReduced r = logReduce(u);
    const D f = V::widen(r.f);
    const D f2 = V::dmul(f, f);
    const D head = V::dfma(V::dset1(-0.5), f2, f);
    const D logf1 = V::dfma(V::dmul(f2, f), V::widen(r.q), head);
    const D correction = V::dmul(V::widen(V::sub(e, V::sub(u, V::set1(1.0f)))), reciprocal(V::widen(u), recip));
    const D k = V::dselect(r.aboveSqrt2, V::dset1(0.69314718055994530942), V::dset1(0.0));
    return V::dadd(V::dadd(logf1, correction), k);
  }
};

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
