// The focal loss (Lin et al. 2017, torchvision's sigmoid_focal_loss) on smoothed targets, in the BCE kernel's
// spans (bce_kernel.inl runs it as Path::kFocal). The structure and names mirror src/backends/js/focal-kernel.ts.
// Per element, t = y' (smoothed as for BCE), negTarget = 1 - t, e = e^-|x|, p = sigmoid(x):
//   q = 1 - p_t = p (1 - t) + (1 - p) t = (lin + oth e) / (1 + e),
//       lin, oth = (negTarget, t) for x >= 0, (t, negTarget) for x < 0   (a sum of non-negative terms)
//   bce = BCEWithLogits(x, t) with posWeight (bce_kernel.inl's formulas), bce' its derivative in x
//   loss = w alpha_t q^gamma bce,  alpha_t = alpha t + (1 - alpha) negTarget (1 without alpha)
//   grad = w alpha_t scale (d(q^gamma)/dx bce + q^gamma bce'),  d(q^gamma)/dx = gamma q^gamma r (1 - 2t),
//       r = q'/(q (1 - 2t)) = p (1 - p) / q = e / ((1 + e)(lin + oth e))
// Everything from e on is in double and rounded once, e^-|x| and q^gamma by FocalMath's double exp, so that no
// step loses what the float32 result shows:
// - integer gamma (0 to 8): q from its sum, q^gamma by multiplication, d(q^gamma)/dx = gamma q^(gamma-1) p (1-p)
//   (1 - 2t), one finite product;
// - other gamma: q^gamma = e^(gamma log q) in log space, log q = log(big) + log1p(small / big) - log1p(e) with
//   big the larger of lin and oth e, and log(oth e) = log(oth) - |x| exact, so that q keeps its relative accuracy
//   where e underflows; r from the same split, finite for every gamma (gamma < 1 gives no inf * 0 at
//   saturated logits).
// |x| > 200 counts as infinite for e (e^-200 is far below what any float32 result shows); q^gamma below e^-200 is
// 0. Targets must be in [0, 1] (the options refuse negative smoothing with focal): a float target outside gives
// NaN for its element.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

template <class V>
struct FocalConstants {
  using D = typename V::D;
  double gamma = 0;
  int integerGamma = -1;  // gamma when it is an integer from 0 to 8, else -1
  bool hasAlpha = false;
  D gammaD, alphaD, oneMinusAlphaD;
  // Uint8 labels: the two smoothed values t1 (label 1) and t0 (label 0), their logs and reciprocals.
  D t1, t0, logT1, logT0, invT1, invT0;

  explicit FocalConstants(const KernelArgs& a) {
    gamma = a.focalGamma < 0 ? 0 : a.focalGamma;
    if (gamma <= 8 && gamma == static_cast<double>(static_cast<int>(gamma))) integerGamma = static_cast<int>(gamma);
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
  }
};

// One vector of the focal loss at s[i..i + kWidth).
template <class V, bool kU8, bool kLoss, bool kGrad, bool kTail>
FUSED_BCE_NOINLINE void focalVector(const SpanStreams& s, size_t i, const FocalConstants<V>& fc, const Constants<V>& c,
                                    const typename BceMath<V>::Tables& tab, typename V::Acc& acc, typename V::M valid) {
  using F = typename V::F;
  using D = typename V::D;
  using Math = BceMath<V>;
  using Focal = FocalMath<V>;
  const F x = V::load(s.logits + i);
  const D zeroD = c.zeroD, oneD = c.oneD;
  const auto nonNegative = V::ge(x, c.zero);

  // t and 1 - t (both >= 0), and for hard labels the logs and reciprocals of lin and oth from the constants.
  D target, negTarget, logLin, logOth, invLin, invOth;
  typename V::M outsideUnit = V::firstLanes(0);
  if constexpr (kU8) {
    const auto isOne = V::loadLabelIsOne(s.targetsU8 + i);
    target = V::dselect(isOne, fc.t1, fc.t0);
    negTarget = V::dselect(isOne, fc.t0, fc.t1);
    // lin is negTarget for x >= 0 and t for x < 0: t1 exactly where (label 1) == (x < 0).
    const F linIsT1 = V::select(isOne, V::select(nonNegative, c.zero, c.one), V::select(nonNegative, c.one, c.zero));
    const auto linOne = V::eq(linIsT1, c.one);
    logLin = V::dselect(linOne, fc.logT1, fc.logT0);
    logOth = V::dselect(linOne, fc.logT0, fc.logT1);
    invLin = V::dselect(linOne, fc.invT1, fc.invT0);
    invOth = V::dselect(linOne, fc.invT0, fc.invT1);
  } else {
    const F y = V::load(s.targetsF32 + i);
    outsideUnit = V::notInUnitInterval(y);
    const D yD = V::widen(y);
    target = V::dfma(yD, c.scaleD, c.shiftD);
    negTarget = V::dfma(V::dsub(oneD, yD), c.scaleD, c.shiftD);
  }
  const D lin = V::dselect(nonNegative, negTarget, target);
  const D oth = V::dselect(nonNegative, target, negTarget);

  // e = e^-|x| in double; 0 beyond |x| = 200 (and for infinite x).
  const F absX = V::abs(x);
  const auto saturated = V::lt(V::set1(200.0f), absX);
  const D e = V::dselect(saturated, zeroD, Focal::expDouble(tab, V::widen(V::maxKeepNan(V::negAbs(x), V::set1(-200.0f)))));
  const D onePlusE = V::dadd(oneD, e);
  const D recip = Math::reciprocalPrecise(onePlusE, V::reciprocalEstimate(V::narrow(onePlusE)));
  const D log1pE = Focal::log1pDouble(tab, e);

  // bce and bce' as in bce_kernel.inl's precise path (posWeight on the positive term); |x| capped at 1e300 so
  // that a zero coefficient times an infinite logit is the limit 0.
  const F p = s.posWeight ? V::load(s.posWeight + i) : V::set1(s.posWeightConst);
  const D posTarget = V::dmul(V::widen(p), target);
  const D softplusWeight = V::dadd(negTarget, posTarget);
  const D linearCoef = V::dselect(nonNegative, negTarget, posTarget);
  const D bce = V::dfma(softplusWeight, log1pE, V::dmul(linearCoef, V::dmin(V::widen(absX), V::dset1(1e300))));
  const D negPos = V::dsub(zeroD, posTarget);
  const D bceSlope = V::dmul(V::dselect(nonNegative, V::dfma(negPos, e, negTarget), V::dfma(negTarget, e, negPos)), recip);

  // q^gamma and d(q^gamma)/dx.
  const D oneMinusTwoT = V::dsub(negTarget, target);
  D focal, focalSlope;
  if (fc.integerGamma >= 0) {
    if (fc.integerGamma == 0) {
      focal = oneD;
      focalSlope = zeroD;
    } else {
      const D q = V::dmul(V::dfma(oth, e, lin), recip);
      D qPowLess = oneD;  // q^(gamma - 1)
      for (int k = 1; k < fc.integerGamma; ++k) qPowLess = V::dmul(qPowLess, q);
      focal = V::dmul(qPowLess, q);
      const D sigmoidSlope = V::dmul(V::dmul(e, recip), recip);  // p (1 - p)
      focalSlope = V::dmul(V::dmul(V::dmul(fc.gammaD, qPowLess), sigmoidSlope), oneMinusTwoT);
    }
  } else {
    if constexpr (!kU8) {
      logLin = Focal::logUnitDouble(tab, lin);
      logOth = Focal::logUnitDouble(tab, oth);
      invLin = Math::reciprocalPrecise(lin, V::reciprocalEstimate(V::narrow(lin)));
      invOth = Math::reciprocalPrecise(oth, V::reciprocalEstimate(V::narrow(oth)));
    }
    const D othE = V::dmul(oth, e);
    const F linF = V::narrow(lin);
    // oth e is the larger where lin is below it or 0 (then small / big = 0 whatever e is).
    const auto othBig = V::lt(linF, V::maxKeepNan(V::narrow(othE), V::set1(0x1p-149f)));
    const D invE = Math::reciprocalPrecise(e, V::reciprocalEstimate(V::narrow(e)));
    const D linOverOthE = V::dselect(V::eq(linF, c.zero), zeroD, V::dmul(V::dmul(lin, invOth), invE));
    const D ratio = V::dselect(othBig, linOverOthE, V::dmul(othE, invLin));  // small / big, in [0, 1]
    const D logBig = V::dselect(othBig, V::dsub(logOth, V::widen(absX)), logLin);
    const D logQ = V::dsub(V::dadd(logBig, Focal::log1pDouble(tab, ratio)), log1pE);
    const D power = V::dmul(fc.gammaD, logQ);
    const F powerF = V::narrow(power);
    const auto vanishes = V::lt(powerF, V::set1(-200.0f));
    focal = V::dselect(vanishes, zeroD, Focal::expDouble(tab, V::dselect(vanishes, V::dset1(-200.0), power)));
    const D onePlusRatio = V::dadd(oneD, ratio);
    const D denominator = V::dmul(onePlusRatio, onePlusE);
    const D r = V::dmul(V::dselect(othBig, invOth, V::dmul(e, invLin)),
                        Math::reciprocalPrecise(denominator, V::reciprocalEstimate(V::narrow(denominator))));
    focalSlope = V::dmul(V::dmul(V::dmul(fc.gammaD, focal), r), oneMinusTwoT);
  }

  const F w = s.weight ? V::load(s.weight + i) : V::set1(s.weightConst);
  D weight = V::widen(w);
  if (fc.hasAlpha) weight = V::dmul(weight, V::dfma(fc.alphaD, target, V::dmul(fc.oneMinusAlphaD, negTarget)));
  const auto masked = V::eq(V::narrow(weight), c.zero);  // a weight of 0 (w, or alpha_t) masks, as for BCE
  const F nan = V::set1(std::numeric_limits<float>::quiet_NaN());
  if constexpr (kLoss) {
    F loss = V::select(masked, c.zero, V::narrow(V::dmul(V::dmul(focal, bce), weight)));
    if constexpr (!kU8) loss = V::select(outsideUnit, nan, loss);
    if (s.lossOut) V::store(s.lossOut + i, loss);
    if (s.wantLossSum) V::accumulate(acc, kTail ? V::select(valid, loss, c.zero) : loss);
  }
  if constexpr (kGrad) {
    const F upstream = s.gradOutput ? V::load(s.gradOutput + i) : c.one;
    const D scale = V::dmul(V::dmul(weight, c.gradScaleD), V::widen(upstream));
    const D slope = V::dfma(focalSlope, bce, V::dmul(focal, bceSlope));
    F grad = V::select(masked, c.zero, V::narrow(V::dmul(slope, scale)));
    if constexpr (!kU8) grad = V::select(outsideUnit, nan, grad);
    V::store(s.gradOut + i, grad);
  }
}

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
