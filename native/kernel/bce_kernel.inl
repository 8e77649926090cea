// The fused kernel, written once over a vector type V: label smoothing, loss, gradient and the float64 loss sum
// in one pass. The structure and names mirror src/backends/js/bce-kernel.ts:
//   smoothedTarget y' = y * scale + shift        negTarget = (1 - y) * scale + shift   (= 1 - y', no cancellation)
//   posTarget = p * y'                           softplusWeight = negTarget + posTarget (= 1 + (p - 1) y')
//   loss = w * (linear + softplusWeight * log1p(e)),  e = e^-|x|,
//          linear = x >= 0 ? negTarget * |x| : posTarget * |x|
//   grad = w * gradOutput_i * scale * core / (1 + e),
//          core = x >= 0 ? negTarget - posTarget * e : negTarget * e - posTarget
// Two paths:
// - fast (no posWeight or weight, a scalar upstream gradient, y' in [0, 1]): float32 throughout. With p = 1 the
//   softplus weight is exactly 1, and both the linear term and the core are one product of a per-element
//   coefficient pair (linearCoef, expCoef) selected by the sign of x: linear = linearCoef * x (>= 0), core =
//   expCoef * e + linearCoef. The gradient folds its roundings (see fastGradient), so one rounding follows
//   the core's.
// - precise (posWeight, weight, a per-element upstream gradient, y' outside [0, 1] or NaN, an extreme scale, float
//   targets with negative smoothing, see floatTargetsFitFastPath):
//   the same formulas from the same e in double from the targets on, rounded once; out of line, so the fast
//   loop keeps its constants in registers. Uint8 targets decide it once per call (their two smoothed values),
//   float32 targets per vector (lanes outside [0, 1] are replaced).
// Work goes in spans (about 1024 elements; whole rows where per-class parameters are expanded into a stack
// buffer), and each span's loss sum is made finite-or-exact on its own (see runAll). A last partial vector is
// copied into padded stack buffers and run as a whole vector, so a tail element gets the same bits as a lane.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

// Which formulas a call runs (decided once per call): the loss's path never depends on what the gradient
// needs, so a loss has the same bits with and without a gradient.
enum class Path {
  kFast,          // unweighted, a scalar upstream gradient
  kPreciseGrad,   // unweighted, with a per-element upstream gradient or an extreme scale: the gradient in double
  kPrecise,       // posWeight or weight, or Uint8 labels whose smoothed values leave [0, 1]: everything in double
  kFocal,         // the focal loss (focal_kernel.inl), unweighted by posWeight: bce in float, the focal factor in double
  kFocalPrecise,  // the focal loss with posWeight: everything from e^-|x| on in double
};

// Where a span's operands are, indexed from the span start: pointers, or constants for absent parameters.
struct SpanStreams {
  const float* logits = nullptr;
  const float* targetsF32 = nullptr;
  const uint8_t* targetsU8 = nullptr;
  const float* posWeight = nullptr;  // per element of the span (per-class values expanded), or null: the constant
  const float* weight = nullptr;
  float posWeightConst = 1.0f;
  float weightConst = 1.0f;
  const float* gradOutput = nullptr;
  float* lossOut = nullptr;
  float* gradOut = nullptr;
  bool wantLossSum = false;
};

template <class V>
struct FocalConstants;  // focal_kernel.inl

template <class V>
struct Constants {
  using F = typename V::F;
  using D = typename V::D;
  const FocalConstants<V>* focal = nullptr;  // set for Path::kFocal
  F scaleHi, scaleLo, shiftHi, shiftLo, one, zero, negOne, gradScaleHi, gradScaleLo;
  F smoothedOne, smoothedZero, negSmoothedOne, negSmoothedZero;  // y' of the labels 1 and 0, correctly rounded
  D scaleD, shiftD, gradScaleD, oneD, zeroD;                      // the precise path's
  explicit FUSED_BCE_INLINE Constants(const KernelArgs& a)
      : scaleHi(V::set1(static_cast<float>(a.smoothScale))),
        scaleLo(V::set1(static_cast<float>(a.smoothScale - static_cast<double>(static_cast<float>(a.smoothScale))))),
        shiftHi(V::set1(static_cast<float>(a.smoothShift))),
        shiftLo(V::set1(static_cast<float>(a.smoothShift - static_cast<double>(static_cast<float>(a.smoothShift))))),
        one(V::set1(1.0f)),
        zero(V::set1(0.0f)),
        negOne(V::set1(-1.0f)),
        gradScaleHi(V::set1(static_cast<float>(a.gradScale))),
        gradScaleLo(V::set1(static_cast<float>(a.gradScale - static_cast<double>(static_cast<float>(a.gradScale))))),
        smoothedOne(V::set1(static_cast<float>(a.smoothScale + a.smoothShift))),
        smoothedZero(V::set1(static_cast<float>(a.smoothShift))),
        negSmoothedOne(V::set1(-static_cast<float>(a.smoothScale + a.smoothShift))),
        negSmoothedZero(V::set1(-static_cast<float>(a.smoothShift))),
        scaleD(V::dset1(a.smoothScale)),
        shiftD(V::dset1(a.smoothShift)),
        gradScaleD(V::dset1(a.gradScale)),
        oneD(V::dset1(1.0)),
        zeroD(V::dset1(0.0)) {}
};

// A gradient scale outside [2^-100, 2^100] (or not finite) is applied in double: its float hi + lo split would
// underflow, overflow or give inf - inf.
inline bool gradScaleFitsFloatPair(double s) {
  return (s >= 0x1p-100 && s <= 0x1p100) || (s <= -0x1p-100 && s >= -0x1p100);
}

// Whether float targets can take the fast path: 1 - y' is formed there as smooth(1 - y), and a float 1 - y rounds
// (by up to 2^-25, for y < 1/2, where 1 - y' >= 1/2 in both conventions), so that its rounding costs |scale| / 2
// ulp of 1 - y': half an ulp at most for any smoothing rate >= 0 (|scale| <= 1), unbounded for strongly negative
// ones (13 ulp at labelSmoothing -9). Beyond, the precise path forms it in double, where 1 - y is exact.
inline bool floatTargetsFitFastPath(const KernelArgs& a) { return a.smoothScale >= -1 && a.smoothScale <= 1; }

// Whether both smoothed hard labels are in [0, 1], so that a Uint8 call never needs the precise path.
inline bool hardLabelsInUnit(const KernelArgs& a) {
  const double one = a.smoothScale + a.smoothShift, zero = a.smoothShift;
  return one >= 0 && one <= 1 && zero >= 0 && zero <= 1;
}

// y * scale + shift with scale and shift as hi + lo float pairs. The hi part is one fma, exact before its
// rounding, so that where y * scale and shift cancel (negative smoothing, soft targets) y' keeps its relative
// accuracy; the lo correction is added after.
template <class V>
FUSED_BCE_INLINE typename V::F smooth(const Constants<V>& c, typename V::F y) {
  return V::add(V::fma(y, c.scaleHi, c.shiftHi), V::fma(y, c.scaleLo, c.shiftLo));
}

template <class V>
struct StepResult {
  typename V::F loss, grad;
};

// The precise path for one vector: every lane in double from the targets on, rounded once. y is the target as
// a float (a Uint8 label converted), p, w and upstream the lanes' posWeight, weight and upstream gradient.
template <class V, bool kLoss, bool kGrad>
FUSED_BCE_NOINLINE StepResult<V> preciseVector(const Constants<V>& c, const typename BceMath<V>::Tables& tab,
                                               typename V::F x, typename V::F y, typename V::F p, typename V::F w,
                                               typename V::F upstream) {
  using F = typename V::F;
  using D = typename V::D;
  using Math = BceMath<V>;
  const D yD = V::widen(y);
  const D smoothedTarget = V::dfma(yD, c.scaleD, c.shiftD);
  const D negTarget = V::dfma(V::dsub(c.oneD, yD), c.scaleD, c.shiftD);
  const D posTarget = V::dmul(V::widen(p), smoothedTarget);
  const F expNegAbs = Math::expNonPositive(tab, V::negAbs(x));  // the fast path's e, bit for bit
  const auto nonNegative = V::ge(x, c.zero);
  const auto masked = V::eq(w, c.zero);
  StepResult<V> out{c.zero, c.zero};
  if constexpr (kLoss) {
    const D softplusWeight = V::dadd(negTarget, posTarget);
    const D linearCoef = V::dselect(nonNegative, negTarget, posTarget);
    // A zero coefficient times an infinite |x| is the limit 0, not NaN: |x| is capped at 1e300, which turns
    // every non-zero coefficient (>= 2^-298 in magnitude) into an infinite float result all the same.
    const D linear = V::dmul(linearCoef, V::dmin(V::widen(V::abs(x)), V::dset1(1e300)));
    const D loss = V::dmul(V::dfma(softplusWeight, Math::log1pOfExpPrecise(tab, expNegAbs), linear), V::widen(w));
    out.loss = V::select(masked, c.zero, V::narrow(loss));
  }
  if constexpr (kGrad) {
    const D e = V::widen(expNegAbs);
    const D negPos = V::dsub(c.zeroD, posTarget);
    const D core = V::dselect(nonNegative, V::dfma(negPos, e, negTarget), V::dfma(negTarget, e, negPos));
    const D onePlusExp = V::dadd(c.oneD, e);
    const D recip = Math::reciprocalPrecise(onePlusExp, V::reciprocalEstimate(V::add(c.one, expNegAbs)));
    const D scale = V::dmul(V::dmul(V::widen(w), c.gradScaleD), V::widen(upstream));
    out.grad = V::select(masked, c.zero, V::narrow(V::dmul(V::dmul(core, recip), scale)));
  }
  return out;
}

// The unweighted gradient in float with its roundings folded (one rounding after the core's):
//   1 / (1 + e) = R (1 + d) to first order, R the estimate and d = 1 - (u + uLo) R from u = 1 + e rounded and
//   its exact rounding error uLo = e - (u - 1): d carries the estimate's error (<= 2^-14, so d^2 is negligible)
//   and u's rounding;
//   core R = P + Perr exactly (Perr by fma); grad = (P + (P d + Perr)) (scaleHi + scaleLo), rounded once at the
//   end, where a plain core / u * scale would add three roundings.
template <class V>
FUSED_BCE_INLINE typename V::F fastGradient(const Constants<V>& c, typename V::F core, typename V::F e) {
  using F = typename V::F;
  const F u = V::add(c.one, e);
  const F recip = V::reciprocalEstimate(u);
  const F uLo = V::sub(e, V::sub(u, c.one));
  const F d = V::fnma(uLo, recip, V::fnma(u, recip, c.one));
  const F product = V::mul(core, recip);
  const F productErr = V::fms(core, recip, product);
  const F correction = V::fma(product, d, productErr);
  return V::fma(product, c.gradScaleHi, V::fma(correction, c.gradScaleHi, V::mul(product, c.gradScaleLo)));
}

// The fast path's loss and gradient from e = e^-|x| on in double lanes (V::kFastPathInDouble: where fma is
// emulated, fastGradient's error-free steps and log1pOfExp's reduction would each cost a round trip through
// double, and a table lookup several shuffles):
//   loss = linearCoef x + log1p(e) (linearCoef x >= 0), slope = (expCoef e + linearCoef) / (1 + e),
// both products exact in double and each sum rounded at 2^-53; the gradient is slope * gradScale. x is clamped to
// +-1e300, so that a zero coefficient times an infinite x is the limit 0 and any other an infinite float loss.
// (The focal kernel takes loss and slope in double as its bce and bce', and 1 / (1 + e) to refine.)
template <class V>
struct DoubleStep {
  typename V::D loss, slope, reciprocal;
};

template <class V, bool kLoss, bool kSlope>
FUSED_BCE_INLINE DoubleStep<V> bceInDouble(const Constants<V>& c, typename V::F x, typename V::F linearCoef,
                                           typename V::F expCoef, typename V::F e) {
  using D = typename V::D;
  const auto parts = BceMath<V>::log1pAndReciprocalByDivision(e);
  const D linearCoefD = V::widen(linearCoef);
  DoubleStep<V> r{c.zeroD, c.zeroD, parts.reciprocal};
  if constexpr (kLoss) {
    const D clampedX = V::dmax(V::dmin(V::widen(x), V::dset1(1e300)), V::dset1(-1e300));
    r.loss = V::dfma(linearCoefD, clampedX, parts.log1p);
  }
  if constexpr (kSlope) r.slope = V::dmul(V::dfma(V::widen(expCoef), V::widen(e), linearCoefD), parts.reciprocal);
  return r;
}

template <class V, bool kLoss, bool kGrad>
FUSED_BCE_INLINE StepResult<V> fastInDouble(const Constants<V>& c, typename V::F x, typename V::F linearCoef,
                                            typename V::F expCoef, typename V::F e) {
  const DoubleStep<V> d = bceInDouble<V, kLoss, kGrad>(c, x, linearCoef, expCoef, e);
  StepResult<V> r{c.zero, c.zero};
  if constexpr (kLoss) r.loss = V::narrow(d.loss);
  if constexpr (kGrad) r.grad = V::narrow(V::dmul(d.slope, c.gradScaleD));
  return r;
}

// One vector of the fast path at s[i..i + kWidth) (kPreciseGrad: with the gradient in double). kTail: the
// vector is a padded copy whose first `valid` lanes are real (only they count in the sum). expFirst: the
// vector's e^-|x|, computed by an earlier pass (runSpan), or null to compute it here.
template <class V, bool kPreciseGrad, bool kU8, bool kLoss, bool kGrad, bool kTail>
FUSED_BCE_INLINE void fastVector(const SpanStreams& s, size_t i, const Constants<V>& c,
                                 const typename BceMath<V>::Tables& tab, typename V::Acc& acc, typename V::M valid,
                                 const float* expFirst = nullptr) {
  using F = typename V::F;
  using Math = BceMath<V>;
  const F x = V::load(s.logits + i);
  F smoothedTarget, negTarget, negSmoothed;
  typename V::M outsideUnit = V::firstLanes(0);
  bool anyOutsideUnit = false;
  if constexpr (kU8) {  // two values only: select them (the call checked they are in [0, 1])
    const auto isOne = V::loadLabelIsOne(s.targetsU8 + i);
    smoothedTarget = V::select(isOne, c.smoothedOne, c.smoothedZero);
    negTarget = V::select(isOne, c.smoothedZero, c.smoothedOne);
    negSmoothed = V::select(isOne, c.negSmoothedOne, c.negSmoothedZero);
  } else {
    const F y = V::load(s.targetsF32 + i);
    smoothedTarget = smooth<V>(c, y);
    negTarget = smooth<V>(c, V::sub(c.one, y));
    negSmoothed = V::sub(c.zero, smoothedTarget);
    // NaN counts as outside: an infinite target gives a NaN y' in float (inf + -inf in the hi + lo sum) and its
    // limit in double. A NaN target stays NaN on either path.
    outsideUnit = V::notInUnitInterval(smoothedTarget);
    anyOutsideUnit = V::any(outsideUnit);
  }
  const auto nonNegative = V::ge(x, c.zero);
  const F linearCoef = V::select(nonNegative, negTarget, negSmoothed);  // linear = linearCoef * x >= 0
  const F expCoef = V::select(nonNegative, negSmoothed, negTarget);     // core = expCoef * e + linearCoef
  const F expNegAbs = expFirst ? V::load(expFirst) : Math::expNonPositive(tab, V::negAbs(x));

  StepResult<V> r{c.zero, c.zero};
  if constexpr (V::kFastPathInDouble) {
    r = fastInDouble<V, kLoss, kGrad && !kPreciseGrad>(c, x, linearCoef, expCoef, expNegAbs);
  } else {
    if constexpr (kLoss) {
      const F linear = V::mulUnlessZero(linearCoef, x);  // a zero coefficient times an infinite x is the limit 0
      r.loss = V::add(linear, Math::log1pOfExp(tab, expNegAbs));
    }
    if constexpr (kGrad && !kPreciseGrad) r.grad = fastGradient<V>(c, V::fma(expCoef, expNegAbs, linearCoef), expNegAbs);
  }
  const auto targetAsFloat = [&]() {
    if constexpr (kU8) return V::select(V::loadLabelIsOne(s.targetsU8 + i), c.one, c.zero);
    else return V::load(s.targetsF32 + i);
  };
  const auto upstream = [&]() { return s.gradOutput ? V::load(s.gradOutput + i) : c.one; };
  if constexpr (kGrad && kPreciseGrad) r.grad = preciseVector<V, false, true>(c, tab, x, targetAsFloat(), c.one, c.one, upstream()).grad;
  if constexpr (!kU8) {
    if (FUSED_BCE_UNLIKELY(anyOutsideUnit)) {
      const StepResult<V> precise = preciseVector<V, kLoss, kGrad>(c, tab, x, targetAsFloat(), c.one, c.one, upstream());
      r.loss = V::select(outsideUnit, precise.loss, r.loss);
      r.grad = V::select(outsideUnit, precise.grad, r.grad);
    }
  }
  if constexpr (kLoss) {
    if (s.lossOut) V::store(s.lossOut + i, r.loss);
    // Summed whether or not the call wants the sum (runAll ignores it then): with a branch here the compiler sinks
    // the loss into both arms, and V8 spills every live register around them.
    V::accumulate(acc, kTail ? V::select(valid, r.loss, c.zero) : r.loss);
  }
  if constexpr (kGrad) V::store(s.gradOut + i, r.grad);
}

// One vector of the precise path at s[i..i + kWidth).
template <class V, bool kU8, bool kLoss, bool kGrad, bool kTail>
FUSED_BCE_INLINE void preciseStreamVector(const SpanStreams& s, size_t i, const Constants<V>& c,
                                          const typename BceMath<V>::Tables& tab, typename V::Acc& acc,
                                          typename V::M valid) {
  using F = typename V::F;
  const F x = V::load(s.logits + i);
  F y;
  if constexpr (kU8) y = V::select(V::loadLabelIsOne(s.targetsU8 + i), c.one, c.zero);
  else y = V::load(s.targetsF32 + i);
  const F p = s.posWeight ? V::load(s.posWeight + i) : V::set1(s.posWeightConst);
  const F w = s.weight ? V::load(s.weight + i) : V::set1(s.weightConst);
  const F upstream = s.gradOutput ? V::load(s.gradOutput + i) : c.one;
  const StepResult<V> r = preciseVector<V, kLoss, kGrad>(c, tab, x, y, p, w, upstream);
  if constexpr (kLoss) {
    if (s.lossOut) V::store(s.lossOut + i, r.loss);
    if (s.wantLossSum) V::accumulate(acc, kTail ? V::select(valid, r.loss, c.zero) : r.loss);
  }
  if constexpr (kGrad) V::store(s.gradOut + i, r.grad);
}

template <class V, bool kU8, bool kLoss, bool kGrad, bool kTail>
FUSED_BCE_INLINE void focalVector(const SpanStreams& s, size_t i, const FocalConstants<V>& fc, const Constants<V>& c,
                 const typename BceMath<V>::Tables& tab, typename V::Acc& acc, typename V::M valid);  // focal_kernel.inl
template <class V, bool kU8, bool kLoss, bool kGrad>
FUSED_BCE_INLINE size_t focalChunks(const SpanStreams& s, size_t n, const Constants<V>& c,
                                    const typename BceMath<V>::Tables& tab, double* sum);
template <class V, bool kU8, bool kLoss, bool kGrad, bool kTail>
FUSED_BCE_NOINLINE void focalPreciseVector(const SpanStreams& s, size_t i, const FocalConstants<V>& fc,
                                           const Constants<V>& c, const typename BceMath<V>::Tables& tab,
                                           typename V::Acc& acc, typename V::M valid);

template <class V, Path kPath, bool kU8, bool kLoss, bool kGrad, bool kTail>
FUSED_BCE_INLINE void vectorStep(const SpanStreams& s, size_t i, const Constants<V>& c,
                                 const typename BceMath<V>::Tables& tab, typename V::Acc& acc, typename V::M valid) {
  if constexpr (kPath == Path::kFocal) focalVector<V, kU8, kLoss, kGrad, kTail>(s, i, *c.focal, c, tab, acc, valid);
  else if constexpr (kPath == Path::kFocalPrecise) focalPreciseVector<V, kU8, kLoss, kGrad, kTail>(s, i, *c.focal, c, tab, acc, valid);
  else if constexpr (kPath == Path::kPrecise) preciseStreamVector<V, kU8, kLoss, kGrad, kTail>(s, i, c, tab, acc, valid);
  else fastVector<V, kPath == Path::kPreciseGrad, kU8, kLoss, kGrad, kTail>(s, i, c, tab, acc, valid);
}

// The last count < kWidth elements: copied into padded buffers (zeros beyond count, which give finite values),
// run as one whole vector, and the first count results copied back.
template <class V, Path kPath, bool kU8, bool kLoss, bool kGrad>
FUSED_BCE_NOINLINE double runTail(const SpanStreams& s, size_t i, size_t count, const Constants<V>& c,
                                  const typename BceMath<V>::Tables& tab) {
  constexpr size_t W = V::kWidth;
  alignas(64) float logits[W] = {}, targetsF32[W] = {}, posWeight[W] = {}, weight[W] = {}, gradOutput[W] = {};
  alignas(64) float lossOut[W] = {}, gradOut[W] = {};
  alignas(64) uint8_t targetsU8[W < 16 ? 16 : W] = {};
  SpanStreams t = s;
  std::memcpy(logits, s.logits + i, count * sizeof(float));
  t.logits = logits;
  if constexpr (kU8) {
    std::memcpy(targetsU8, s.targetsU8 + i, count);
    t.targetsU8 = targetsU8;
  } else {
    std::memcpy(targetsF32, s.targetsF32 + i, count * sizeof(float));
    t.targetsF32 = targetsF32;
  }
  if (s.posWeight) std::memcpy(posWeight, s.posWeight + i, count * sizeof(float)), t.posWeight = posWeight;
  if (s.weight) std::memcpy(weight, s.weight + i, count * sizeof(float)), t.weight = weight;
  if (s.gradOutput) std::memcpy(gradOutput, s.gradOutput + i, count * sizeof(float)), t.gradOutput = gradOutput;
  t.lossOut = s.lossOut ? lossOut : nullptr;
  t.gradOut = kGrad ? gradOut : nullptr;
  typename V::Acc acc;
  vectorStep<V, kPath, kU8, kLoss, kGrad, true>(t, 0, c, tab, acc, V::firstLanes(count));
  if (s.lossOut) std::memcpy(s.lossOut + i, lossOut, count * sizeof(float));
  if constexpr (kGrad) std::memcpy(s.gradOut + i, gradOut, count * sizeof(float));
  return V::total(acc);
}

// The fast path in two passes over chunks of this many floats (V::kExpFirst): e^-|x| of the chunk's whole vectors
// into an L1 buffer, then the rest. One vector's work is one long dependency chain (exp, then log1p and the
// gradient), and the out-of-order window holds little more than one vector of it; split in two, each loop's
// chain is short enough for several vectors to overlap (AVX-512 1.1-1.2x, AVX2 1.1x, SSE2 1.07x, scalar 1.1x;
// NEON 1.07-1.33x by llvm-mca's estimate; WebAssembly in V8 1.08x once its common path went to double lanes).
// Same bits either way.
constexpr size_t kExpChunkFloats = 1024;

// The fused call's streams (logits, targets, gradient) are prefetched this many elements ahead, once per cache
// line, in the first pass of each chunk (BCE's and focal's): the next span's lines arrive while this one is
// computed. With all cores streaming from memory the hardware prefetcher alone leaves each thread waiting on
// loads (Zen 5, 16M elements, two threads: BCE AVX-512 1.05-1.16x faster with it, AVX2 1.05-1.12x, focal 1.11x;
// 1024 ahead measured best of 512-4096; in cache BCE unchanged, focal about 1% slower).
constexpr size_t kPrefetchFloats = 1024;

template <size_t W, bool kU8, bool kGrad>
FUSED_BCE_INLINE void prefetchStreams(const SpanStreams& s, size_t at) {
  if constexpr (!portable::kHasPrefetch) return;
  // W lanes cover W * 4 bytes of a float stream and W bytes of the labels: a stream's line starts within this
  // vector where its byte offset modulo the line is below that (always, for a float stream and W = 16).
  const auto lineStarts = [at](size_t elementBytes) { return (at * elementBytes) % portable::kCacheLineBytes < W * elementBytes; };
  if (lineStarts(sizeof(float))) portable::prefetchAhead(s.logits, at * sizeof(float));
  if constexpr (kU8) {
    if (lineStarts(1)) portable::prefetchAhead(s.targetsU8, at);
  } else {
    if (lineStarts(sizeof(float))) portable::prefetchAhead(s.targetsF32, at * sizeof(float));
  }
  if constexpr (kGrad) {
    if (lineStarts(sizeof(float))) portable::prefetchAhead(s.gradOut, at * sizeof(float));
  }
}

template <class V, Path kPath, bool kU8, bool kLoss, bool kGrad>
double runSpan(const SpanStreams& s, size_t n, const Constants<V>& c, const typename BceMath<V>::Tables& tab) {
  constexpr size_t W = V::kWidth;
  typename V::Acc acc;
  size_t i = 0;
  double chunksSum = 0;
  if constexpr (kPath == Path::kFocal) {
    i = focalChunks<V, kU8, kLoss, kGrad>(s, n, c, tab, &chunksSum);
  } else if constexpr (V::kExpFirst && (kPath == Path::kFast || kPath == Path::kPreciseGrad)) {
    alignas(64) float expFirst[kExpChunkFloats];
    const size_t whole = n - n % W;
    while (i < whole) {
      const size_t begin = i, end = whole - begin < kExpChunkFloats ? whole : begin + kExpChunkFloats;
      for (size_t j = begin; j < end; j += W) {
        prefetchStreams<W, kU8, kGrad>(s, j + kPrefetchFloats);
        V::store(expFirst + (j - begin), BceMath<V>::expNonPositive(tab, V::negAbs(V::load(s.logits + j))));
      }
      for (; i < end; i += W)
        fastVector<V, kPath == Path::kPreciseGrad, kU8, kLoss, kGrad, false>(s, i, c, tab, acc, V::firstLanes(W), expFirst + (i - begin));
    }
  } else {
    for (; i + W <= n; i += W) vectorStep<V, kPath, kU8, kLoss, kGrad, false>(s, i, c, tab, acc, V::firstLanes(W));
  }
  double sum = V::total(acc) + chunksSum;
  if (i < n) sum += runTail<V, kPath, kU8, kLoss, kGrad>(s, i, n - i, c, tab);
  return sum;
}

// Spans: about this many floats. Per-class parameters are expanded to a span of whole rows in stack buffers
// (2 x 4 KiB), and each span's loss sum is checked on its own: a sum that is not finite is recomputed in
// float64 (lossSumFloat64; a float32 element loss can overflow where the true sum is finite) from the span's
// logits, saved first when the gradient overwrites them (in place).
constexpr size_t kSpanFloats = 1024;

template <class V, bool kU8, bool kLoss, bool kGrad>
double runAll(const KernelArgs& a) {
  const size_t n = a.n;
  const size_t classes = a.classes;
  const bool weighted = a.posWeight != nullptr || a.weight != nullptr;
  const Path path = isFocal(a) ? (a.posWeight != nullptr ? Path::kFocalPrecise : Path::kFocal)
                    : weighted || (kU8 ? !hardLabelsInUnit(a) : !floatTargetsFitFastPath(a)) ? Path::kPrecise
                    : a.gradOutput != nullptr || !gradScaleFitsFloatPair(a.gradScale) ? Path::kPreciseGrad
                                                                                      : Path::kFast;
  const bool perClassPosWeight = a.posWeight != nullptr && classes > 1;
  const bool perClassWeight = a.weight != nullptr && !a.weightPerElement && classes > 1;
  SpanStreams s;
  if (a.posWeight != nullptr && !perClassPosWeight) s.posWeightConst = a.posWeight[0];
  if (a.weight != nullptr && !a.weightPerElement && !perClassWeight) s.weightConst = a.weight[0];
  s.wantLossSum = a.wantLossSum;

  // Whole rows only where per-class parameters are expanded; a row longer than a span runs row by row.
  const bool expand = (perClassPosWeight || perClassWeight) && classes <= kSpanFloats;
  const size_t span = !(perClassPosWeight || perClassWeight) ? kSpanFloats
                      : classes <= kSpanFloats          ? classes * (kSpanFloats / classes)
                                                        : classes;
  alignas(64) float posWeightRows[kSpanFloats];
  alignas(64) float weightRows[kSpanFloats];
  if (expand) {
    for (size_t k = 0; k < span; ++k) {
      if (perClassPosWeight) posWeightRows[k] = a.posWeight[k % classes];
      if (perClassWeight) weightRows[k] = a.weight[k % classes];
    }
  }
  const bool inPlaceSum = kLoss && kGrad && a.wantLossSum && a.gradOut == a.logits;
  alignas(64) float savedLogits[kSpanFloats];
  Constants<V> c(a);
  const FocalConstants<V> focal(a);  // (empty unless the call is focal)
  c.focal = &focal;
  const typename BceMath<V>::Tables tab;

  double sum = 0;
  for (size_t begin = 0; begin < n; begin += span) {
    const size_t end = n - begin < span ? n : begin + span;
    const KernelArgs range = elementRange(a, begin, end);
    s.logits = range.logits;
    s.targetsF32 = range.targetsF32;
    s.targetsU8 = range.targetsU8;
    s.posWeight = perClassPosWeight ? (expand ? posWeightRows : a.posWeight) : nullptr;
    s.weight = perClassWeight ? (expand ? weightRows : a.weight) : a.weightPerElement ? range.weight : nullptr;
    s.gradOutput = range.gradOutput;
    s.lossOut = range.lossOut;
    s.gradOut = range.gradOut;
    const auto runThis = [&](const SpanStreams& streams, auto loss, auto grad) {
      constexpr bool kL = decltype(loss)::value, kG = decltype(grad)::value;
      if (path == Path::kFocal) return runSpan<V, Path::kFocal, kU8, kL, kG>(streams, end - begin, c, tab);
      if (path == Path::kFocalPrecise) return runSpan<V, Path::kFocalPrecise, kU8, kL, kG>(streams, end - begin, c, tab);
      if (path == Path::kPrecise) return runSpan<V, Path::kPrecise, kU8, kL, kG>(streams, end - begin, c, tab);
      if (kG && path == Path::kPreciseGrad) return runSpan<V, Path::kPreciseGrad, kU8, kL, kG>(streams, end - begin, c, tab);
      return runSpan<V, Path::kFast, kU8, kL, kG>(streams, end - begin, c, tab);
    };
    double spanSum;
    if (inPlaceSum && span > kSpanFloats) {
      // A row too long to save: its loss first (the logits intact), then its gradient.
      SpanStreams lossOnly = s;
      lossOnly.gradOut = nullptr;
      spanSum = runThis(lossOnly, std::true_type{}, std::false_type{});
      if (!(spanSum - spanSum == 0)) spanSum = lossSumFloat64(range);
      SpanStreams gradOnly = s;
      gradOnly.lossOut = nullptr;
      gradOnly.wantLossSum = false;
      runThis(gradOnly, std::false_type{}, std::true_type{});
    } else {
      if (inPlaceSum) std::memcpy(savedLogits, range.logits, (end - begin) * sizeof(float));
      spanSum = runThis(s, std::bool_constant<kLoss>{}, std::bool_constant<kGrad>{});
      if (a.wantLossSum && !(spanSum - spanSum == 0)) {
        KernelArgs original = range;
        if (inPlaceSum) original.logits = savedLogits;
        spanSum = lossSumFloat64(original);
      }
    }
    sum += spanSum;
  }
  return sum;
}

template <class V, bool kU8>
double runForTargets(const KernelArgs& a) {
  const bool wantLoss = a.wantLossSum || a.lossOut != nullptr;
  const bool wantGrad = a.gradOut != nullptr;
  if (wantLoss && wantGrad) return runAll<V, kU8, true, true>(a);
  if (wantLoss) return runAll<V, kU8, true, false>(a);
  if (wantGrad) return runAll<V, kU8, false, true>(a);
  return 0;
}

// Picks the target type, then the loss/gradient variant.
template <class V>
FUSED_BCE_NOINLINE double runKernelBody(const KernelArgs& a) {
  const double sum = a.targetsU8 != nullptr ? runForTargets<V, true>(a) : runForTargets<V, false>(a);
  return a.wantLossSum ? sum : 0;
}

// The ISA's entry point. The floating-point environment is set here and the work runs in a separate function,
// so that no arithmetic (not even the float conversions of the parameters) can be moved before the switch.
template <class V>
double runKernel(const KernelArgs& a) {
  static_assert(RequireVectorType<V>::kChecked, "V provides the operations of vec_requirements.inl");
  if (a.n == 0) return 0;
  const portable::FloatingPointEnvironment environment;  // the caller's FTZ/DAZ or rounding mode must not matter
  return runKernelBody<V>(a);
}

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
