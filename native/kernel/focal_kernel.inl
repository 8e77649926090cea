// The focal loss (Lin et al. 2017, torchvision's sigmoid_focal_loss) on smoothed targets, in the BCE kernel's
// spans (bce_kernel.inl runs it as Path::kFocal). The structure and names mirror src/backends/js/focal-kernel.ts.
// Per element, t = y' (smoothed as for BCE), negTarget = 1 - t, e = e^-|x|, p = sigmoid(x):
//   q = 1 - p_t = p (1 - t) + (1 - p) t = (lin + oth e) / (1 + e),
//       lin, oth = (negTarget, t) for x >= 0, (t, negTarget) for x < 0   (a sum of non-negative terms)
//   bce = BCEWithLogits(x, t) with posWeight (bce_kernel.inl's formulas), bce' its derivative in x
//   loss = w alpha_t q^gamma bce,  alpha_t = alpha t + (1 - alpha) negTarget (1 without alpha)
//   grad = w alpha_t scale (d(q^gamma)/dx bce + q^gamma bce'),  d(q^gamma)/dx = gamma q^gamma r (1 - 2t),
//       r = q'/(q (1 - 2t)) = p (1 - p) / q = e / ((1 + e)(lin + oth e))
// Two paths, as for BCE:
// - fast (no posWeight): bce in float as the BCE kernel's fast path forms it, bce' as its core (one float fma)
//   times 1 / (1 + e) in double (or the core into focalStore's product form), the focal factor q^gamma and its
//   slope in double from e^-|x| in double (FocalMath::expSplit: the float exp and its residual), and the products in
//   double, rounded once;
// - precise (posWeight): everything from e on in double.
// The focal factor, so that no step loses what the float32 result shows:
// - integer gamma (0 to 8): q from its sum, q^gamma by multiplication, d(q^gamma)/dx = gamma q^(gamma-1) p (1-p)
//   (1 - 2t), one finite product;
// - half-integer gamma (k + 1/2, k from 1 to 8): the same with q^(gamma-1) = q^(k-1) sqrt(q);
// - gamma = 1/2 where q is in float's range: sqrt(q), r = p (1 - p) / q;
// - other gamma: q^gamma = e^(gamma log q), log q of q itself where q is in float's range (r = p (1 - p) / q from
//   it), else log q = log(big) + log1p(small / big) - log1p(e) with big the larger of lin and oth e and
//   log(oth e) = log(oth) - |x| exact, so that q keeps its relative accuracy where e underflows, and r from the
//   same split: finite for every gamma (gamma < 1 gives no inf * 0 at saturated logits).
// |x| > 200 counts as infinite for e (e^-200 is far below what any float32 result shows); q^gamma below e^-200 is
// 0 from the logarithm (from q^k sqrt(q) it rounds to 0 in the float32 results). Targets must be in [0, 1] (the
// options refuse negative smoothing with focal): a float target outside gives NaN for its element (unless its
// weight is 0: a weight of 0 masks whatever the target, as for BCE).
namespace fused_bce {
namespace FUSED_BCE_TARGET {

// How q^gamma is formed, fixed per call: by multiplication (integer gamma from 0 to 8), by multiplication and one
// square root (gamma = k + 1/2, k from 1 to 8), or in focalFactorGeneral (any other gamma).
enum class FocalPower { kInteger, kHalfInteger, kGeneral };

template <class V>
struct FocalConstants {
  using D = typename V::D;
  double gamma = 0;
  FocalPower power = FocalPower::kGeneral;
  int multiplications = 0;    // kInteger, kHalfInteger: q^(gamma - 1) is this many factors q (times sqrt(q))
  int integerGamma = -1;      // gamma when it is an integer from 0 to 8, else -1
  int halfIntegerGamma = -1;  // k where gamma = k + 1/2 with k from 0 to 8, else -1
  bool hasAlpha = false;
  D gammaD, alphaD, oneMinusAlphaD;
  bool alphaMayMask = false;  // alpha_t can be 0 (alpha 0 or 1): then it masks
  // Uint8 labels: the two smoothed values t1 (label 1) and t0 (label 0), their logs and reciprocals, alpha_t, and
  // gamma (1 - 2t).
  D t1, t0, logT1, logT0, invT1, invT0, alphaT1, alphaT0, gammaSlope1, gammaSlope0;
  // Uint8 labels, the product form's gradient (focalStore): alpha_t gradScale and gamma (1 - 2t) alpha_t gradScale.
  D gradWeight1, gradWeight0, slopeWeight1, slopeWeight0;

  explicit FocalConstants(const KernelArgs& a) {
    if (!isFocal(a)) return;  // a BCE call: nothing here is read
    gamma = a.focalGamma < 0 ? 0 : a.focalGamma;
    if (gamma <= 8 && gamma == static_cast<double>(static_cast<int>(gamma))) integerGamma = static_cast<int>(gamma);
    const double belowHalf = gamma - 0.5;  // (exact for gamma below 2^52)
    if (belowHalf >= 0 && belowHalf <= 8 && belowHalf == static_cast<double>(static_cast<int>(belowHalf))) {
      halfIntegerGamma = static_cast<int>(belowHalf);
    }
    if (integerGamma >= 0) power = FocalPower::kInteger, multiplications = integerGamma - 1;
    else if (halfIntegerGamma >= 1) power = FocalPower::kHalfInteger, multiplications = halfIntegerGamma - 1;
    hasAlpha = a.focalAlpha >= 0;
    gammaD = V::dset1(gamma);
    alphaD = V::dset1(hasAlpha ? a.focalAlpha : 0.0);
    oneMinusAlphaD = V::dset1(hasAlpha ? 1 - a.focalAlpha : 0.0);
    const double one = a.smoothScale + a.smoothShift, zero = a.smoothShift;
    t1 = V::dset1(one);
    t0 = V::dset1(zero);
    logT1 = V::dset1(std::log(one));
    logT0 = V::dset1(std::log(zero));
    invT1 = V::dset1(1 / one);
    invT0 = V::dset1(1 / zero);
    const double alpha1 = hasAlpha ? a.focalAlpha * one + (1 - a.focalAlpha) * zero : 1.0;  // alpha_t per label
    const double alpha0 = hasAlpha ? a.focalAlpha * zero + (1 - a.focalAlpha) * one : 1.0;
    alphaT1 = V::dset1(alpha1);
    alphaT0 = V::dset1(alpha0);
    alphaMayMask = hasAlpha && (a.focalAlpha == 0 || a.focalAlpha == 1);
    gammaSlope1 = V::dset1(gamma * (zero - one));  // 1 - 2 t1 = (1 - t1) - t1 = t0 - t1
    gammaSlope0 = V::dset1(gamma * (one - zero));
    gradWeight1 = V::dset1(alpha1 * a.gradScale);
    gradWeight0 = V::dset1(alpha0 * a.gradScale);
    slopeWeight1 = V::dset1(gamma * (zero - one) * alpha1 * a.gradScale);
    slopeWeight0 = V::dset1(gamma * (one - zero) * alpha0 * a.gradScale);
  }
};

// q^gamma and d(q^gamma)/dx of a vector; for integer and half-integer gamma also what the product form of the
// gradient takes (focalStore): q^(gamma - 1) / (1 + e)^2 and u = q (1 + e) = lin + oth e.
template <class V>
struct FocalFactor {
  typename V::D focal, slope;
  typename V::D gradFactor, sum;
};

// 1 / v for v > 0 in double, also below float's normal range (v < 2^-100 is scaled by 2^64 for the estimate).
template <class V>
FUSED_BCE_INLINE typename V::D reciprocalOfPositive(typename V::D v) {
  using D = typename V::D;
  const auto tiny = V::lt(V::narrow(v), V::set1(0x1p-100f));
  const D scaled = V::dselect(tiny, V::dmul(v, V::dset1(0x1p64)), v);
  const D r = BceMath<V>::reciprocalPrecise(scaled, V::reciprocalEstimate(V::narrow(scaled)));
  return V::dselect(tiny, V::dmul(r, V::dset1(0x1p64)), r);
}

// lin, oth and what the log-space form needs of them: for hard labels the constants' logs and reciprocals,
// selected per lane; for float targets computed here.
// The targets of a vector as the factor needs them: lin and oth (above), gamma (1 - 2t), and for Uint8 labels the
// mask of the lanes whose lin is t1 (their logs and reciprocals are the constants').
template <class V>
struct FocalTargets {
  typename V::D lin, oth, gammaSlope;
  typename V::M linOne;
};

template <class V, bool kU8>
FUSED_BCE_INLINE FocalTargets<V> focalTargets(const FocalConstants<V>& fc, const Constants<V>& c, typename V::M nonNegative,
                                              typename V::M isOne, typename V::D target, typename V::D negTarget) {
  FocalTargets<V> out;
  if constexpr (kU8) {
    // lin is t1 (the smoothed label 1) exactly where (label 1) == (x < 0), i.e. (label 1) != (x >= 0).
    out.linOne = V::maskXor(isOne, nonNegative);
    out.lin = V::dselect(out.linOne, fc.t1, fc.t0);
    out.oth = V::dselect(out.linOne, fc.t0, fc.t1);
    out.gammaSlope = V::dselect(isOne, fc.gammaSlope1, fc.gammaSlope0);
  } else {
    out.linOne = V::firstLanes(0);
    out.lin = V::dselect(nonNegative, negTarget, target);
    out.oth = V::dselect(nonNegative, target, negTarget);
    out.gammaSlope = V::dmul(fc.gammaD, V::dsub(negTarget, target));
  }
  return out;
}

// Non-integer gamma where q leaves float's range: in log space from lin and oth e, log q = log(big) +
// log1p(small / big) - log1p(e), big the larger of lin and oth e, log(oth e) = log(oth) - |x| exact. Out of line
// (rare; and one copy for every loss/gradient variant).
template <class V, bool kU8>
FUSED_BCE_NOINLINE FocalFactor<V> focalFactorLogSpace(const FocalConstants<V>& fc, const Constants<V>& c,
                                                      const typename BceMath<V>::Tables& tab, const typename V::F& absX,
                                                      const FocalTargets<V>& t, const typename V::D& e) {
  using F = typename V::F;
  using D = typename V::D;
  using Focal = FocalMath<V>;
  const D zeroD = c.zeroD, oneD = c.oneD;
  const D lin = t.lin, oth = t.oth;
  FocalFactor<V> out{oneD, zeroD, zeroD, zeroD};
  D logLin, logOth, invLin, invOth;
  if constexpr (kU8) {
    const auto linOne = t.linOne;
    logLin = V::dselect(linOne, fc.logT1, fc.logT0);
    logOth = V::dselect(linOne, fc.logT0, fc.logT1);
    invLin = V::dselect(linOne, fc.invT1, fc.invT0);
    invOth = V::dselect(linOne, fc.invT0, fc.invT1);
  } else {
    logLin = Focal::logUnitDouble(tab, lin);
    logOth = Focal::logUnitDouble(tab, oth);
    invLin = reciprocalOfPositive<V>(lin);
    invOth = reciprocalOfPositive<V>(oth);
  }
  const D othE = V::dmul(oth, e);
  const F linF = V::narrow(lin);
  // oth e is the larger where lin is below it or 0 (then small / big = 0 whatever e is).
  const auto othBig = V::lt(linF, V::maxKeepNan(V::narrow(othE), V::set1(0x1p-149f)));
  const D invE = reciprocalOfPositive<V>(e);
  // (0 where the numerator is: the reciprocals are not finite where lin, oth or e is 0, in the lanes not selected)
  const D linOverOthE = V::dselect(V::eq(linF, c.zero), zeroD, V::dmul(V::dmul(lin, invOth), invE));
  const D othEOverLin = V::dselect(V::eq(V::narrow(othE), c.zero), zeroD, V::dmul(othE, invLin));
  const D ratio = V::dselect(othBig, linOverOthE, othEOverLin);  // small / big, in [0, 1]
  const D logBig = V::dselect(othBig, V::dsub(logOth, V::widen(absX)), logLin);
  const D logQ = V::dsub(V::dadd(logBig, Focal::log1pDouble(tab, ratio)), Focal::log1pDouble(tab, e));
  const D power = V::dmul(fc.gammaD, logQ);
  const auto vanishes = V::lt(V::narrow(power), V::set1(-200.0f));
  out.focal = V::dselect(vanishes, zeroD, Focal::expDouble(tab, V::dselect(vanishes, V::dset1(-200.0), power)));
  const D onePlusRatio = V::dadd(oneD, ratio);
  const D denominator = V::dmul(onePlusRatio, V::dadd(oneD, e));
  const D eOverLin = V::dselect(V::eq(V::narrow(e), c.zero), zeroD, V::dmul(e, invLin));
  const D r = V::dmul(V::dselect(othBig, invOth, eOverLin),
                      BceMath<V>::reciprocalPrecise(denominator, V::reciprocalEstimate(V::narrow(denominator))));
  out.slope = V::dmul(V::dmul(out.focal, r), t.gammaSlope);
  return out;
}


// Gamma neither an integer nor k + 1/2 with k >= 1: where q is in float's range (all but confident lanes whose lin
// is 0 or tiny), q from its sum in double, q^gamma as sqrt(q) for gamma = 1/2 and from log q of q itself otherwise,
// and q^(gamma - 1) p (1 - p) as q^gamma e / ((1 + e)^2 q). Out of line: one copy for every loss/gradient variant
// (the WebAssembly module's size).
template <class V, bool kU8>
FUSED_BCE_NOINLINE FocalFactor<V> focalFactorGeneral(const FocalConstants<V>& fc, const Constants<V>& c,
                                                     const typename BceMath<V>::Tables& tab, const typename V::F& absX,
                                                     const FocalTargets<V>& t, const typename V::D& e,
                                                     const typename V::D& recip) {
  using F = typename V::F;
  using D = typename V::D;
  using Focal = FocalMath<V>;
  const D q = V::dmul(V::dfma(t.oth, e, t.lin), recip);
  const F qF = V::narrow(q);
  if (FUSED_BCE_UNLIKELY(V::any(V::lt(qF, V::set1(0x1p-100f))))) return focalFactorLogSpace<V, kU8>(fc, c, tab, absX, t, e);
  FocalFactor<V> out;
  if (fc.halfIntegerGamma == 0) {
    out.focal = V::dsqrt(q);  // (gamma 1/2)
  } else {
    const D power = V::dmul(fc.gammaD, Focal::logUnitDouble(tab, q));
    const auto vanishes = V::lt(V::narrow(power), V::set1(-200.0f));
    out.focal = V::dselect(vanishes, c.zeroD, Focal::expDouble(tab, V::dselect(vanishes, V::dset1(-200.0), power)));
  }
  const D invQ = BceMath<V>::reciprocalPrecise(q, V::reciprocalEstimate(qF));
  const D r = V::dmul(V::dmul(V::dmul(e, recip), recip), invQ);
  out.slope = V::dmul(V::dmul(out.focal, r), t.gammaSlope);
  return out;
}

// q^gamma and d(q^gamma)/dx: integer and half-integer gamma (FocalPower::kInteger, kHalfInteger) by
// multiplication, here; other gamma in focalFactorGeneral. kPower fixes the kind where the caller knows it, so that
// no call to the general path is compiled in (its arguments, passed by reference, were spilled to the stack for
// every vector: AVX-512 gamma 2, the loss alone, 1.00 -> 0.86 ns per element); kGeneral decides per call.
// q^(gamma - 1) p (1 - p) is one finite product, and no reciprocal of q is formed: q may be 0 or subnormal in
// double (a saturated logit with lin = 0), where q^gamma and the slope are 0.
template <class V, bool kU8, FocalPower kPower>
FUSED_BCE_INLINE FocalFactor<V> focalFactor(const FocalConstants<V>& fc, const Constants<V>& c,
                                            const typename BceMath<V>::Tables& tab, typename V::F absX,
                                            const FocalTargets<V>& t, typename V::D e, typename V::D recip) {
  using D = typename V::D;
  if constexpr (kPower == FocalPower::kGeneral) {
    if (fc.power == FocalPower::kInteger) return focalFactor<V, kU8, FocalPower::kInteger>(fc, c, tab, absX, t, e, recip);
    if (fc.power == FocalPower::kHalfInteger) return focalFactor<V, kU8, FocalPower::kHalfInteger>(fc, c, tab, absX, t, e, recip);
    return focalFactorGeneral<V, kU8>(fc, c, tab, absX, t, e, recip);
  } else {
    const D oneD = c.oneD;
    FocalFactor<V> out{oneD, c.zeroD, recip, oneD};
    if (kPower == FocalPower::kInteger && fc.integerGamma == 0) return out;
    const D sum = V::dfma(t.oth, e, t.lin);
    const D q = V::dmul(sum, recip);
    D qPowLess = kPower == FocalPower::kHalfInteger ? V::dsqrt(q) : oneD;  // q^(gamma - 1)
    if (kPower == FocalPower::kInteger && fc.multiplications == 1) qPowLess = q;  // (gamma 2 without the loop's branches)
    else for (int k = 0; k < fc.multiplications; ++k) qPowLess = V::dmul(qPowLess, q);
    out.focal = V::dmul(qPowLess, q);
    const D sigmoidSlope = V::dmul(V::dmul(e, recip), recip);  // p (1 - p)
    out.slope = V::dmul(V::dmul(qPowLess, sigmoidSlope), t.gammaSlope);
    out.gradFactor = V::dmul(qPowLess, V::dmul(recip, recip));
    out.sum = sum;
    return out;
  }
}

// Targets outside [0, 1] or NaN, by value (-0 is inside, unlike V::notInUnitInterval's test of the bits).
template <class V>
FUSED_BCE_INLINE typename V::M outsideUnitInterval(const Constants<V>& c, typename V::F y) {
  const typename V::F inside = V::select(V::ge(y, c.zero), V::select(V::ge(c.one, y), c.one, c.zero), c.zero);
  return V::eq(inside, c.zero);
}

// w alpha_t of a vector (alpha_t a constant per label for Uint8 labels), and the lanes it masks: a weight of 0 (w,
// or alpha_t) masks whatever the logit and target, as for BCE (w = 0 also where alpha_t is NaN).
template <class V>
struct FocalWeight {
  typename V::D weight;
  typename V::M masked;
  bool mayMask;
  bool applies;  // false: the weight is 1 in every lane (no alpha, no weight), and the products skip it
};

template <class V, bool kU8, bool kUnweighted>
FUSED_BCE_INLINE FocalWeight<V> focalWeight(const SpanStreams& s, size_t i, const FocalConstants<V>& fc, const Constants<V>& c,
                                            typename V::M isOne, typename V::D target, typename V::D negTarget) {
  using F = typename V::F;
  FocalWeight<V> out{c.oneD, V::firstLanes(0), false, fc.hasAlpha};
  if constexpr (kU8) {
    if (fc.hasAlpha) out.weight = V::dselect(isOne, fc.alphaT1, fc.alphaT0);
  } else {
    if (fc.hasAlpha) out.weight = V::dfma(fc.alphaD, target, V::dmul(fc.oneMinusAlphaD, negTarget));
  }
  F maskedF = c.zero;
  if (!kUnweighted && fc.alphaMayMask) {
    maskedF = V::select(V::eq(V::narrow(out.weight), c.zero), c.one, c.zero);
    out.mayMask = true;
  }
  if (!kUnweighted && (s.weight != nullptr || s.weightConst != 1.0f)) {
    const F w = s.weight ? V::load(s.weight + i) : V::set1(s.weightConst);
    out.weight = V::dmul(out.weight, V::widen(w));
    maskedF = V::select(V::eq(w, c.zero), c.one, maskedF);
    out.mayMask = true;
    out.applies = true;
  }
  if (out.mayMask) out.masked = V::eq(maskedF, c.one);
  return out;
}

// The gradient's scale of a vector: w alpha_t gradScale, times the upstream gradient.
template <class V>
FUSED_BCE_INLINE typename V::D focalGradScale(const SpanStreams& s, size_t i, const Constants<V>& c,
                                              const FocalWeight<V>& weighting) {
  typename V::D scale = weighting.applies ? V::dmul(weighting.weight, c.gradScaleD) : c.gradScaleD;
  if (s.gradOutput) scale = V::dmul(scale, V::widen(V::load(s.gradOutput + i)));
  return scale;
}

// The loss and gradient of a vector from bce, bce' and the factor (all in double), stored. mayBeInfinite: bce can
// be infinite in some lane (an infinite logit, or posWeight). The gradient in one of two forms:
// - the slope form: w alpha_t scale (q^gamma bce' + d(q^gamma)/dx bce), from bceSlope = bce';
// - the product form (kProductForm: integer and half-integer gamma, bce' from its float core): the same with the
//   factors the two terms share taken out, q^(gamma - 1) / (1 + e)^2 (u core + gamma (1 - 2t) e bce), from
//   bceSlope = core = bce' (1 + e) and u = q (1 + e); without a weight or an upstream gradient (kUnweighted) the
//   scale goes into the terms' factors, constants per label for Uint8 labels. Two multiplications fewer per double
//   vector (AVX-512 on AMD Zen 5, gamma 1.5: 5% faster with kUnweighted; gamma 2 the same).
template <class V, bool kU8, bool kLoss, bool kGrad, bool kTail, bool kProductForm, bool kUnweighted>
FUSED_BCE_INLINE void focalStore(const SpanStreams& s, size_t i, const FocalConstants<V>& fc, const Constants<V>& c,
                                 typename V::Acc& acc, typename V::M valid, typename V::M outsideUnit,
                                 const FocalWeight<V>& weighting, typename V::D bce, typename V::D bceSlope,
                                 const FocalFactor<V>& factor, bool mayBeInfinite, typename V::M isOne,
                                 typename V::D e, typename V::D gammaSlope) {
  using F = typename V::F;
  using D = typename V::D;
  const D weight = weighting.weight;
  const bool mayMask = weighting.mayMask;
  const auto masked = weighting.masked;
  const D nanD = V::dset1(std::numeric_limits<double>::quiet_NaN());
  if constexpr (kLoss) {
    // The loss in double: the sum adds it unrounded (as the TypeScript kernel's does), only lossOut rounds it.
    D loss = V::dmul(factor.focal, bce);
    if (weighting.applies) loss = V::dmul(loss, weight);
    if (FUSED_BCE_UNLIKELY(mayBeInfinite)) {
      // An infinite logit's bce is formed from |x| capped at 1e300 where it runs in double: a loss beyond float's
      // range is taken as the float's infinity (the sum is then not finite, and recomputed in float64 if its
      // terms are; see runAll).
      const F rounded = V::narrow(loss);
      loss = V::dselect(V::eq(V::abs(rounded), V::set1(INFINITY)), V::widen(rounded), loss);
    }
    if constexpr (!kU8) loss = V::dselect(outsideUnit, nanD, loss);
    if (mayMask) loss = V::dselect(masked, c.zeroD, loss);
    if (s.lossOut) V::storeNarrowed(s.lossOut + i, loss);
    if (s.wantLossSum) V::accumulateDouble(acc, kTail ? V::dselect(valid, loss, c.zeroD) : loss);
  }
  if constexpr (kGrad) {
    D grad;
    if constexpr (kProductForm) {
      // The scale folds into the two terms' factors where it is finite for certain (kUnweighted: no weight, no
      // upstream gradient; an infinite one multiplies the sum, as in the slope form).
      constexpr bool foldScale = kUnweighted;
      D gradWeight = c.oneD, slopeWeight = gammaSlope;
      if constexpr (foldScale) {
        if constexpr (kU8) {
          gradWeight = fc.hasAlpha ? V::dselect(isOne, fc.gradWeight1, fc.gradWeight0) : c.gradScaleD;
          slopeWeight = V::dselect(isOne, fc.slopeWeight1, fc.slopeWeight0);
        } else {
          gradWeight = weighting.applies ? V::dmul(weight, c.gradScaleD) : c.gradScaleD;
          slopeWeight = V::dmul(gammaSlope, gradWeight);
        }
      }
      D slopeTerm = V::dmul(V::dmul(slopeWeight, e), bce);
      if (FUSED_BCE_UNLIKELY(mayBeInfinite)) {
        // An infinite bce comes with e = 0 (|x| > 200): the term's limit is 0 (as in the slope form).
        slopeTerm = V::dselect(V::eq(V::abs(V::narrow(bce)), V::set1(INFINITY)), c.zeroD, slopeTerm);
      }
      grad = V::dmul(factor.gradFactor, V::dfma(factor.sum, foldScale ? V::dmul(bceSlope, gradWeight) : bceSlope, slopeTerm));
      if constexpr (!foldScale) grad = V::dmul(grad, focalGradScale<V>(s, i, c, weighting));
    } else {
      D slopeTerm = V::dmul(factor.slope, bce);
      if (FUSED_BCE_UNLIKELY(mayBeInfinite)) {
        // Where the factor's slope is 0 in float (at infinite logits) and bce is not finite, their product is taken
        // as the limit 0 (as src/backends/js/focal-kernel.ts does).
        const F bceF = V::narrow(bce);
        const F notFinite = V::select(V::lt(V::abs(bceF), V::set1(INFINITY)), c.zero, c.one);
        const F limitZero = V::select(V::eq(V::narrow(factor.slope), c.zero), notFinite, c.zero);
        slopeTerm = V::dselect(V::eq(limitZero, c.one), c.zeroD, slopeTerm);
      }
      grad = V::dmul(V::dfma(factor.focal, bceSlope, slopeTerm), focalGradScale<V>(s, i, c, weighting));
    }
    if constexpr (!kU8) grad = V::dselect(outsideUnit, nanD, grad);
    if (mayMask) grad = V::dselect(masked, c.zeroD, grad);
    V::storeNarrowed(s.gradOut + i, grad);
  }
}

// The fast path's first stage for one vector: e^-|x| (|x| capped at 200) as FocalMath::expSplit gives it, a float
// and its residual; where some lane is below float's normal range (|x| > 87.3: tiny), also e^-|x| in double for the
// vector (0 beyond |x| = 200). runSpan runs it over a chunk into L1 buffers, then the second stage over the chunk:
// one vector's work is a long chain of dependent steps, and split, more vectors' chains overlap (AVX-512: 1.3x over
// a first stage that also formed bce and bce', 1.13x over one pass). Two floats, not a float and a double: the
// second stage widens them from the buffers (V::widenLoad: no shuffle for the upper halves), and the first stage
// stores a third less (AMD Zen 5, over storing e^-|x| in double: AVX-512 1.08x at gamma 2 and 1.05x at gamma 1.5,
// AVX2 and SSE2 1.10x).
template <class V>
struct FocalFirstStage {
  typename V::F expSingle, expResidual;
  bool tiny;
  typename V::D expTiny;  // where tiny
};

template <class V>
FUSED_BCE_INLINE FocalFirstStage<V> focalFirstStage(const SpanStreams& s, size_t i, const Constants<V>& c,
                                                    const typename BceMath<V>::Tables& tab) {
  const typename V::F x = V::load(s.logits + i);
  const typename V::F t = V::maxKeepNan(V::negAbs(x), V::set1(-200.0f));
  const typename FocalMath<V>::ExpSplit e = FocalMath<V>::expSplit(tab, t);
  FocalFirstStage<V> out{e.single, e.residual, e.anySubnormal, c.zeroD};
  if (FUSED_BCE_UNLIKELY(e.anySubnormal)) {
    out.expTiny = V::dselect(V::lt(V::set1(200.0f), V::abs(x)), c.zeroD, FocalMath<V>::expSplitInDouble(tab, t, e));
  }
  return out;
}

// e^-|x| in double from the first stage: single + residual (as the chunk loop forms it from its buffers), or the
// tiny vector's.
template <class V>
FUSED_BCE_INLINE typename V::D focalExpDouble(const FocalFirstStage<V>& first) {
  if (FUSED_BCE_UNLIKELY(first.tiny)) return first.expTiny;
  return V::dadd(V::widen(first.expSingle), V::widen(first.expResidual));
}

// bce and bce' from e^-|x|: where the BCE kernel's fast path runs in double (V::kFastPathInDouble), as it forms
// them (bceInDouble, unrounded); else bce in float as fastVector forms it, and bce' = core / (1 + e) with the core
// in float (one fma, as fastVector's) and 1 / (1 + e) the second stage's in double (no float division steps, and
// no rounding of bce' to float).
template <class V>
struct FocalBce {
  typename V::D bce;
  typename V::D bceSlope;    // where V::kFastPathInDouble (else the second stage forms it from slopeCore)
  typename V::D slopeCore;   // bce' (1 + e), where !V::kFastPathInDouble
  typename V::D reciprocal;  // 1 / (1 + e) of the float e, where V::kFastPathInDouble
};

template <class V, bool kU8, bool kGrad>
FUSED_BCE_INLINE FocalBce<V> focalBce(const SpanStreams& s, size_t i, const Constants<V>& c,
                                      const typename BceMath<V>::Tables& tab, typename V::F x, typename V::F e) {
  using F = typename V::F;
  F smoothedTarget, negSmoothedTarget, negTarget;
  if constexpr (kU8) {
    const auto isOne = V::loadLabelIsOne(s.targetsU8 + i);
    smoothedTarget = V::select(isOne, c.smoothedOne, c.smoothedZero);
    negTarget = V::select(isOne, c.smoothedZero, c.smoothedOne);
    negSmoothedTarget = V::select(isOne, c.negSmoothedOne, c.negSmoothedZero);
  } else {
    const F y = V::load(s.targetsF32 + i);
    smoothedTarget = smooth<V>(c, y);
    negTarget = smooth<V>(c, V::sub(c.one, y));
    negSmoothedTarget = V::sub(c.zero, smoothedTarget);
  }
  const auto nonNegative = V::ge(x, c.zero);
  const F linearCoef = V::select(nonNegative, negTarget, negSmoothedTarget);
  const F expCoef = V::select(nonNegative, negSmoothedTarget, negTarget);
  if constexpr (V::kFastPathInDouble) {
    const DoubleStep<V> d = bceInDouble<V, true, kGrad>(c, x, linearCoef, expCoef, e);
    return {d.loss, d.slope, c.zeroD, d.reciprocal};
  } else {
    const F bce = V::add(V::mulUnlessZero(linearCoef, x), BceMath<V>::log1pOfExp(tab, e));
    return {V::widen(bce), c.zeroD, kGrad ? V::widen(V::fma(expCoef, e, linearCoef)) : c.zeroD, c.zeroD};
  }
}

// The second stage, from e^-|x| in float and in double: the focal factor in double and the products, stored (kPower:
// see focalFactor; kUnweighted: the call has no weight and no upstream gradient).
template <class V, bool kU8, bool kLoss, bool kGrad, bool kTail, FocalPower kPower, bool kUnweighted>
FUSED_BCE_INLINE void focalSecondStage(const SpanStreams& s, size_t i, const FocalConstants<V>& fc, const Constants<V>& c,
                                       const typename BceMath<V>::Tables& tab, typename V::Acc& acc, typename V::M valid,
                                       typename V::F expSingle, typename V::D eD) {
  using F = typename V::F;
  using D = typename V::D;
  const F x = V::load(s.logits + i);
  D targetD, negTargetD;
  typename V::M isOne = V::firstLanes(0), outsideUnit = V::firstLanes(0);
  if constexpr (kU8) {
    isOne = V::loadLabelIsOne(s.targetsU8 + i);
    targetD = V::dselect(isOne, fc.t1, fc.t0);
    negTargetD = V::dselect(isOne, fc.t0, fc.t1);
  } else {
    const F y = V::load(s.targetsF32 + i);
    outsideUnit = outsideUnitInterval<V>(c, y);
    const D yD = V::widen(y);
    targetD = V::dfma(yD, c.scaleD, c.shiftD);
    negTargetD = V::dfma(V::dsub(c.oneD, yD), c.scaleD, c.shiftD);
  }
  const auto nonNegative = V::ge(x, c.zero);
  const F absX = V::abs(x);
  FocalBce<V> bce = focalBce<V, kU8, kGrad>(s, i, c, tab, x, expSingle);
  // 1 / (1 + e): one double division (AVX-512 and AVX2 on AMD Zen 5, measured: 1.10-1.14x over a float estimate
  // refined in float and then in double; llvm-mca puts it at 0.96-0.97x the cycles on Sapphire Rapids, Alder Lake
  // and Skylake); where bce came in double, its 1 / (1 + float e) (within 2^-24 of this one), refined once in double.
  // The product form of the gradient (focalStore) where bce' comes as its float core and gamma's kind is known.
  constexpr bool kProductForm = !V::kFastPathInDouble && kPower != FocalPower::kGeneral;
  D recip;
  if constexpr (V::kFastPathInDouble) {
    recip = V::dfma(bce.reciprocal, V::dfma(V::dsub(V::dset1(-1.0), eD), bce.reciprocal, c.oneD), bce.reciprocal);
  } else {
    recip = V::ddiv(c.oneD, V::dadd(c.oneD, eD));
    if constexpr (kGrad) bce.bceSlope = kProductForm ? bce.slopeCore : V::dmul(bce.slopeCore, recip);
  }
  const FocalTargets<V> t = focalTargets<V, kU8>(fc, c, nonNegative, isOne, targetD, negTargetD);
  const FocalFactor<V> factor = focalFactor<V, kU8, kPower>(fc, c, tab, absX, t, eD, recip);
  focalStore<V, kU8, kLoss, kGrad, kTail, kProductForm, kUnweighted>(
      s, i, fc, c, acc, valid, outsideUnit, focalWeight<V, kU8, kUnweighted>(s, i, fc, c, isOne, targetD, negTargetD), bce.bce,
      bce.bceSlope, factor, V::any(V::eq(absX, V::set1(INFINITY))), isOne, eD, t.gammaSlope);
}

// Calls run(kind, unweighted) with the second stage's variant for a call, as integral constants: gamma's kind, and
// where the product form applies (focalStore), whether the call has neither a weight nor an upstream gradient.
template <class V, class Run>
FUSED_BCE_INLINE auto withFocalVariant(const FocalConstants<V>& fc, const SpanStreams& s, Run run) {
  using Integer = std::integral_constant<FocalPower, FocalPower::kInteger>;
  using HalfInteger = std::integral_constant<FocalPower, FocalPower::kHalfInteger>;
  using General = std::integral_constant<FocalPower, FocalPower::kGeneral>;
  if constexpr (!V::kFastPathInDouble) {
    const bool unweighted = s.weight == nullptr && s.weightConst == 1.0f && s.gradOutput == nullptr && !fc.alphaMayMask;
    if (fc.power == FocalPower::kInteger) return unweighted ? run(Integer{}, std::true_type{}) : run(Integer{}, std::false_type{});
    if (fc.power == FocalPower::kHalfInteger) return unweighted ? run(HalfInteger{}, std::true_type{}) : run(HalfInteger{}, std::false_type{});
  } else {
    if (fc.power == FocalPower::kInteger) return run(Integer{}, std::false_type{});
    if (fc.power == FocalPower::kHalfInteger) return run(HalfInteger{}, std::false_type{});
  }
  return run(General{}, std::false_type{});
}

// One vector of the fast path (no posWeight) at s[i..i + kWidth), both stages at once (the tail; and the same bits:
// the second stage of the call's variant, as focalChunks takes it; where the product form never applies, one second
// stage whose factor picks gamma's kind per call, with the same steps).
template <class V, bool kU8, bool kLoss, bool kGrad, bool kTail>
FUSED_BCE_INLINE void focalVector(const SpanStreams& s, size_t i, const FocalConstants<V>& fc, const Constants<V>& c,
                                  const typename BceMath<V>::Tables& tab, typename V::Acc& acc, typename V::M valid) {
  const FocalFirstStage<V> first = focalFirstStage<V>(s, i, c, tab);
  const typename V::D eD = focalExpDouble<V>(first);
  if constexpr (V::kFastPathInDouble) {
    focalSecondStage<V, kU8, kLoss, kGrad, kTail, FocalPower::kGeneral, false>(s, i, fc, c, tab, acc, valid, first.expSingle, eD);
  } else {
    withFocalVariant<V>(fc, s, [&](auto power, auto unweighted) {
      focalSecondStage<V, kU8, kLoss, kGrad, kTail, decltype(power)::value, decltype(unweighted)::value>(s, i, fc, c, tab, acc, valid,
                                                                                                       first.expSingle, eD);
    });
  }
}

// The fast path over a span's whole vectors in chunks of kExpChunkFloats: the first stage of the chunk into an L1
// buffer, then the second. Returns where the whole vectors end; their loss sum goes to *sum (its accumulator is
// this function's own, so that it can stay in registers).
template <class V, bool kU8, bool kLoss, bool kGrad, FocalPower kPower, bool kUnweighted>
FUSED_BCE_INLINE size_t focalChunksFor(const SpanStreams& streams, size_t n, const Constants<V>& constants,
                                       const typename BceMath<V>::Tables& tab, double* sum) {
  constexpr size_t W = V::kWidth;
  // Local copies: the loop's stores could alias the callers' objects, and every vector reloaded them from memory.
  const SpanStreams s = streams;
  const Constants<V> c = constants;
  const FocalConstants<V> fc = *constants.focal;
  typename V::Acc acc;
  alignas(64) float expSingle[kExpChunkFloats];
  alignas(64) float expResidual[kExpChunkFloats];
  alignas(64) double expTiny[kExpChunkFloats];  // the tiny vectors' e^-|x| in double (focalFirstStage)
  bool tinyAt[kExpChunkFloats / W];
  const size_t whole = n - n % W;
  for (size_t begin = 0; begin < whole; begin += kExpChunkFloats) {
    const size_t end = whole - begin < kExpChunkFloats ? whole : begin + kExpChunkFloats;
    bool anyTiny = false;
    for (size_t j = begin; j < end; j += W) {
      prefetchStreams<W, kU8, kGrad>(s, j + kPrefetchFloats);
      const FocalFirstStage<V> first = focalFirstStage<V>(s, j, c, tab);
      V::store(expSingle + (j - begin), first.expSingle);
      V::store(expResidual + (j - begin), first.expResidual);
      tinyAt[(j - begin) / W] = first.tiny;
      if (FUSED_BCE_UNLIKELY(first.tiny)) {
        V::dstore(expTiny + (j - begin), first.expTiny);
        anyTiny = true;
      }
    }
    for (size_t j = begin; j < end; j += W) {
      // focalExpDouble's value, from the buffers
      const typename V::D eD = FUSED_BCE_UNLIKELY(anyTiny && tinyAt[(j - begin) / W])
                                   ? V::dload(expTiny + (j - begin))
                                   : V::dadd(V::widenLoad(expSingle + (j - begin)), V::widenLoad(expResidual + (j - begin)));
      focalSecondStage<V, kU8, kLoss, kGrad, false, kPower, kUnweighted>(s, j, fc, c, tab, acc, V::firstLanes(W),
                                                                          V::load(expSingle + (j - begin)), eD);
    }
  }
  *sum = V::total(acc);
  return whole;
}

// focalChunksFor with gamma's kind fixed: an integer (the common gamma = 2), k + 1/2, or any.
template <class V, bool kU8, bool kLoss, bool kGrad>
FUSED_BCE_INLINE size_t focalChunks(const SpanStreams& s, size_t n, const Constants<V>& c,
                                    const typename BceMath<V>::Tables& tab, double* sum) {
  return withFocalVariant<V>(*c.focal, s, [&](auto power, auto unweighted) {
    return focalChunksFor<V, kU8, kLoss, kGrad, decltype(power)::value, decltype(unweighted)::value>(s, n, c, tab, sum);
  });
}

// One vector of the precise path (posWeight) at s[i..i + kWidth): everything from e on in double.
template <class V, bool kU8, bool kLoss, bool kGrad, bool kTail>
FUSED_BCE_NOINLINE void focalPreciseVector(const SpanStreams& s, size_t i, const FocalConstants<V>& fc,
                                           const Constants<V>& c, const typename BceMath<V>::Tables& tab,
                                           typename V::Acc& acc, typename V::M valid) {
  using F = typename V::F;
  using D = typename V::D;
  using Math = BceMath<V>;
  using Focal = FocalMath<V>;
  const F x = V::load(s.logits + i);
  const D zeroD = c.zeroD, oneD = c.oneD;
  const auto nonNegative = V::ge(x, c.zero);
  D target, negTarget;
  typename V::M isOne = V::firstLanes(0), outsideUnit = V::firstLanes(0);
  if constexpr (kU8) {
    isOne = V::loadLabelIsOne(s.targetsU8 + i);
    target = V::dselect(isOne, fc.t1, fc.t0);
    negTarget = V::dselect(isOne, fc.t0, fc.t1);
  } else {
    const F y = V::load(s.targetsF32 + i);
    outsideUnit = outsideUnitInterval<V>(c, y);
    const D yD = V::widen(y);
    target = V::dfma(yD, c.scaleD, c.shiftD);
    negTarget = V::dfma(V::dsub(oneD, yD), c.scaleD, c.shiftD);
  }
  const F absX = V::abs(x);
  const FocalFirstStage<V> first = focalFirstStage<V>(s, i, c, tab);
  const D e = focalExpDouble<V>(first);
  const D recip = Math::reciprocalPrecise(V::dadd(oneD, e), V::reciprocalEstimate(V::add(c.one, first.expSingle)));
  // bce and bce' as bce_kernel.inl's precise path (posWeight on the positive term); |x| capped at 1e300 so that
  // a zero coefficient times an infinite logit is the limit 0.
  const F p = s.posWeight ? V::load(s.posWeight + i) : V::set1(s.posWeightConst);
  const D posTarget = V::dmul(V::widen(p), target);
  const D softplusWeight = V::dadd(negTarget, posTarget);
  const D linearCoef = V::dselect(nonNegative, negTarget, posTarget);
  const D bce = V::dfma(softplusWeight, Focal::log1pDouble(tab, e), V::dmul(linearCoef, V::dmin(V::widen(absX), V::dset1(1e300))));
  const D negPos = V::dsub(zeroD, posTarget);
  const D bceSlope = V::dmul(V::dselect(nonNegative, V::dfma(negPos, e, negTarget), V::dfma(negTarget, e, negPos)), recip);
  const FocalTargets<V> t = focalTargets<V, kU8>(fc, c, nonNegative, isOne, target, negTarget);
  const FocalFactor<V> factor = focalFactor<V, kU8, FocalPower::kGeneral>(fc, c, tab, absX, t, e, recip);
  focalStore<V, kU8, kLoss, kGrad, kTail, false, false>(s, i, fc, c, acc, valid, outsideUnit,
                                                       focalWeight<V, kU8, false>(s, i, fc, c, isOne, target, negTarget), bce,
                                                       bceSlope, factor, true, isOne, e, t.gammaSlope);
}

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
