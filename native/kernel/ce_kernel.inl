// Softmax cross-entropy with label smoothing (PyTorch's F.cross_entropy: class-index or class-probability
// targets, weight, ignore_index, label_smoothing), loss and gradient per row in two reads of the row, written once
// over a vector type V. The structure and names mirror src/backends/js/ce-kernel.ts:
//   online pass   per lane a running max m and `others`, the sum of e^(x - m) over the lane's elements but one
//                 maximal one (in double); lanes then merged into the row's max M and others over the row but
//                 one maximal element
//   logSum        log(sum_c e^(x_c - M)) = log1p(others), so -log p_c = (M - x_c) + logSum: two non-negative
//                 terms, and a confident, correct row keeps log1p(others) to its relative accuracy
//   loss          indices: (1 - eps) w_y ((M - x_y) + logSum) + eps / C (sum_c w_c (M - x_c) + logSum sum_c w_c)
//                 probabilities: sum_c k_c ((M - x_c) + logSum), k_c = w_c (t_c (1 - eps) + eps / C)
//   gradient      scale (K p_c - own_c), p_c = e^(x_c - M) / (1 + others), K the sum of the row's coefficients
//                 and own_c class c's
// x - M is formed exactly as hi + lo (TwoSum) and e^(hi + lo) = e^hi (1 + lo): a rounded difference would cost
// |x - M| 2^-25 relative in every e^(x - M), 10 ulp at a distance of 20. Rows of up to kRowsPerLaneClasses
// classes run one row per lane (CeRowsPerLane): a row-at-a-time pass would waste most lanes there.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

template <class V>
struct CeMath {
  using F = typename V::F;
  using D = typename V::D;
  using Mask = typename V::M;
  using Math = BceMath<V>;
  using Tables = typename Math::Tables;

  // x - m = hi + lo exactly (TwoSum; lo is NaN where the difference is infinite or NaN).
  static FUSED_BCE_INLINE void exactDifference(F x, F m, F& hi, F& lo) {
    hi = V::sub(x, m);
    const F xPart = V::add(hi, m);  // the part of hi that came from x
    lo = V::sub(V::sub(x, xPart), V::add(m, V::sub(hi, xPart)));
  }

  // e^(hi + lo) for hi <= 0 from e^hi (1 + lo); 0 stays 0 (whatever lo is).
  static FUSED_BCE_INLINE F expOfPair(const Tables& tab, F hi, F lo) {
    const F e = Math::expNonPositive(tab, hi);
    return V::add(e, V::mulUnlessZero(e, lo));
  }

  // e^(x - m) for x <= m or NaN; 1 where x == m (also where both are infinite).
  static FUSED_BCE_INLINE F expOfDifference(const Tables& tab, F x, F m) {
    F hi, lo;
    exactDifference(x, m, hi, lo);
    const Mask tie = V::eq(x, m);
    return expOfPair(tab, V::select(tie, V::set1(0.0f), hi), V::select(tie, V::set1(0.0f), lo));
  }

  // One step of the online pass: x joins the lanes' running max m and others s.
  static FUSED_BCE_INLINE void onlineStep(const Tables& tab, F x, F& m, D& s) {
    F hi, lo;
    exactDifference(x, m, hi, lo);
    const Mask higher = V::lt(m, x);
    const Mask tie = V::eq(x, m);
    const F zero = V::set1(0.0f);
    // e^-|x - m|: of x below the max, or of the old max below a new one.
    const F expHi = V::select(tie, zero, V::negAbs(hi));
    const F expLo = V::select(tie, zero, V::select(higher, V::sub(zero, lo), lo));
    const D e = V::widen(expOfPair(tab, expHi, expLo));
    s = V::dselect(higher, V::dmul(V::dadd(s, V::dset1(1.0)), e), V::dadd(s, e));
    m = V::select(higher, x, m);
  }

  // Two lanes' states (m, s) merged into a's.
  static FUSED_BCE_INLINE void merge(const Tables& tab, F& mA, D& sA, F mB, D sB) {
    const Mask higher = V::lt(mA, mB);
    const F m = V::select(higher, mB, mA);
    const F lower = V::select(higher, mA, mB);
    const D e = V::widen(expOfDifference(tab, lower, m));
    const D upperS = V::dselect(higher, sB, sA), lowerS = V::dselect(higher, sA, sB);
    sA = V::dfma(V::dadd(lowerS, V::dset1(1.0)), e, upperS);
    mA = m;
  }
};

// A row's softmax statistics: the max and the sum of e^(x - max) over every element but one maximal one.
struct RowStats {
  float max;
  double others;
};

// Where a call's class index for row r is, as a signed integer (the caller checked it).
FUSED_BCE_INLINE int64_t classIndexAt(const CeKernelArgs& a, size_t r) {
  if (a.indicesI32 != nullptr) return a.indicesI32[r];
  if (a.indicesU16 != nullptr) return a.indicesU16[r];
  return a.indicesU8[r];
}

// The lanes' states merged across lanes: the row's max and others. A row of -inf only (or none) has no softmax:
// others is NaN then, as PyTorch gives.
template <class V>
FUSED_BCE_NOINLINE RowStats finishRow(const typename BceMath<V>::Tables& tab, typename V::F m, typename V::D s) {
  using F = typename V::F;
  using D = typename V::D;
  alignas(64) float lanesMax[V::kWidth];
  alignas(64) double lanesSum[V::kWidth];
  V::store(lanesMax, m);
  float rowMax = lanesMax[0];
  for (size_t l = 1; l < V::kWidth; ++l) rowMax = lanesMax[l] > rowMax ? lanesMax[l] : rowMax;
  if (rowMax == -portable::kInfinity) return {rowMax, portable::kNaN};
  const F maxV = V::set1(rowMax);
  const auto tie = V::eq(m, maxV);
  const D e = V::widen(CeMath<V>::expOfDifference(tab, m, maxV));
  V::dstore(lanesSum, V::dselect(tie, s, V::dmul(V::dadd(s, V::dset1(1.0)), e)));
  // Every tied lane's max but one is an "other" of weight 1 (counted apart: -1 + (1 + tiny) would lose the tiny).
  double others = 0, ties = 0;
  for (size_t l = 0; l < V::kWidth; ++l) {
    others += lanesSum[l];
    ties += lanesMax[l] == rowMax ? 1.0 : 0.0;
  }
  return {rowMax, others + (ties - 1)};
}

template <class V>
FUSED_BCE_INLINE double dtotal(typename V::D d) {
  alignas(64) double lanes[V::kWidth];
  V::dstore(lanes, d);
  double sum = 0;
  for (size_t l = 0; l < V::kWidth; ++l) sum += lanes[l];
  return sum;
}

// The constants of one call.
struct CeCall {
  const CeKernelArgs* args;
  double eps, smoothPerClass;  // eps and eps / C
  bool wantLoss;
};

// The online pass over one row of `classes` logits (and, for probability targets, the sum of their coefficients
// into *coefficientSum). Two states per lane, so that consecutive vectors do not wait on each other.
template <class V, bool kProbabilities, bool kWeighted>
FUSED_BCE_INLINE RowStats onlinePass(const CeCall& call, const typename BceMath<V>::Tables& tab, const float* x,
                                     const float* t, double* coefficientSum) {
  using F = typename V::F;
  using D = typename V::D;
  using Ce = CeMath<V>;
  constexpr size_t W = V::kWidth;
  const size_t classes = call.args->classes;
  const float* w = call.args->weight;
  F mA = V::set1(-portable::kInfinity), mB = mA;
  D sA = V::dset1(0.0), sB = sA, kSum = sA;
  const D keep = V::dset1(1.0 - call.eps), spread = V::dset1(call.smoothPerClass);
  const auto coefficients = [&](const float* tp, const float* wp) {
    D k = V::dfma(V::widen(V::load(tp)), keep, spread);
    if constexpr (kWeighted) k = V::dmul(k, V::widen(V::load(wp)));
    return k;
  };
  size_t i = 0;
  for (; i + 2 * W <= classes; i += 2 * W) {
    Ce::onlineStep(tab, V::load(x + i), mA, sA);
    Ce::onlineStep(tab, V::load(x + i + W), mB, sB);
    if constexpr (kProbabilities) kSum = V::dadd(kSum, V::dadd(coefficients(t + i, w + i), coefficients(t + i + W, w + i + W)));
  }
  for (; i + W <= classes; i += W) {
    Ce::onlineStep(tab, V::load(x + i), mA, sA);
    if constexpr (kProbabilities) kSum = V::dadd(kSum, coefficients(t + i, w + i));
  }
  if (i < classes) {  // padded with -inf logits; the padding's coefficients are masked out
    alignas(64) float xs[W], ts[W], ws[W];
    for (size_t l = 0; l < W; ++l) {
      const bool real = i + l < classes;
      xs[l] = real ? x[i + l] : -portable::kInfinity;
      if constexpr (kProbabilities) ts[l] = real ? t[i + l] : 0.0f;
      if constexpr (kWeighted) ws[l] = real ? w[i + l] : 0.0f;
    }
    Ce::onlineStep(tab, V::load(xs), mA, sA);
    if constexpr (kProbabilities) kSum = V::dadd(kSum, V::dselect(V::firstLanes(classes - i), coefficients(ts, ws), V::dset1(0.0)));
  }
  Ce::merge(tab, mA, sA, mB, sB);
  if constexpr (kProbabilities) *coefficientSum = dtotal<V>(kSum);
  return finishRow<V>(tab, mA, sA);
}

// The second read of an index-target row: the gradient of every class as if none were the target (the target's
// is rewritten after, in double), and the sum of w_c (M - x_c) for the smoothing term, in double (M - x_c may
// overflow float32; a zero weight times an infinite distance counts 0: distances are capped at 1e300).
template <class V, bool kWeighted, bool kGrad, bool kSmoothLoss>
FUSED_BCE_INLINE double indexRowPass(const CeCall& call, const typename BceMath<V>::Tables& tab, const float* x,
                                     float* grad, float rowMax, float coefficientP, float ownScale) {
  using F = typename V::F;
  using D = typename V::D;
  constexpr size_t W = V::kWidth;
  const size_t classes = call.args->classes;
  const float* w = call.args->weight;
  const F maxV = V::set1(rowMax), coefP = V::set1(coefficientP), own = V::set1(ownScale);
  const D maxD = V::widen(maxV), zeroD = V::dset1(0.0);
  D distanceSum = zeroD;
  const auto step = [&](const float* xp, const float* wp, float* gp) {
    const F xv = V::load(xp);
    if constexpr (kGrad) {
      const F e = CeMath<V>::expOfDifference(tab, xv, maxV);
      const F ownV = kWeighted ? V::mul(V::load(wp), own) : own;
      V::store(gp, V::fms(e, coefP, ownV));
    }
    if constexpr (kSmoothLoss) {
      D distance = V::dselect(V::eq(xv, maxV), zeroD, V::dsub(maxD, V::widen(xv)));
      if constexpr (kWeighted) distance = V::dmul(V::dmin(distance, V::dset1(1e300)), V::widen(V::load(wp)));
      distanceSum = V::dadd(distanceSum, distance);
    }
  };
  size_t i = 0;
  for (; i + W <= classes; i += W) step(x + i, kWeighted ? w + i : nullptr, grad + i);
  if (i < classes) {  // padded with the max (distance 0) and weight 0; only real lanes are copied out
    alignas(64) float xs[W], ws[W], gs[W];
    for (size_t l = 0; l < W; ++l) {
      const bool real = i + l < classes;
      xs[l] = real ? x[i + l] : rowMax;
      ws[l] = real && kWeighted ? w[i + l] : 0.0f;
    }
    step(xs, ws, gs);
    if constexpr (kGrad) for (size_t l = 0; i + l < classes; ++l) grad[i + l] = gs[l];
  }
  return kSmoothLoss ? dtotal<V>(distanceSum) : 0.0;
}

// The second read of a probability-target row, in double from the coefficients on: the gradient, and the sum of
// k_c (M - x_c) (a zero coefficient times an infinite distance counts 0: distances are capped at 1e300).
template <class V, bool kWeighted, bool kGrad, bool kLoss>
FUSED_BCE_INLINE double probabilityRowPass(const CeCall& call, const typename BceMath<V>::Tables& tab,
                                           const float* x, const float* t, float* grad, float rowMax,
                                           double coefficientP, double rowScale) {
  using F = typename V::F;
  using D = typename V::D;
  constexpr size_t W = V::kWidth;
  const size_t classes = call.args->classes;
  const float* w = call.args->weight;
  const F maxV = V::set1(rowMax);
  const D keep = V::dset1(1.0 - call.eps), spread = V::dset1(call.smoothPerClass);
  const D coefP = V::dset1(coefficientP), negScale = V::dset1(-rowScale), maxD = V::widen(maxV), zeroD = V::dset1(0.0);
  D lossSum = zeroD;
  const auto step = [&](const float* xp, const float* tp, const float* wp, float* gp) {
    const F xv = V::load(xp);
    D k = V::dfma(V::widen(V::load(tp)), keep, spread);
    if constexpr (kWeighted) k = V::dmul(k, V::widen(V::load(wp)));
    if constexpr (kGrad) {
      const D e = V::widen(CeMath<V>::expOfDifference(tab, xv, maxV));
      V::store(gp, V::narrow(V::dfma(e, coefP, V::dmul(k, negScale))));
    }
    if constexpr (kLoss) {
      const D distance = V::dselect(V::eq(xv, maxV), zeroD, V::dmin(V::dsub(maxD, V::widen(xv)), V::dset1(1e300)));
      lossSum = V::dfma(k, distance, lossSum);
    }
  };
  size_t i = 0;
  for (; i + W <= classes; i += W) step(x + i, t + i, kWeighted ? w + i : nullptr, grad + i);
  if (i < classes) {  // padded with the max (distance 0); only real lanes are copied out
    alignas(64) float xs[W], ts[W], ws[W], gs[W];
    for (size_t l = 0; l < W; ++l) {
      const bool real = i + l < classes;
      xs[l] = real ? x[i + l] : rowMax;
      ts[l] = real ? t[i + l] : 0.0f;
      ws[l] = real && kWeighted ? w[i + l] : 0.0f;
    }
    step(xs, ts, ws, gs);
    if constexpr (kGrad) for (size_t l = 0; i + l < classes; ++l) grad[i + l] = gs[l];
  }
  return kLoss ? dtotal<V>(lossSum) : 0.0;
}

// A coefficient times a term that may be infinite: 0 where the coefficient is 0.
FUSED_BCE_INLINE double weighted(double coefficient, double term) { return coefficient == 0 ? 0.0 : coefficient * term; }

template <class V>
FUSED_BCE_INLINE void zeroRow(float* grad, size_t classes) {
  size_t i = 0;
  for (; i + V::kWidth <= classes; i += V::kWidth) V::store(grad + i, V::set1(0.0f));
  for (; i < classes; ++i) grad[i] = 0.0f;
}

// One row, streamed: the online pass, then the loss and gradient. Returns the row's loss (before rounding).
template <class V, bool kProbabilities, bool kWeighted, bool kGrad>
FUSED_BCE_INLINE double streamRow(const CeCall& call, const typename BceMath<V>::Tables& tab, size_t r) {
  const CeKernelArgs& a = *call.args;
  const size_t classes = a.classes;
  const float* x = a.logits + r * classes;
  float* grad = kGrad ? a.gradOut + r * classes : nullptr;
  const double rowScale = a.gradOutput != nullptr ? a.gradScale * static_cast<double>(a.gradOutput[r]) : a.gradScale;
  if constexpr (kProbabilities) {
    const float* t = a.probabilities + r * classes;
    double coefficientSum = 0;
    const RowStats stats = onlinePass<V, true, kWeighted>(call, tab, x, t, &coefficientSum);
    const double logSum = std::log1p(stats.others);
    const double coefficientP = rowScale * coefficientSum / (1.0 + stats.others);
    const double distanceSum = probabilityRowPass<V, kWeighted, kGrad, true>(call, tab, x, t, grad, stats.max, coefficientP, rowScale);
    return call.wantLoss ? distanceSum + weighted(coefficientSum, logSum) : 0.0;
  } else {
    const int64_t target = classIndexAt(a, r);
    const double wy = kWeighted && target != a.ignoreIndex ? a.weight[target] : 1.0;
    const double targetCoefficient = (1.0 - call.eps) * wy;
    if (target == a.ignoreIndex || (targetCoefficient == 0 && (call.eps == 0 || a.weightTotal == 0))) {
      if constexpr (kGrad) zeroRow<V>(grad, classes);
      return 0.0;
    }
    const float xy = x[target];  // (read before an in-place gradient overwrites it)
    const RowStats stats = onlinePass<V, false, kWeighted>(call, tab, x, nullptr, nullptr);
    const double logSum = std::log1p(stats.others);
    const double total = targetCoefficient + call.smoothPerClass * a.weightTotal;  // K
    const double invDenominator = 1.0 / (1.0 + stats.others);
    const bool smoothLoss = call.wantLoss && call.eps != 0;
    const float coefP = static_cast<float>(rowScale * total * invDenominator);
    const float ownScale = static_cast<float>(rowScale * call.smoothPerClass);
    double distanceSum = 0;
    if (smoothLoss) distanceSum = indexRowPass<V, kWeighted, kGrad, true>(call, tab, x, grad, stats.max, coefP, ownScale);
    else if (kGrad) indexRowPass<V, kWeighted, kGrad, false>(call, tab, x, grad, stats.max, coefP, ownScale);
    const double targetDistance = xy == stats.max ? 0.0 : static_cast<double>(stats.max) - static_cast<double>(xy);
    if constexpr (kGrad) {
      const double p = (xy == stats.max ? 1.0 : std::exp(-targetDistance)) * invDenominator;
      grad[target] = static_cast<float>(rowScale * (total * p - (targetCoefficient + call.smoothPerClass * wy)));
    }
    if (!call.wantLoss) return 0.0;
    double loss = weighted(targetCoefficient, targetDistance + logSum);
    if (call.eps != 0) loss += call.smoothPerClass * (distanceSum + weighted(a.weightTotal, logSum));
    return loss;
  }
}

// The rows of a call; the loss sum adds the rows' float64 losses (before their rounding to float32: a row's loss
// may overflow float32 while the mean does not), in row order.
template <class V, bool kProbabilities, bool kWeighted, bool kGrad>
double runCeRows(const CeKernelArgs& a) {
  const typename BceMath<V>::Tables tab;
  CeCall call{&a, a.labelSmoothing, a.labelSmoothing / static_cast<double>(a.classes), a.wantLossSum || a.lossOut != nullptr};
  double sum = 0;
  for (size_t r = 0; r < a.rows; ++r) {
    const double loss = streamRow<V, kProbabilities, kWeighted, kGrad>(call, tab, r);
    if (a.lossOut != nullptr) a.lossOut[r] = static_cast<float>(loss);
    sum += loss;
  }
  return sum;
}

template <class V, bool kProbabilities, bool kWeighted>
double runCeForGrad(const CeKernelArgs& a) {
  return a.gradOut != nullptr ? runCeRows<V, kProbabilities, kWeighted, true>(a) : runCeRows<V, kProbabilities, kWeighted, false>(a);
}

template <class V>
FUSED_BCE_NOINLINE double runCeBody(const CeKernelArgs& a) {
  const bool probabilities = a.probabilities != nullptr, weighted = a.weight != nullptr;
  double sum;
  if (probabilities) sum = weighted ? runCeForGrad<V, true, true>(a) : runCeForGrad<V, true, false>(a);
  else sum = weighted ? runCeForGrad<V, false, true>(a) : runCeForGrad<V, false, false>(a);
  return a.wantLossSum ? sum : 0;
}

// The ISA's softmax cross-entropy entry point (the floating-point environment set first, as runKernel does).
template <class V>
double runCeKernel(const CeKernelArgs& a) {
  static_assert(RequireVectorType<V>::kChecked, "V provides the operations of vec_requirements.inl");
  if (a.rows == 0) return 0;
  const portable::FloatingPointEnvironment environment;
  return runCeBody<V>(a);
}

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
