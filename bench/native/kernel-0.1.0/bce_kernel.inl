// The fused kernel, written once over a vector type V: label smoothing, loss, gradient and the float64
// loss sum in one pass. The structure and names mirror src/kernel-js.ts:
//   smoothedTarget = y * scale + shift          negTarget = (1 - y) * scale + shift   (= 1 - y', no cancellation)
//   posTarget = p * smoothedTarget              softplusWeight = negTarget + posTarget (= 1 + (p - 1) y')
//   loss = w * (linear + softplusWeight * log1p(e^-|x|)),
//          linear = x >= 0 ? negTarget * |x| : p * y' * |x|   (ordered so that no intermediate over/underflows)
//   grad = w * gradOutput_i * scale * (sigmoid(x) * softplusWeight - posTarget), with e = e^-|x|, r = 1 / (1 + e):
//          x >= 0: (negTarget - posTarget * e) * r      x < 0: (negTarget * e - posTarget) * r
//          (one rounding fewer than forming the sigmoid and softplusWeight first).
// The smoothing coefficients are float32 hi + lo pairs, so y' and 1 - y' are within about half an ulp.
// Work goes in spans of whole rows (about 1024 elements): per-class parameters are expanded into a stack buffer
// holding a span, so it sees posWeight/weight as plain arrays (large class counts run row by row), and each
// span's loss sum is made finite-or-exact on its own (see runAll).
// Tails: one masked iteration where V has masked loads (AVX-512), else the same steps on TailV lanes.
// Lanes whose smoothed target is outside [0, 1], and calls with weights or a per-element upstream gradient, take
// the precise path (in double from the targets on, rounded once).
namespace fused_bce {
namespace FUSED_BCE_TARGET {

// Per-span parameter sources: pointers indexed from the span start, or constants.
struct SpanParams {
  const float* posWeight = nullptr;
  const float* weight = nullptr;
  float posWeightConst = 1.0f;
  float weightConst = 1.0f;
};

template <class V>
struct Constants {
  typename V::F scaleHi, scaleLo, shiftHi, shiftLo, one, zero, gradScaleHi, gradScaleLo;
  typename V::F smoothedOne, smoothedZero;  // y' of the labels 1 and 0, correctly rounded
  typename V::F infinity;
  // A gradient scale outside [2^-100, 2^100] (or not finite) is applied in double: its float hi + lo split would
  // underflow, overflow or give inf - inf.
  bool gradScaleInDouble;
  typename V::D scaleD, shiftD, gradScaleD, oneD, zeroD;  // the precise path's
  explicit Constants(const KernelArgs& a)
      : scaleHi(V::set1(static_cast<float>(a.smoothScale))),
        scaleLo(V::set1(static_cast<float>(a.smoothScale - static_cast<double>(static_cast<float>(a.smoothScale))))),
        shiftHi(V::set1(static_cast<float>(a.smoothShift))),
        shiftLo(V::set1(static_cast<float>(a.smoothShift - static_cast<double>(static_cast<float>(a.smoothShift))))),
        one(V::set1(1.0f)),
        zero(V::set1(0.0f)),
        gradScaleHi(V::set1(static_cast<float>(a.gradScale))),
        gradScaleLo(V::set1(static_cast<float>(a.gradScale - static_cast<double>(static_cast<float>(a.gradScale))))),
        smoothedOne(V::set1(static_cast<float>(a.smoothScale + a.smoothShift))),
        smoothedZero(V::set1(static_cast<float>(a.smoothShift))),
        infinity(V::set1(__builtin_inff())),
        gradScaleInDouble(!(a.gradScale >= 0x1p-100 && a.gradScale <= 0x1p100) &&
                          !(a.gradScale <= -0x1p-100 && a.gradScale >= -0x1p100)),
        scaleD(V::dset1(a.smoothScale)),
        shiftD(V::dset1(a.smoothShift)),
        gradScaleD(V::dset1(a.gradScale)),
        oneD(V::dset1(1.0)),
        zeroD(V::dset1(0.0)) {}
};

// Loads count lanes of a span (all of them unless V masks a tail).
template <class V, bool kPartial>
struct Loader {
  using F = typename V::F;
  static FUSED_BCE_INLINE F f32(const float* p, size_t count) {
    if constexpr (kPartial) return V::loadPartial(p, V::firstLanes(count));
    else { (void)count; return V::load(p); }
  }
  static FUSED_BCE_INLINE F u8(const uint8_t* p, size_t count) {
    if constexpr (kPartial) return V::loadU8Partial(p, V::firstLanes(count));
    else { (void)count; return V::loadU8(p); }
  }
  static FUSED_BCE_INLINE void store(float* p, F v, size_t count) {
    if constexpr (kPartial) V::storePartial(p, v, V::firstLanes(count));
    else { (void)count; V::store(p, v); }
  }
};

// y * scale + shift with scale and shift as hi + lo float pairs. The hi part is one fma, exact before its
// rounding, so that where y * scale and shift cancel (negative smoothing, soft targets) y' keeps its relative
// accuracy; the lo correction is added after.
template <class V>
FUSED_BCE_INLINE typename V::F smooth(const Constants<V>& c, typename V::F y) {
  return V::add(V::fma(y, c.scaleHi, c.shiftHi), V::fma(y, c.scaleLo, c.shiftLo));
}

// The precise path, for vectors with a smoothed target outside [0, 1] (negative smoothing, targets outside
// [0, 1]): there the two terms of the loss cancel and those of the gradient add up, and the float32 steps'
// roundings would exceed the bound. The same formulas from the same e^-|x| and log reduction, in double from
// the targets on, rounded once to float32. Used per lane (selected by the caller), so an element's result
// does not depend on its neighbours.
template <class V>
struct PreciseTerms {
  typename V::D smoothedTarget, negTarget, posTarget;
  FUSED_BCE_INLINE PreciseTerms(const Constants<V>& c, typename V::F y, typename V::F p) {
    const typename V::D yD = V::widen(y);
    smoothedTarget = V::dfma(yD, c.scaleD, c.shiftD);
    negTarget = V::dfma(V::dsub(c.oneD, yD), c.scaleD, c.shiftD);
    posTarget = V::dmul(V::widen(p), smoothedTarget);
  }
};

template <class V>
FUSED_BCE_INLINE typename V::F preciseLoss(const Constants<V>& c, const PreciseTerms<V>& t, typename V::F expNegAbs,
                                           typename V::F onePlusExp, typename V::F recip, typename V::F absLogit,
                                           typename V::M nonNegative, typename V::M linearZero, typename V::F w) {
  using D = typename V::D;
  const D log1pExp = BceMath<V>::log1pOfExpPrecise(expNegAbs, onePlusExp, recip);
  const D softplusWeight = V::dadd(t.negTarget, t.posTarget);
  const D linearTarget = V::dselect(nonNegative, t.negTarget, t.posTarget);
  const D linear = V::dselect(linearZero, c.zeroD, V::dmul(linearTarget, V::widen(absLogit)));
  return V::narrow(V::dmul(V::dfma(softplusWeight, log1pExp, linear), V::widen(w)));
}

template <class V>
FUSED_BCE_INLINE typename V::F preciseGrad(const Constants<V>& c, const PreciseTerms<V>& t, typename V::F expNegAbs,
                                           typename V::F recip, typename V::M nonNegative, typename V::F w,
                                           const float* gradOutput, typename V::F upstream) {
  using D = typename V::D;
  const D e = V::widen(expNegAbs);
  const D negPos = V::dsub(c.zeroD, t.posTarget);
  const D gradNonNegative = V::dfma(negPos, e, t.negTarget);
  const D gradNegative = V::dfma(t.negTarget, e, negPos);
  const D gradCore = V::dmul(V::dselect(nonNegative, gradNonNegative, gradNegative), BceMath<V>::reciprocal(V::dadd(c.oneD, e), recip));
  D scale = V::dmul(V::widen(w), c.gradScaleD);
  if (gradOutput) scale = V::dmul(scale, V::widen(upstream));
  return V::narrow(V::dmul(gradCore, scale));
}

// One vector of elements [i, i + count) of a span that starts at `begin`.
// kUnweighted: no posWeight and no weight (both 1), the common case, with their multiplications left out.
template <class V, bool kU8, bool kUnweighted, bool kLoss, bool kGrad, bool kPartial>
FUSED_BCE_INLINE void bceStep(const KernelArgs& a, const SpanParams& sp, const Constants<V>& c, size_t begin,
                              size_t i, size_t count, typename V::Acc& acc) {
  using F = typename V::F;
  using L = Loader<V, kPartial>;
  using Math = BceMath<V>;
  const size_t j = i - begin;

  const F x = L::f32(a.logits + i, count);
  F y;
  if constexpr (kU8) y = L::u8(a.targetsU8 + i, count);
  else y = L::f32(a.targetsF32 + i, count);
  F p = c.one, w = c.one;
  if constexpr (!kUnweighted) {
    p = sp.posWeight ? L::f32(sp.posWeight + j, count) : V::set1(sp.posWeightConst);
    w = sp.weight ? L::f32(sp.weight + j, count) : V::set1(sp.weightConst);
  }

  F smoothedTarget, negTarget;
  if constexpr (kU8) {  // two values only: select them
    const auto isOne = V::eq(y, c.one);
    smoothedTarget = V::select(isOne, c.smoothedOne, c.smoothedZero);
    negTarget = V::select(isOne, c.smoothedZero, c.smoothedOne);
  } else {
    smoothedTarget = smooth<V>(c, y);
    negTarget = smooth<V>(c, V::sub(c.one, y));
  }
  const F posTarget = kUnweighted ? smoothedTarget : V::mul(p, smoothedTarget);
  const F softplusWeight = V::add(negTarget, posTarget);
  const F absLogit = V::abs(x);
  const F expNegAbs = Math::expNonPositive(V::sub(c.zero, absLogit));
  const F onePlusExp = V::add(c.one, expNegAbs);
  const F recip = V::div(c.one, onePlusExp);
  const auto nonNegative = V::ge(x, c.zero);
  const auto masked = V::eq(w, c.zero);
  // NaN counts as outside: an infinite target gives a NaN y' in float (inf + -inf in the hi + lo sum) and its
  // limit in double. A NaN target stays NaN on either path.
  const auto outsideUnit = V::orMask(V::orMask(V::lt(smoothedTarget, c.zero), V::gt(smoothedTarget, c.one)), V::isNan(smoothedTarget));
  const bool anyOutsideUnit = V::any(outsideUnit);

  if constexpr (kLoss) {
    // A zero coefficient times an infinite |x| is the limit 0, not NaN.
    F loss;
    if constexpr (kUnweighted) {
      const F linearTarget = V::select(nonNegative, negTarget, smoothedTarget);  // p = 1
      const auto linearZero = V::eq(linearTarget, c.zero);
      const F linear = V::select(linearZero, c.zero, V::mul(linearTarget, absLogit));
      loss = V::fma(softplusWeight, Math::log1pOfExp(expNegAbs, onePlusExp, recip), linear);
      if (anyOutsideUnit) {
        const PreciseTerms<V> t(c, y, p);
        loss = V::select(outsideUnit, preciseLoss<V>(c, t, expNegAbs, onePlusExp, recip, absLogit, nonNegative, linearZero, w), loss);
      }
    } else {
      // With weights, the products p y' and the final w would add roundings (and the unweighted loss could
      // overflow where w brings it back): in double from the targets on, rounded once.
      // The linear coefficient is 1 - y' for x >= 0, p y' below (zero if either factor is, whatever its rounding).
      const F negativeSide = V::select(V::eq(p, c.zero), c.zero, smoothedTarget);
      const auto linearZero = V::eq(V::select(nonNegative, negTarget, negativeSide), c.zero);
      const PreciseTerms<V> t(c, y, p);
      loss = preciseLoss<V>(c, t, expNegAbs, onePlusExp, recip, absLogit, nonNegative, linearZero, w);
    }
    if constexpr (!kUnweighted) loss = V::select(masked, c.zero, loss);
    if (a.lossOut) L::store(a.lossOut + i, loss, count);
    if (a.wantLossSum) {
      if constexpr (kPartial) V::accumulate(acc, V::select(V::firstLanes(count), loss, c.zero));
      else V::accumulate(acc, loss);
    }
  }
  if constexpr (kGrad) {
    const F upstream = a.gradOutput ? L::f32(a.gradOutput + i, count) : c.one;
    F grad;
    if (kUnweighted && !a.gradOutput && !c.gradScaleInDouble) {
      // The common case (no weights, a scalar upstream gradient), in float with the roundings folded:
      //   core = (negTarget - posTarget e) or (negTarget e - posTarget), one fma;
      //   1 / (1 + e) = r (1 + d), with d = (1 - u r) - (e - (u - 1)) r from the exact rounding error of u;
      //   core r = P + Perr exactly (Perr by fma); the scale is the pair hi + lo.
      // grad = P hi + ((P d + Perr) hi + P lo): one rounding after the core's, where a plain core * r * scale
      // would add three (u, the division, the products) and exceed the bound.
      const F gradNonNegative = V::fma(V::sub(c.zero, posTarget), expNegAbs, negTarget);
      const F gradNegative = V::fma(negTarget, expNegAbs, V::sub(c.zero, posTarget));
      const F core = V::select(nonNegative, gradNonNegative, gradNegative);
      const F uLo = V::sub(expNegAbs, V::sub(onePlusExp, c.one));
      const F d = V::sub(V::fma(V::sub(c.zero, onePlusExp), recip, c.one), V::mul(uLo, recip));
      const F product = V::mul(core, recip);
      const F productErr = V::fma(core, recip, V::sub(c.zero, product));
      const F correction = V::fma(product, d, productErr);
      grad = V::fma(product, c.gradScaleHi, V::fma(correction, c.gradScaleHi, V::mul(product, c.gradScaleLo)));
    } else {
      // Weights, a per-element upstream gradient or an extreme scale: every product in double, rounded once.
      const PreciseTerms<V> t(c, y, p);
      grad = preciseGrad<V>(c, t, expNegAbs, recip, nonNegative, w, a.gradOutput, upstream);
    }
    if (kUnweighted && !a.gradOutput && !c.gradScaleInDouble && anyOutsideUnit) {
      const PreciseTerms<V> t(c, y, p);
      grad = V::select(outsideUnit, preciseGrad<V>(c, t, expNegAbs, recip, nonNegative, w, a.gradOutput, upstream), grad);
    }
    if constexpr (!kUnweighted) grad = V::select(masked, c.zero, grad);
    L::store(a.gradOut + i, grad, count);
  }
}

template <class V, class TailV, bool kU8, bool kUnweighted, bool kLoss, bool kGrad>
double runSpan(const KernelArgs& a, const SpanParams& sp, size_t begin, size_t end) {
  const Constants<V> c(a);
  typename V::Acc acc;
  size_t i = begin;
  for (; i + V::kWidth <= end; i += V::kWidth) bceStep<V, kU8, kUnweighted, kLoss, kGrad, false>(a, sp, c, begin, i, V::kWidth, acc);
  double sum = V::total(acc);
  if (i < end) {
    if constexpr (V::kMaskedTail) {
      typename V::Acc tailAcc;
      bceStep<V, kU8, kUnweighted, kLoss, kGrad, true>(a, sp, c, begin, i, end - i, tailAcc);
      sum += V::total(tailAcc);
    } else {
      const Constants<TailV> tc(a);
      typename TailV::Acc tailAcc;
      for (; i < end; ++i) bceStep<TailV, kU8, kUnweighted, kLoss, kGrad, false>(a, sp, tc, begin, i, 1, tailAcc);
      sum += TailV::total(tailAcc);
    }
  }
  return sum;
}

// Spans: whole rows of about this many floats. Per-class parameters are expanded to a span in a stack buffer
// (2 x 4 KiB), and each span's loss sum is checked on its own: a sum that is not finite is recomputed in
// float64 (lossSumFloat64; a float32 element loss can overflow where the true sum is finite) from the span's
// logits, saved first when the gradient overwrites them (in place).
constexpr size_t kExpandedFloats = 1024;

template <class V, class TailV, bool kU8, bool kLoss, bool kGrad>
FUSED_BCE_INLINE double runSpanOf(bool unweighted, const KernelArgs& a, const SpanParams& sp, size_t begin, size_t end) {
  return unweighted ? runSpan<V, TailV, kU8, true, kLoss, kGrad>(a, sp, begin, end)
                    : runSpan<V, TailV, kU8, false, kLoss, kGrad>(a, sp, begin, end);
}

template <class V, class TailV, bool kU8, bool kLoss, bool kGrad>
double runAll(const KernelArgs& a) {
  const size_t n = a.n;
  const size_t classes = a.classes;
  const bool unweighted = a.posWeight == nullptr && a.weight == nullptr;
  const bool perClassPosWeight = a.posWeight != nullptr && classes > 1;
  const bool perClassWeight = a.weight != nullptr && !a.weightPerElement && classes > 1;
  SpanParams sp;
  if (a.posWeight != nullptr && !perClassPosWeight) sp.posWeightConst = a.posWeight[0];
  if (a.weight != nullptr && !a.weightPerElement && !perClassWeight) sp.weightConst = a.weight[0];

  const bool expand = (perClassPosWeight || perClassWeight) && classes <= kExpandedFloats;
  const size_t span = classes <= kExpandedFloats ? classes * (kExpandedFloats / classes) : classes;
  alignas(64) float posWeightRows[kExpandedFloats];
  alignas(64) float weightRows[kExpandedFloats];
  if (expand) {
    for (size_t k = 0; k < span; ++k) {
      if (perClassPosWeight) posWeightRows[k] = a.posWeight[k % classes];
      if (perClassWeight) weightRows[k] = a.weight[k % classes];
    }
  }
  const bool inPlaceSum = kLoss && kGrad && a.wantLossSum && a.gradOut == a.logits;
  alignas(64) float savedLogits[kExpandedFloats];

  double sum = 0;
  for (size_t begin = 0; begin < n; begin += span) {
    const size_t end = n - begin < span ? n : begin + span;
    sp.posWeight = perClassPosWeight ? (expand ? posWeightRows : a.posWeight) : nullptr;
    sp.weight = perClassWeight ? (expand ? weightRows : a.weight) : a.weightPerElement ? a.weight + begin : nullptr;
    double s;
    if (inPlaceSum && span > kExpandedFloats) {
      // A row too long to save: its loss first (the logits intact), then its gradient.
      KernelArgs lossOnly = a;
      lossOnly.gradOut = nullptr;
      s = runSpanOf<V, TailV, kU8, true, false>(unweighted, lossOnly, sp, begin, end);
      if (!(s - s == 0)) s = lossSumFloat64(elementRange(a, begin, end));
      KernelArgs gradOnly = a;
      gradOnly.lossOut = nullptr;
      gradOnly.wantLossSum = false;
      runSpanOf<V, TailV, kU8, false, true>(unweighted, gradOnly, sp, begin, end);
    } else {
      if (inPlaceSum) std::memcpy(savedLogits, a.logits + begin, (end - begin) * sizeof(float));
      s = runSpanOf<V, TailV, kU8, kLoss, kGrad>(unweighted, a, sp, begin, end);
      if (a.wantLossSum && !(s - s == 0)) {
        KernelArgs original = elementRange(a, begin, end);
        if (inPlaceSum) original.logits = savedLogits;
        s = lossSumFloat64(original);
      }
    }
    sum += s;
  }
  return sum;
}

template <class V, class TailV, bool kU8>
double runForTargets(const KernelArgs& a) {
  const bool wantLoss = a.wantLossSum || a.lossOut != nullptr;
  const bool wantGrad = a.gradOut != nullptr;
  if (wantLoss && wantGrad) return runAll<V, TailV, kU8, true, true>(a);
  if (wantLoss) return runAll<V, TailV, kU8, true, false>(a);
  if (wantGrad) return runAll<V, TailV, kU8, false, true>(a);
  return 0;
}

// The ISA's entry point: picks the target type, then the loss/gradient variant.
template <class V, class TailV>
double runKernel(const KernelArgs& a) {
  if (a.n == 0) return 0;
  const double sum = a.targetsU8 != nullptr ? runForTargets<V, TailV, true>(a) : runForTargets<V, TailV, false>(a);
  return a.wantLossSum ? sum : 0;
}

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
