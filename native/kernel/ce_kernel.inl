// Softmax cross-entropy with label smoothing (PyTorch's F.cross_entropy: class-index or class-probability
// targets, weight, ignore_index, label_smoothing), loss and gradient per row in two reads of the row (after a
// read for its max where the row fits the L1 cache), written once over a vector type V. The structure and names
// mirror src/backends/js/ce-kernel.ts:
//   online pass   per lane a running max m, the sum of e^(x - m) over the lane's elements below m (in double)
//                 and how many equal m, raised once per block of vectors (or m the row's max, found first, with
//                 each e^(x - m) kept in the gradient's place for the second read); lanes then merged into the
//                 row's max M and `others`, the sum over the row but one maximal element
//   logSum        log(sum_c e^(x_c - M)) = log1p(others), so -log p_c = (M - x_c) + logSum: two non-negative
//                 terms, and a confident, correct row keeps log1p(others) to its relative accuracy
//   loss          indices: (1 - eps) w_y ((M - x_y) + logSum) + eps / C sum_c w_c ((M - x_c) + logSum)
//                 probabilities: sum_c k_c ((M - x_c) + logSum), k_c = w_c (t_c (1 - eps) + eps / C)
//                 each term a coefficient times -log p_c, 0 where the coefficient is 0 (whatever -log p_c is), as
//                 the TypeScript kernel adds them, so that infinite and NaN inputs give the same results
//   gradient      scale (K p_c - own_c), p_c = e^(x_c - M) / (1 + others), K the sum of the row's coefficients
//                 and own_c class c's
// x - M is formed exactly as hi + lo (TwoSum) and e^(hi + lo) = e^hi (1 + lo): a rounded difference would cost
// |x - M| 2^-25 relative in every e^(x - M), 10 ulp at a distance of 20. Rows of up to kRowsPerLaneClasses
// classes run one row per lane (rowsPerLane): a row-at-a-time pass would waste most lanes there.
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

  // e^(x - m) for x <= m or NaN as e + correction, e = e^hi and correction = e lo (0 where e is 0 or x == m):
  // callers add the correction where it costs no rounding (inside an fma, or in double).
  static FUSED_BCE_INLINE F expAndCorrection(const Tables& tab, F x, F m, F& correction) {
    F hi, lo;
    exactDifference(x, m, hi, lo);
    const Mask tie = V::eq(x, m);
    const F e = Math::expNonPositive(tab, V::select(tie, V::set1(0.0f), hi));
    correction = V::mulUnlessZero(e, V::select(tie, V::set1(0.0f), lo));
    return e;
  }

  // The correction e lo of an e = e^hi computed before, for a finite m (lo is NaN where x is -inf, e 0 there).
  static FUSED_BCE_INLINE F correctionBelowFinite(F e, F x, F m) {
    F hi, lo;
    exactDifference(x, m, hi, lo);
    return V::mulUnlessZero(e, lo);
  }

  // The same for a finite m: x == m gives hi = lo = 0 there, e = 1 and no correction, with no test.
  static FUSED_BCE_INLINE F expAndCorrectionBelowFinite(const Tables& tab, F x, F m, F& correction) {
    const F e = Math::expNonPositive(tab, V::sub(x, m));  // (hi of the exact difference)
    correction = correctionBelowFinite(e, x, m);
    return e;
  }

  // e^(x - m) for x <= m or NaN; 1 where x == m (also where both are infinite).
  static FUSED_BCE_INLINE F expOfDifference(const Tables& tab, F x, F m) {
    F hi, lo;
    exactDifference(x, m, hi, lo);
    const Mask tie = V::eq(x, m);
    return expOfPair(tab, V::select(tie, V::set1(0.0f), hi), V::select(tie, V::set1(0.0f), lo));
  }

  // The online pass keeps per lane a running max m, `below`, the sum of e^(x - m) over the lane's elements below m
  // (in double), and `ties`, how many equal m: those are e^0 = 1 each, kept apart because 1 + tiny would lose the
  // tiny. A block of vectors first raises m to its max (raiseMax), then adds its elements (addBelowMax): the state
  // is rescaled once per block where the max rose, not once per element.

  // m raised to newMax (>= m, no NaN) where it is higher: the old state's sum and ties scaled by e^(m - newMax),
  // ties then 0. tiesFolded holds the ties that onlinePass moved to double (see kTieSegment).
  static FUSED_BCE_INLINE void raiseMax(const Tables& tab, F newMax, F& m, D& belowA, D& belowB, F& ties, D& tiesFolded) {
    const Mask higher = V::lt(m, newMax);
    if (!V::any(higher)) return;  // the common case once a row's first vectors are in
    const D e = V::widen(expOfDifference(tab, m, newMax));  // 0 where m is -inf
    const D zeroD = V::dset1(0.0);
    belowA = V::dselect(higher, V::dmul(V::dadd(V::dadd(belowA, tiesFolded), V::widen(ties)), e), belowA);
    belowB = V::dselect(higher, V::dmul(belowB, e), belowB);
    tiesFolded = V::dselect(higher, zeroD, tiesFolded);
    ties = V::select(higher, V::set1(0.0f), ties);
    m = V::select(higher, newMax, m);
  }

  // x (<= m, or NaN: NaN reaches the sum) joins a lane's state whose max m already includes it. Returns e^hi, the
  // exponential before its correction (what the second read would compute again).
  static FUSED_BCE_INLINE F addBelowMax(const Tables& tab, F x, F m, D& below, F& ties) {
    F hi, lo;
    exactDifference(x, m, hi, lo);
    const Mask tie = V::eq(x, m);
    const F eHi = Math::expNonPositive(tab, hi);
    const F e = V::add(eHi, V::mulUnlessZero(eHi, lo));  // (NaN at a tie of infinities: not added)
    below = V::dadd(below, V::widen(V::select(tie, V::set1(0.0f), e)));
    ties = V::select(tie, V::add(ties, V::set1(1.0f)), ties);
    return eHi;
  }

  // log1p(o) for o >= 0 (or NaN) in double, within about 0.1 float ulp: o <= 1 from the log1p of its float value
  // plus the residual's first-order term; beyond, 1 + o = 2^k (1 + f) from the float value of 1 + o (f exact in
  // float), k ln 2 + log1p(f), plus the residual's term. (Also for one row's others, broadcast, in place of libm's
  // log1p, which was 4.5% of a 256x1000 call's time.)
  static FUSED_BCE_INLINE D logOnePlus(const Tables& tab, D o) {
    const F one = V::set1(1.0f);
    const F oF = V::narrow(o);
    const D small = V::dadd(Math::log1pOfExpPrecise(tab, oF),
                            V::dmul(V::dsub(o, V::widen(oF)), V::widen(V::reciprocalEstimate(V::add(one, oF)))));
    const D s = V::dadd(V::dset1(1.0), o);
    const F sF = V::narrow(s);
    const F f = V::sub(V::mantissaOf(sF), one);  // exact
    const D large = V::dadd(V::dfma(V::widen(V::exponentOf(sF)), V::dset1(0.6931471805599453094), Math::log1pOfExpPrecise(tab, f)),
                            V::dmul(V::dsub(s, V::widen(sF)), V::widen(V::reciprocalEstimate(sF))));
    return V::dselect(V::lt(one, oF), large, small);
  }
};

// 1 / x in double from a float estimate (BceMath's two Newton steps).
template <class V>
FUSED_BCE_INLINE typename V::D reciprocalOf(typename V::D x) {
  return BceMath<V>::reciprocalPrecise(x, V::reciprocalEstimate(V::narrow(x)));
}

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

// The sum of N doubles as a tree of pairs (a chain of N dependent additions would be the row's slowest part).
template <size_t N>
FUSED_BCE_INLINE double pairwiseSum(const double* v) {
  if constexpr (N == 1) {
    return v[0];
  } else {
    return pairwiseSum<N / 2>(v) + pairwiseSum<N - N / 2>(v + N / 2);
  }
}

// The largest of N floats (none NaN), as a tree.
template <size_t N>
FUSED_BCE_INLINE float pairwiseMax(const float* v) {
  if constexpr (N == 1) {
    return v[0];
  } else {
    const float a = pairwiseMax<N / 2>(v), b = pairwiseMax<N - N / 2>(v + N / 2);
    return a < b ? b : a;
  }
}

// The lanes' states merged across lanes: the row's max and others. A row of -inf only (or none) has no softmax:
// others is NaN then, as PyTorch gives.
template <class V>
FUSED_BCE_NOINLINE RowStats finishRow(const typename BceMath<V>::Tables& tab, typename V::F m, typename V::D below,
                                      typename V::D ties) {
  using F = typename V::F;
  using D = typename V::D;
  alignas(64) float lanesMax[V::kWidth];
  alignas(64) double lanesBelow[V::kWidth], lanesTies[V::kWidth];
  V::store(lanesMax, m);
  float rowMax = pairwiseMax<V::kWidth>(lanesMax);
  if (rowMax == -portable::kInfinity) return {rowMax, portable::kNaN};
  const F maxV = V::set1(rowMax);
  const auto tie = V::eq(m, maxV);
  const D e = V::widen(CeMath<V>::expOfDifference(tab, m, maxV));
  // A lane below the row's max: its ties are others too.
  V::dstore(lanesBelow, V::dselect(tie, below, V::dmul(V::dadd(below, ties), e)));
  V::dstore(lanesTies, V::dselect(tie, ties, V::dset1(0.0)));
  // Every tie with the row's max but one is an "other" of weight 1 (counted apart: -1 + (1 + tiny) would lose the
  // tiny).
  return {rowMax, pairwiseSum<V::kWidth>(lanesBelow) + (pairwiseSum<V::kWidth>(lanesTies) - 1)};
}

// log1p(o) of one o >= 0 (or NaN) by CeMath::logOnePlus.
template <class V>
FUSED_BCE_INLINE double logOnePlusOf(const typename BceMath<V>::Tables& tab, double o) {
  alignas(64) double lanes[V::kWidth];
  V::dstore(lanes, CeMath<V>::logOnePlus(tab, V::dset1(o)));
  return lanes[0];
}

template <class V>
FUSED_BCE_INLINE double dtotal(typename V::D d) {
  alignas(64) double lanes[V::kWidth];
  V::dstore(lanes, d);
  return pairwiseSum<V::kWidth>(lanes);
}

// The constants of one call.
struct CeCall {
  const CeKernelArgs* args;
  double eps, smoothPerClass;  // eps and eps / C
  double maxWeight;            // the largest |weight| (1 without weights), for the float gradient's range
  bool wantLoss;
};

// The widest row whose max is found before the online pass (a read from the L1 cache: 16 KiB).
constexpr size_t kMaxFirstClasses = 4096;

// Vectors per segment of the online pass: a lane's float tie count stays exact (below 2^24) within one.
constexpr size_t kTieSegment = size_t{1} << 23;

// The state of the online pass (see CeMath::raiseMax): per lane the max, the sum below it in two halves (so
// that consecutive vectors do not wait on each other), ties in float and those moved to double; and for
// probability targets the sum of the coefficients.
template <class V>
struct OnlineState {
  typename V::F max, ties;
  typename V::D belowA, belowB, tiesFolded, coefficientSum;
};

// The probability-target coefficients w (t (1 - eps) + eps / C) of the classes at `at`, in double. (At an offset
// into t and w: no pointer is formed from an absent array.)
template <class V, bool kWeighted>
FUSED_BCE_INLINE typename V::D coefficientsAt(const CeCall& call, const float* t, size_t at) {
  typename V::D k = V::dfma(V::widen(V::load(t + at)), V::dset1(1.0 - call.eps), V::dset1(call.smoothPerClass));
  if constexpr (kWeighted) k = V::dmul(k, V::widen(V::load(call.args->weight + at)));
  return k;
}

// The online pass's whole vectors from class i on, two per block, in segments of at most kTieSegment vectors after
// which the float tie counts move to double (exact below 2^24). kRaise: whether a block may raise the lanes'
// maxima (not where they were found first). Returns where the whole vectors end.
template <class V, bool kProbabilities, bool kWeighted, bool kRaise, bool kStoreExp>
FUSED_BCE_INLINE size_t onlineWholeVectors(const CeCall& call, const typename BceMath<V>::Tables& tab, const float* x,
                                           const float* t, float* expOut, OnlineState<V>& s) {
  using F = typename V::F;
  using Ce = CeMath<V>;
  constexpr size_t W = V::kWidth;
  const size_t classes = call.args->classes;
  size_t i = 0;
  while (i + W <= classes) {
    const size_t end = classes - i > kTieSegment * W ? i + kTieSegment * W : classes;
    for (; i + 2 * W <= end; i += 2 * W) {
      const F x0 = V::load(x + i), x1 = V::load(x + i + W);
      if constexpr (kRaise) {
        Ce::raiseMax(tab, V::maxKeepNan(V::maxKeepNan(s.max, x0), x1), s.max, s.belowA, s.belowB, s.ties, s.tiesFolded);
      }
      const F e0 = Ce::addBelowMax(tab, x0, s.max, s.belowA, s.ties);
      const F e1 = Ce::addBelowMax(tab, x1, s.max, s.belowB, s.ties);
      if constexpr (kStoreExp) {
        V::store(expOut + i, e0);
        V::store(expOut + i + W, e1);
      }
      if constexpr (kProbabilities) {
        s.coefficientSum = V::dadd(s.coefficientSum, V::dadd(coefficientsAt<V, kWeighted>(call, t, i), coefficientsAt<V, kWeighted>(call, t, i + W)));
      }
    }
    if (i + W <= end) {
      const F x0 = V::load(x + i);
      if constexpr (kRaise) Ce::raiseMax(tab, V::maxKeepNan(s.max, x0), s.max, s.belowA, s.belowB, s.ties, s.tiesFolded);
      const F e0 = Ce::addBelowMax(tab, x0, s.max, s.belowA, s.ties);
      if constexpr (kStoreExp) V::store(expOut + i, e0);
      if constexpr (kProbabilities) s.coefficientSum = V::dadd(s.coefficientSum, coefficientsAt<V, kWeighted>(call, t, i));
      i += W;
    }
    s.tiesFolded = V::dadd(s.tiesFolded, V::widen(s.ties));
    s.ties = V::set1(0.0f);
  }
  return i;
}

// The lanes' maxima of a row of at least kWidth classes, from four running maxima (one would wait on the latency
// of each max).
template <class V>
FUSED_BCE_INLINE typename V::F laneMaxima(const float* x, size_t classes) {
  using F = typename V::F;
  constexpr size_t W = V::kWidth;
  F m0 = V::set1(-portable::kInfinity), m1 = m0, m2 = m0, m3 = m0;
  size_t c = 0;
  for (; c + 4 * W <= classes; c += 4 * W) {
    m0 = V::maxKeepNan(m0, V::load(x + c));
    m1 = V::maxKeepNan(m1, V::load(x + c + W));
    m2 = V::maxKeepNan(m2, V::load(x + c + 2 * W));
    m3 = V::maxKeepNan(m3, V::load(x + c + 3 * W));
  }
  for (; c + W <= classes; c += W) m0 = V::maxKeepNan(m0, V::load(x + c));
  if (c < classes) m0 = V::maxKeepNan(m0, V::load(x + classes - W));
  return V::maxKeepNan(V::maxKeepNan(m0, m1), V::maxKeepNan(m2, m3));
}

// The online pass over one row of at least kWidth `classes` logits (and, for probability targets, the sum of their
// coefficients into *coefficientSum). A row of at most kMaxFirstClasses takes its max first; with expOut (not the
// logits) it writes each e^(x - max) before its correction there, for the second read, and says so in *expStored.
template <class V, bool kProbabilities, bool kWeighted>
FUSED_BCE_INLINE RowStats onlinePass(const CeCall& call, const typename BceMath<V>::Tables& tab, const float* x,
                                     const float* t, float* expOut, double* coefficientSum, bool* expStored) {
  using F = typename V::F;
  constexpr size_t W = V::kWidth;
  const size_t classes = call.args->classes;
  const typename V::D zeroD = V::dset1(0.0);
  OnlineState<V> s{V::set1(-portable::kInfinity), V::set1(0.0f), zeroD, zeroD, zeroD, zeroD};
  size_t i;
  *expStored = false;
  if (classes <= kMaxFirstClasses) {
    // A row that stays in the L1 cache: its max first, so that no block raises it (at 1000 classes most blocks
    // would raise some lane's max otherwise, each a mispredicted branch and an exp).
    // Every lane at the row's max, so that e^(x - max) is what the second read needs (and in place, where it is
    // not kept, the sums are the same: the same bits).
    alignas(64) float lanes[W];
    V::store(lanes, laneMaxima<V>(x, classes));
    s.max = V::set1(pairwiseMax<W>(lanes));
    if (expOut != nullptr) {
      *expStored = true;
      i = onlineWholeVectors<V, kProbabilities, kWeighted, false, true>(call, tab, x, t, expOut, s);
    } else {
      i = onlineWholeVectors<V, kProbabilities, kWeighted, false, false>(call, tab, x, t, nullptr, s);
    }
  } else {
    i = onlineWholeVectors<V, kProbabilities, kWeighted, true, false>(call, tab, x, t, nullptr, s);
  }
  if (i < classes) {
    // The row's last W elements, those counted already (its first lanes) as -inf, their coefficients as 0.
    const size_t last = classes - W;
    const auto counted = V::firstLanes(i - last);
    const F x0 = V::select(counted, V::set1(-portable::kInfinity), V::load(x + last));
    if (classes > kMaxFirstClasses) {  // (else every lane holds the row's max already)
      CeMath<V>::raiseMax(tab, V::maxKeepNan(s.max, x0), s.max, s.belowA, s.belowB, s.ties, s.tiesFolded);
    }
    const F e0 = CeMath<V>::addBelowMax(tab, x0, s.max, s.belowA, s.ties);
    if (*expStored) V::store(expOut + last, V::select(counted, V::load(expOut + last), e0));
    if constexpr (kProbabilities) {
      s.coefficientSum = V::dadd(s.coefficientSum, V::dselect(counted, zeroD, coefficientsAt<V, kWeighted>(call, t, last)));
    }
    s.tiesFolded = V::dadd(s.tiesFolded, V::widen(s.ties));
  }
  if constexpr (kProbabilities) *coefficientSum = dtotal<V>(s.coefficientSum);
  return finishRow<V>(tab, s.max, V::dadd(s.belowA, s.belowB), s.tiesFolded);
}

// The second read of an index-target row: the gradient of every class as if none were the target (the target's
// is rewritten after, in double), and for the smoothing term the sum of w_c (M - x_c) in double (M - x_c may
// overflow float32). Without weights and with a finite max that sum is C M - sum_c x_c, the logits summed in double
// (exact where they are close to M, where cancellation could cost). A class of weight 0 counts 0 in both, whatever
// its distance and the row's scale (0 times an infinite one would be NaN), as the TypeScript kernel's `weighted`
// has it. The last W elements run as one vector that overlaps the one before (the row has at least W), loaded
// before anything is written (the gradient may be written over the logits) and stored with the overlap's gradient
// kept.
template <class V, bool kWeighted, bool kGrad, bool kSmoothLoss, bool kFiniteMax, bool kExpStored>
FUSED_BCE_INLINE double indexRowPass(const CeCall& call, const typename BceMath<V>::Tables& tab, const float* x,
                                     float* grad, float rowMax, float coefficientP, float ownScale, double logSum) {
  using F = typename V::F;
  using D = typename V::D;
  using Mask = typename V::M;
  constexpr size_t W = V::kWidth;
  const size_t classes = call.args->classes;
  const float* w = call.args->weight;
  const F maxV = V::set1(rowMax), coefP = V::set1(coefficientP), own = V::set1(ownScale), zero = V::set1(0.0f);
  const D maxD = V::widen(maxV), zeroD = V::dset1(0.0), logSumD = V::dset1(logSum);
  constexpr bool sumOfLogits = !kWeighted && kFiniteMax;
  D distanceSum = zeroD;
  typename V::Acc logitSum;
  static_assert(kFiniteMax || !kExpStored, "e^(x - M) is stored only below a finite M");
  // eStored: e^(x - M) before its correction, from the online pass (kExpStored), in the gradient's place.
  const auto gradient = [&](F xv, F wv, F eStored) {
    F correction;
    F e;
    if constexpr (kExpStored) {
      e = eStored;
      correction = CeMath<V>::correctionBelowFinite(e, xv, maxV);
    } else {
      e = kFiniteMax ? CeMath<V>::expAndCorrectionBelowFinite(tab, xv, maxV, correction)
                     : CeMath<V>::expAndCorrection(tab, xv, maxV, correction);
    }
    F ownV = own;
    if constexpr (kWeighted) {
      // (No smoothing term, no weight: an infinite or NaN weight of another class does not reach the row.)
      if (ownScale != 0) ownV = V::select(V::eq(wv, zero), zero, V::mul(wv, own));
    }
    // e coefP - own with e's correction folded in before the one rounding of the fma.
    return V::fma(e, coefP, V::fms(correction, coefP, ownV));
  };
  // w_c -log p_c of the lanes not in `counted`.
  const auto addDistances = [&](F xv, F wv, Mask counted) {
    if constexpr (sumOfLogits) {
      V::accumulate(logitSum, V::select(counted, zero, xv));
      return;
    }
    // (M - x is 0 at x == M but for an infinite M.)
    const D distance = V::dsub(maxD, V::widen(xv));
    D term = V::dadd(kFiniteMax ? distance : V::dselect(V::eq(xv, maxV), zeroD, distance), logSumD);
    if constexpr (kWeighted) term = V::dselect(V::eq(wv, zero), zeroD, V::dmul(term, V::widen(wv)));
    distanceSum = V::dadd(distanceSum, V::dselect(counted, zeroD, term));
  };
  const Mask none = V::firstLanes(0);
  const size_t last = classes - W;
  const F xLast = V::load(x + last), wLast = kWeighted ? V::load(w + last) : zero;
  const F eLast = kExpStored ? V::load(grad + last) : zero;
  size_t i = 0;
  for (; i + W <= classes; i += W) {
    const F xv = V::load(x + i), wv = kWeighted ? V::load(w + i) : zero;
    if constexpr (kGrad) V::store(grad + i, gradient(xv, wv, kExpStored ? V::load(grad + i) : zero));
    if constexpr (kSmoothLoss) addDistances(xv, wv, none);
  }
  if (i < classes) {
    const Mask counted = V::firstLanes(i - last);
    if constexpr (kGrad) V::store(grad + last, V::select(counted, V::load(grad + last), gradient(xLast, wLast, eLast)));
    if constexpr (kSmoothLoss) addDistances(xLast, wLast, counted);
  }
  if (!kSmoothLoss) return 0.0;
  if constexpr (sumOfLogits) {
    const double c = static_cast<double>(classes);
    return (c * static_cast<double>(rowMax) - V::total(logitSum)) + c * logSum;
  }
  return dtotal<V>(distanceSum);
}

// indexRowPass with kFiniteMax and kExpStored chosen at run time: the row's max is finite, and its exponentials
// were kept in the gradient's place (only where it is, see onlinePass).
template <class V, bool kWeighted, bool kGrad, bool kSmoothLoss>
FUSED_BCE_INLINE double indexRowPassFor(bool finiteMax, bool expStored, const CeCall& call,
                                        const typename BceMath<V>::Tables& tab, const float* x, float* grad, float rowMax,
                                        float coefficientP, float ownScale, double logSum) {
  if (finiteMax && expStored)
    return indexRowPass<V, kWeighted, kGrad, kSmoothLoss, true, true>(call, tab, x, grad, rowMax, coefficientP, ownScale, logSum);
  if (finiteMax)
    return indexRowPass<V, kWeighted, kGrad, kSmoothLoss, true, false>(call, tab, x, grad, rowMax, coefficientP, ownScale, logSum);
  return indexRowPass<V, kWeighted, kGrad, kSmoothLoss, false, false>(call, tab, x, grad, rowMax, coefficientP, ownScale, logSum);
}

// The lanes whose probability-target coefficient w (t (1 - eps) + eps / C) is 0: a weight of 0 (with a finite
// target), or without smoothing a target of 0 (with a finite weight).
template <class V>
FUSED_BCE_INLINE typename V::M zeroCoefficients(const CeCall& call, typename V::F t, typename V::F w) {
  using F = typename V::F;
  const F zero = V::set1(0.0f), one = V::set1(1.0f);
  const auto finite = [&](F v) { return V::eq(V::sub(v, v), zero); };
  // 0 times a finite factor (0 times inf or NaN is NaN, as PyTorch's product gives).
  const F weightZero = V::select(V::eq(w, zero), V::select(finite(t), one, zero), zero);
  const F targetZero = call.eps == 0 ? V::select(V::eq(t, zero), V::select(finite(w), one, zero), zero) : zero;
  return V::eq(V::select(V::eq(weightZero, one), one, targetZero), one);
}

// The second read of a probability-target row, in double from the coefficients on: the gradient, and the sum of
// k_c (M - x_c). A zero coefficient counts 0 in both, whatever the distance and the row's scale (see
// zeroCoefficients).
template <class V, bool kWeighted, bool kGrad, bool kLoss, bool kExpStored>
FUSED_BCE_INLINE double probabilityRowPass(const CeCall& call, const typename BceMath<V>::Tables& tab,
                                           const float* x, const float* t, float* grad, float rowMax,
                                           double coefficientP, double rowScale, double logSum) {
  using F = typename V::F;
  using D = typename V::D;
  constexpr size_t W = V::kWidth;
  const size_t classes = call.args->classes;
  const float* w = call.args->weight;
  const F maxV = V::set1(rowMax);
  const D keep = V::dset1(1.0 - call.eps), spread = V::dset1(call.smoothPerClass);
  const D coefP = V::dset1(coefficientP), negScale = V::dset1(-rowScale), maxD = V::widen(maxV), zeroD = V::dset1(0.0);
  D lossSum = zeroD;
  // The gradient of one vector, and k_c -log p_c of its lanes not in `counted` into lossSum.
  // eStored: e^(x - M) before its correction, kept by the online pass in the gradient's place (kExpStored: a
  // finite M, where x == M needs no test: hi = lo = 0 there).
  const auto step = [&](F xv, F tv, F wv, typename V::M counted, F eStored) {
    D k = V::dfma(V::widen(tv), keep, spread);
    if constexpr (kWeighted) k = V::dmul(k, V::widen(wv));
    const auto zero = zeroCoefficients<V>(call, tv, wv);
    if constexpr (kLoss) {
      const D negLogP = V::dadd(V::dselect(V::eq(xv, maxV), zeroD, V::dsub(maxD, V::widen(xv))), V::dset1(logSum));
      lossSum = V::dadd(lossSum, V::dselect(counted, zeroD, V::dselect(zero, zeroD, V::dmul(k, negLogP))));
    }
    if constexpr (!kGrad) return V::set1(0.0f);
    F correction, eF;
    if constexpr (kExpStored) {
      eF = eStored;
      correction = CeMath<V>::correctionBelowFinite(eF, xv, maxV);
    } else {
      eF = CeMath<V>::expAndCorrection(tab, xv, maxV, correction);
    }
    const D e = V::dadd(V::widen(eF), V::widen(correction));
    return V::narrow(V::dfma(e, coefP, V::dselect(zero, zeroD, V::dmul(k, negScale))));
  };
  // The last W elements as one vector overlapping the one before, as indexRowPass.
  const size_t last = classes - W;
  const F one = V::set1(1.0f);
  const F xLast = V::load(x + last), tLast = V::load(t + last), wLast = kWeighted ? V::load(w + last) : one;
  const F eLast = kExpStored ? V::load(grad + last) : one;
  const auto none = V::firstLanes(0);
  size_t i = 0;
  for (; i + W <= classes; i += W) {
    const F g = step(V::load(x + i), V::load(t + i), kWeighted ? V::load(w + i) : one, none, kExpStored ? V::load(grad + i) : one);
    if constexpr (kGrad) V::store(grad + i, g);
  }
  if (i < classes) {
    const auto counted = V::firstLanes(i - last);
    const F g = step(xLast, tLast, wLast, counted, eLast);
    if constexpr (kGrad) V::store(grad + last, V::select(counted, V::load(grad + last), g));
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

// Whether a row's scale lets the gradient be formed with the scale folded into float coefficients: 0, or a
// magnitude in [2^-100, 2^100] for the scale and for its product with eps / C. Beyond (or not finite), a float
// coefficient could lose bits to underflow (a 2^-130 keeps 19) or overflow, or an infinite scale meet 0.
inline bool scaleFitsFloat(double scale, double smoothPerClass) {
  const auto fits = [](double s) { return s == 0 || (std::fabs(s) >= 0x1p-100 && std::fabs(s) <= 0x1p100); };
  return fits(scale) && (smoothPerClass == 0 || fits(scale * smoothPerClass));
}

// The same for an index-target row's float coefficients: the scale times the row's total K, times its target's
// own coefficient, and times the largest smoothing coefficient stay below 2^100 (a weight of 3e38 times a scale of
// 7 overflows float).
inline bool indexRowFitsFloat(const CeCall& call, double scale, double total, double targetOwn) {
  const double s = std::fabs(scale), limit = 0x1p100;
  return scaleFitsFloat(scale, call.smoothPerClass) && s * std::fabs(total) <= limit && s * std::fabs(targetOwn) <= limit &&
         s * call.smoothPerClass * call.maxWeight <= limit;
}

// The gradient of one row whose scale does not fit (scaleFitsFloat), as the TypeScript kernel forms it: scale (K
// p_c - k_c) in double, the scale applied last. x and t are read with a stride (the row-per-lane block's, or 1).
inline void gradientWithExtremeScale(const CeCall& call, const float* x, const float* t, size_t stride, int64_t target,
                                     float rowMax, double others, double total, double rowScale, float* grad) {
  const CeKernelArgs& a = *call.args;
  const double invDenominator = 1.0 / (1.0 + others);
  const auto probabilityCoefficient = [&](size_t c) {
    const double w = a.weight != nullptr ? static_cast<double>(a.weight[c]) : 1.0;
    return w * (static_cast<double>(t[c * stride]) * (1.0 - call.eps) + call.smoothPerClass);
  };
  if (t != nullptr) {  // K as the sum of exactly the coefficients below, as the TypeScript kernel forms it
    total = 0;
    for (size_t c = 0; c < a.classes; ++c) total += probabilityCoefficient(c);
  }
  for (size_t c = 0; c < a.classes; ++c) {
    const float xc = x[c * stride];
    const double p = (xc == rowMax ? 1.0 : std::exp(static_cast<double>(xc) - static_cast<double>(rowMax))) * invDenominator;
    const double w = a.weight != nullptr ? static_cast<double>(a.weight[c]) : 1.0;
    double coefficient;
    if (t != nullptr) {
      coefficient = probabilityCoefficient(c);
    } else {
      coefficient = (static_cast<int64_t>(c) == target ? (1.0 - call.eps) * w : 0.0) + (call.eps == 0 ? 0.0 : call.smoothPerClass * w);
    }
    grad[c] = static_cast<float>(rowScale * (total * p - coefficient));
  }
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
    // (e^(x - M) kept in the gradient's place for the second read, unless that is the logits.)
    bool expStored;
    const RowStats stats = onlinePass<V, true, kWeighted>(call, tab, x, t, kGrad && grad != x ? grad : nullptr, &coefficientSum, &expStored);
    const double logSum = logOnePlusOf<V>(tab, stats.others);
    const double coefficientP = rowScale * coefficientSum / (1.0 + stats.others);
    double distanceSum;
    if (!kGrad || scaleFitsFloat(rowScale, call.smoothPerClass)) {
      distanceSum = expStored && stats.max - stats.max == 0
                        ? probabilityRowPass<V, kWeighted, kGrad, true, true>(call, tab, x, t, grad, stats.max, coefficientP, rowScale, logSum)
                        : probabilityRowPass<V, kWeighted, kGrad, true, false>(call, tab, x, t, grad, stats.max, coefficientP, rowScale, logSum);
    } else {
      distanceSum = probabilityRowPass<V, kWeighted, false, true, false>(call, tab, x, t, grad, stats.max, coefficientP, rowScale, logSum);
      gradientWithExtremeScale(call, x, t, 1, -1, stats.max, stats.others, coefficientSum, rowScale, grad);
    }
    return call.wantLoss ? distanceSum : 0.0;
  } else {
    const int64_t target = classIndexAt(a, r);
    const double wy = kWeighted && target != a.ignoreIndex ? a.weight[target] : 1.0;
    const double targetCoefficient = (1.0 - call.eps) * wy;
    if (target == a.ignoreIndex || (targetCoefficient == 0 && (call.eps == 0 || a.weightTotal == 0))) {
      if constexpr (kGrad) zeroRow<V>(grad, classes);
      return 0.0;
    }
    const float xy = x[target];  // (read before an in-place gradient overwrites it)
    // (e^(x - M) kept in the gradient's place for the second read, unless that is the logits.)
    bool expStored;
    const RowStats stats = onlinePass<V, false, kWeighted>(call, tab, x, nullptr, kGrad && grad != x ? grad : nullptr, nullptr, &expStored);
    const double logSum = logOnePlusOf<V>(tab, stats.others);
    const double total = targetCoefficient + (call.eps == 0 ? 0.0 : call.smoothPerClass * a.weightTotal);  // K
    const double invDenominator = 1.0 / (1.0 + stats.others);
    const bool smoothLoss = call.wantLoss && call.eps != 0;
    const bool finiteMax = stats.max - stats.max == 0;
    const bool floatScale = indexRowFitsFloat(call, rowScale, total, targetCoefficient + (call.eps == 0 ? 0.0 : call.smoothPerClass * wy));
    const float coefP = static_cast<float>(rowScale * total * invDenominator);
    const float ownScale = call.smoothPerClass == 0 ? 0.0f : static_cast<float>(rowScale * call.smoothPerClass);
    double distanceSum = 0;
    if (kGrad && !floatScale) {
      if (smoothLoss) distanceSum = indexRowPass<V, kWeighted, false, true, false, false>(call, tab, x, grad, stats.max, coefP, ownScale, logSum);
      gradientWithExtremeScale(call, x, nullptr, 1, target, stats.max, stats.others, total, rowScale, grad);
    } else if (smoothLoss) {
      distanceSum = indexRowPassFor<V, kWeighted, kGrad, true>(finiteMax, expStored, call, tab, x, grad, stats.max, coefP, ownScale, logSum);
    } else if (kGrad) {
      indexRowPassFor<V, kWeighted, kGrad, false>(finiteMax, expStored, call, tab, x, grad, stats.max, coefP, ownScale, logSum);
    }
    const double targetDistance = xy == stats.max ? 0.0 : static_cast<double>(stats.max) - static_cast<double>(xy);
    if (kGrad && floatScale) {
      const double p = (xy == stats.max ? 1.0 : std::exp(-targetDistance)) * invDenominator;
      const double own = targetCoefficient + (call.eps == 0 ? 0.0 : call.smoothPerClass * wy);
      grad[target] = static_cast<float>(rowScale * (total * p - own));
    }
    if (!call.wantLoss) return 0.0;
    double loss = weighted(targetCoefficient, targetDistance + logSum);
    if (call.eps != 0) loss += call.smoothPerClass * distanceSum;
    return loss;
  }
}

// Rows [0, count) of a row-major block of `classes` columns (count <= kWidth) into class-major order: block[c kWidth
// + l] = rows[l classes + c], rows past count as zeros; and back. A tile of kWidth columns moves as kWidth vectors
// and one transpose (or V::loadColumns). A row's vector read may run past its end into the next rows (lanes that
// land past `classes` in the block and are not used), but never past `readable` elements from rows: the call's own
// range (another thread's rows may be changing, and past it the array may end); a tile closer to that end is read
// through a copy. The block holds whole tiles (a multiple of kWidth columns).
template <class V>
FUSED_BCE_NOINLINE void rowsToBlock(const float* rows, size_t classes, size_t count, size_t readable, float* block) {
  using F = typename V::F;
  constexpr size_t W = V::kWidth;
  for (size_t c0 = 0; c0 < classes; c0 += W) {
    const size_t columns = classes - c0 < W ? classes - c0 : W;
    if constexpr (V::kHasLoadColumns) {
      if (count == W && (W - 1) * classes + c0 + W <= readable) {
        V::loadColumns(rows + c0, classes, columns, block + c0 * W);
      } else {
        alignas(64) float tile[W * W] = {};
        for (size_t l = 0; l < count; ++l) {  // (whole vectors where they stay readable)
          const size_t at = l * classes + c0;
          if (at + W <= readable) {
            V::store(tile + l * W, V::load(rows + at));
          } else {
            for (size_t c = 0; c < columns; ++c) tile[l * W + c] = rows[at + c];
          }
        }
        V::loadColumns(tile, W, columns, block + c0 * W);
      }
    } else {
      F v[W];
      for (size_t l = 0; l < W; ++l) {
        const size_t at = l * classes + c0;
        if (l >= count) {
          v[l] = V::set1(0.0f);
        } else if (at + W <= readable) {
          v[l] = V::load(rows + at);
        } else {
          alignas(64) float part[W] = {};
          for (size_t c = 0; c < columns; ++c) part[c] = rows[at + c];
          v[l] = V::load(part);
        }
      }
      V::transpose(v);
      for (size_t c = 0; c < W; ++c) V::store(block + (c0 + c) * W, v[c]);
    }
  }
}

// The class-major block back into rows [0, count), writing nothing past the block's own rows (the gradient may be
// the logits array, whose next rows are still to be read). With V::storeFirst each row's part of a tile is written
// exactly; otherwise a row's vector store in the last, partial tile runs into the next rows, which are written
// after it (rows in order, the last tile first), and a store that would pass the end of row count - 1 goes through
// a copy.
template <class V>
FUSED_BCE_NOINLINE void blockToRows(const float* block, size_t classes, size_t count, float* rows) {
  using F = typename V::F;
  constexpr size_t W = V::kWidth;
  const size_t end = count * classes;
  for (size_t c0 = (classes - 1) / W * W;; c0 -= W) {
    const size_t columns = classes - c0 < W ? classes - c0 : W;
    F v[W];
    for (size_t c = 0; c < W; ++c) v[c] = V::load(block + (c0 + c) * W);
    V::transpose(v);
    for (size_t l = 0; l < count; ++l) {
      const size_t at = l * classes + c0;
      if constexpr (V::kHasStoreFirst) {
        V::storeFirst(rows + at, v[l], columns);  // (overlapping full stores cost 5% more at 10 classes)
      } else if (at + W <= end) {
        V::store(rows + at, v[l]);
      } else {
        alignas(64) float part[W];
        V::store(part, v[l]);
        for (size_t c = 0; c < columns; ++c) rows[at + c] = part[c];
      }
    }
    if (c0 == 0) break;
  }
}

// For rows that share their coefficients (rowsPerLane's `uniform`): per lane the target as a float, -1 where the row
// is ignored or past count, and 1 in zeroLanes there (else 0).
template <size_t W, class Index>
FUSED_BCE_INLINE void uniformTargets(const Index* indices, size_t count, int64_t ignoreIndex, float* targetLane, float* zeroLanes) {
  const portable::IgnoreIndex32 ignore = portable::ignoreIndex32(ignoreIndex);
  const auto laneTarget = [&](size_t l) {  // (no branch)
    const int32_t y = indices[l];
    const bool zero = (y == ignore.value) & ignore.fits;
    targetLane[l] = zero ? -1.0f : static_cast<float>(y);
    zeroLanes[l] = zero ? 1.0f : 0.0f;
  };
  if (count == W) {  // a constant trip count: vectorised
    for (size_t l = 0; l < W; ++l) laneTarget(l);
    return;
  }
  for (size_t l = 0; l < W; ++l) {  // a partial block: the lanes past count as ignored rows
    if (l < count) laneTarget(l);
    else targetLane[l] = -1.0f, zeroLanes[l] = 1.0f;
  }
}

// Rows of at most kRowsPerLaneClasses classes run kWidth rows at a time, one row per lane: the rows are
// transposed into a stack block (class-major), read from the caller's arrays once. There the max comes first (a
// vector max per class), then e^(x - max) of every class, kept in the block for the gradient, with `others`
// summed in double (ties with the max counted apart) and no lane merge; the log1p is a vector one, and the
// gradient is one fms per class, transposed back. Rows whose coefficients are all 0 (ignored, or a target of
// weight 0 without smoothing) are computed like the others and written as 0.
constexpr size_t kRowsPerLaneClasses = 32;

template <class V, bool kProbabilities, bool kWeighted, bool kGrad>
FUSED_BCE_NOINLINE void rowsPerLane(const CeCall& call, const typename BceMath<V>::Tables& tab, size_t firstRow,
                                    size_t count, double* rowLoss) {
  using F = typename V::F;
  using D = typename V::D;
  using Ce = CeMath<V>;
  constexpr size_t W = V::kWidth;
  const CeKernelArgs& a = *call.args;
  const size_t classes = a.classes;
  alignas(64) float xT[kRowsPerLaneClasses * W];
  alignas(64) float eT[kRowsPerLaneClasses * W];
  alignas(64) float correctionT[kRowsPerLaneClasses * W];
  alignas(64) float tT[kProbabilities ? kRowsPerLaneClasses * W : 1];
  alignas(64) float targetLane[W], targetCoefficientF[W], rowScaleF[W], ownTargetF[W];
  alignas(64) double targetCoefficient[W], rowScale[W], targetOwn[W];
  // The block (the missing rows of a last group as zeros: finite values).
  const size_t readable = (a.rows - firstRow) * classes;
  rowsToBlock<V>(a.logits + firstRow * classes, classes, count, readable, xT);
  if constexpr (kProbabilities) rowsToBlock<V>(a.probabilities + firstRow * classes, classes, count, readable, tT);
  // Per row: whether it is written as 0 (past the call's rows, ignored, or all coefficients 0), and for class
  // indices its target (-1 in a zero row, so that it matches no class). Rows that share their scale and
  // coefficients (no weight, no per-row upstream gradient: `uniform`) need nothing else; otherwise per row its
  // scale, and for class indices its coefficient and own term, in double and in float.
  const bool perRowScale = a.gradOutput != nullptr;
  const bool uniform = !kProbabilities && !kWeighted && !perRowScale;
  alignas(64) float zeroLanes[W];
  if (uniform) {  // (a loop per index type with no branch: the compiler vectorises it)
    if (a.indicesI32 != nullptr) uniformTargets<W>(a.indicesI32 + firstRow, count, a.ignoreIndex, targetLane, zeroLanes);
    else if (a.indicesU16 != nullptr) uniformTargets<W>(a.indicesU16 + firstRow, count, a.ignoreIndex, targetLane, zeroLanes);
    else uniformTargets<W>(a.indicesU8 + firstRow, count, a.ignoreIndex, targetLane, zeroLanes);
  }
  for (size_t l = 0; l < W && !uniform; ++l) {
    const bool real = l < count;
    const size_t r = firstRow + l;
    bool zero = !real;
    if constexpr (!kProbabilities) {
      const int64_t y = real ? classIndexAt(a, r) : a.ignoreIndex;
      const bool ignored = y == a.ignoreIndex;
      double wy = 1.0, coefficient = 1.0 - call.eps;
      if constexpr (kWeighted) {
        wy = ignored ? 1.0 : a.weight[y];
        coefficient *= wy;
        zero = ignored || (coefficient == 0 && (call.eps == 0 || a.weightTotal == 0));
      } else {
        zero = ignored;
      }
      targetLane[l] = zero ? -1.0f : static_cast<float>(y);
      if (!uniform) {
        rowScale[l] = perRowScale && real ? a.gradScale * static_cast<double>(a.gradOutput[r]) : a.gradScale;
        targetCoefficient[l] = coefficient;
        targetCoefficientF[l] = static_cast<float>(coefficient);
        targetOwn[l] = coefficient + (call.eps == 0 ? 0.0 : call.smoothPerClass * wy);
        ownTargetF[l] = static_cast<float>(rowScale[l] * targetOwn[l]);
      }
    } else {
      rowScale[l] = perRowScale && real ? a.gradScale * static_cast<double>(a.gradOutput[r]) : a.gradScale;
    }
    zeroLanes[l] = zero ? 1.0f : 0.0f;
  }
  if (!uniform) {
    for (size_t l = 0; l < W; ++l) rowScaleF[l] = static_cast<float>(rowScale[l]);
  }
  // The max of each row (NaN ignored here: it reaches the sum through its e^(x - max)).
  // (Two running maxima over alternate classes: one would wait on each compare and blend.) With them, for the
  // smoothing term of unweighted class indices, the sum of the logits in double (see finiteMax below; V::kSumLogits).
  constexpr bool kDistancesBySum = V::kSumLogits && !kProbabilities && !kWeighted;
  const bool sumLogits = kDistancesBySum && call.wantLoss && call.eps != 0;
  F m = V::load(xT), mOdd = m;
  D logitSum = V::widen(m);
  size_t c = 1;
  for (; c + 2 <= classes; c += 2) {
    const F x0 = V::load(xT + c * W), x1 = V::load(xT + (c + 1) * W);
    mOdd = V::select(V::lt(mOdd, x0), x0, mOdd);
    m = V::select(V::lt(m, x1), x1, m);
    if (sumLogits) logitSum = V::dadd(logitSum, V::dadd(V::widen(x0), V::widen(x1)));
  }
  if (c < classes) {
    const F x = V::load(xT + c * W);
    mOdd = V::select(V::lt(mOdd, x), x, mOdd);
    if (sumLogits) logitSum = V::dadd(logitSum, V::widen(x));
  }
  m = V::select(V::lt(m, mOdd), mOdd, m);
  // e^(x - max) of every class, and others: the sum over the classes but one maximal one. The e^hi add in double;
  // their corrections e lo (|lo| <= 2^-24 |hi|, so their sum is below 2^-17 of the row's) add in float, where
  // summing 32 of them costs less than 2^-36 of the row's sum.
  const F zeroF = V::set1(0.0f), oneF = V::set1(1.0f);
  D sum = V::dset1(0.0);
  F corrections = zeroF;
  F ties = zeroF;
  D coefficientSum = V::dset1(0.0);
  const D keep = V::dset1(1.0 - call.eps), spread = V::dset1(call.smoothPerClass);
  const auto coefficientsOf = [&](size_t c) {
    D k = V::dfma(V::widen(V::load(tT + c * W)), keep, spread);
    if constexpr (kWeighted) k = V::dmul(k, V::dset1(a.weight[c]));
    return k;
  };
  // (Each row's target logit picked up on the way, class indices only; -1 in a zero row matches no class.)
  const F target = V::load(targetLane);
  F xy = zeroF;
  // Where every lane's max is finite (or NaN: the row is NaN either way), e^(x - max) needs no test for an infinite
  // difference, and the smoothing term's distances of unweighted class indices add up as C max - sum of x (in
  // double, exact for logits of nearby exponents; an x of -inf gives +inf, as each distance would).
  const bool finiteMax = !V::any(V::ge(V::abs(m), V::set1(portable::kInfinity)));
  const auto expPass = [&](auto finite) {
    F classF = zeroF;
    for (size_t c = 0; c < classes; ++c) {
      const F x = V::load(xT + c * W);
      if constexpr (!kProbabilities) {
        xy = V::select(V::eq(target, classF), x, xy);
        classF = V::add(classF, oneF);
      }
      F correction;
      const F e = decltype(finite)::value ? Ce::expAndCorrectionBelowFinite(tab, x, m, correction) : Ce::expAndCorrection(tab, x, m, correction);
      V::store(eT + c * W, e);
      V::store(correctionT + c * W, correction);
      const auto tie = V::eq(x, m);
      sum = V::dadd(sum, V::widen(V::select(tie, zeroF, e)));
      corrections = V::add(corrections, correction);
      ties = V::add(ties, V::select(tie, oneF, zeroF));
      if constexpr (kProbabilities) coefficientSum = V::dadd(coefficientSum, coefficientsOf(c));
    }
  };
  if (finiteMax) expPass(std::true_type{});
  else expPass(std::false_type{});
  D others = V::dadd(V::dadd(sum, V::widen(corrections)), V::widen(V::sub(ties, oneF)));
  others = V::dselect(V::eq(m, V::set1(-portable::kInfinity)), V::dset1(portable::kNaN), others);  // a row of -inf only
  const D logSum = Ce::logOnePlus(tab, others);
  const D invDenominator = reciprocalOf<V>(V::dadd(V::dset1(1.0), others));
  const double uniformCoefficient = 1.0 - call.eps, uniformOwn = uniformCoefficient + call.smoothPerClass;
  const D scale = uniform ? V::dset1(a.gradScale) : V::dload(rowScale);
  const D targetCoefficientD = uniform ? V::dset1(uniformCoefficient) : V::dload(targetCoefficient);
  const D total = kProbabilities ? coefficientSum
                                 : V::dadd(targetCoefficientD, V::dset1(call.eps == 0 ? 0.0 : call.smoothPerClass * a.weightTotal));
  const D coefficientPD = V::dmul(V::dmul(scale, total), invDenominator), negScale = V::dsub(V::dset1(0.0), scale);
  const F coefficientP = V::narrow(coefficientPD);
  const D maxD = V::widen(m), zeroD = V::dset1(0.0);
  const F ownTarget = uniform ? V::set1(static_cast<float>(a.gradScale * uniformOwn)) : V::load(ownTargetF);
  const F scaleF = uniform ? V::set1(static_cast<float>(a.gradScale)) : V::load(rowScaleF);
  D distanceSum = zeroD;
  const bool smoothLoss = call.wantLoss && (kProbabilities || call.eps != 0);
  const auto zeroRow = V::eq(V::load(zeroLanes), oneF);  // rows written as 0
  for (size_t c = 0; c < classes; ++c) {
    F own = zeroF;  // the class's coefficient times the row's scale (class indices)
    // (A zero coefficient counts 0, whatever the distance and the row's scale: see zeroCoefficients.)
    if constexpr (kProbabilities) {
      const D k = coefficientsOf(c);
      const auto zero = zeroCoefficients<V>(call, V::load(tT + c * W), V::set1(kWeighted ? a.weight[c] : 1.0f));
      // In double, as the streamed path (a product of a large weight and target with the scale may overflow float).
      if constexpr (kGrad) {
        const D e = V::dadd(V::widen(V::load(eT + c * W)), V::widen(V::load(correctionT + c * W)));
        V::store(eT + c * W, V::select(zeroRow, zeroF, V::narrow(V::dfma(e, coefficientPD, V::dselect(zero, zeroD, V::dmul(k, negScale))))));
      }
      if (smoothLoss) {
        const F x = V::load(xT + c * W);
        const D negLogP = V::dadd(V::dselect(V::eq(x, m), zeroD, V::dsub(maxD, V::widen(x))), logSum);
        distanceSum = V::dadd(distanceSum, V::dselect(zero, zeroD, V::dmul(k, negLogP)));
      }
    } else {
      const float wc = kWeighted ? a.weight[c] : 1.0f;
      const float smooth = call.eps == 0 ? 0.0f : static_cast<float>(call.smoothPerClass * wc);
      own = V::select(V::eq(target, V::set1(static_cast<float>(c))), ownTarget, smooth == 0 ? zeroF : V::mul(scaleF, V::set1(smooth)));
      if (smoothLoss && wc != 0 && !(kDistancesBySum && finiteMax)) {
        const F x = V::load(xT + c * W);
        D negLogP = V::dadd(V::dselect(V::eq(x, m), zeroD, V::dsub(maxD, V::widen(x))), logSum);
        if constexpr (kWeighted) negLogP = V::dmul(negLogP, V::dset1(wc));
        distanceSum = V::dadd(distanceSum, negLogP);
      }
    }
    if constexpr (kGrad && !kProbabilities) {
      V::store(eT + c * W, V::select(zeroRow, zeroF, V::fma(V::load(eT + c * W), coefficientP, V::fms(V::load(correctionT + c * W), coefficientP, own))));
    }
  }
  if (call.wantLoss) {
    D loss;
    if constexpr (kProbabilities) {
      loss = distanceSum;
    } else {
      const D targetDistance = V::dselect(V::eq(xy, m), zeroD, V::dsub(maxD, V::widen(xy)));
      const F targetCoefficientZero = uniform ? V::set1(static_cast<float>(uniformCoefficient)) : V::load(targetCoefficientF);
      const D targetTerm = V::dselect(V::eq(targetCoefficientZero, zeroF), zeroD, V::dmul(targetCoefficientD, V::dadd(targetDistance, logSum)));
      if (kDistancesBySum && finiteMax) {
        const D classesD = V::dset1(static_cast<double>(classes));
        distanceSum = V::dadd(V::dsub(V::dmul(classesD, maxD), logitSum), V::dmul(classesD, logSum));
      }
      const D smoothTerm = V::dmul(spread, distanceSum);
      loss = call.eps != 0 ? V::dadd(targetTerm, smoothTerm) : targetTerm;
    }
    V::dstore(rowLoss, V::dselect(zeroRow, zeroD, loss));
  }
  // Whether each row's gradient may be formed in float (indexRowFitsFloat); once for all when `uniform`. The rows
  // that do not are written again from double.
  if constexpr (kGrad) {
    bool fits[W], allFit = true;
    for (size_t l = 0; l < count; ++l) {
      if (uniform) {
        fits[l] = l > 0 ? fits[0] : indexRowFitsFloat(call, a.gradScale, uniformCoefficient + (call.eps == 0 ? 0.0 : call.smoothPerClass * a.weightTotal), uniformOwn);
      } else {
        fits[l] = kProbabilities ? scaleFitsFloat(rowScale[l], call.smoothPerClass)
                                 : indexRowFitsFloat(call, rowScale[l], targetCoefficient[l] + (call.eps == 0 ? 0.0 : call.smoothPerClass * a.weightTotal), targetOwn[l]);
      }
      allFit = allFit && (fits[l] || zeroLanes[l] != 0);
      if (uniform && fits[0]) break;  // (all fit)
    }
    blockToRows<V>(eT, classes, count, a.gradOut + firstRow * classes);
    if (!allFit) {
      alignas(64) float maxes[W];
      alignas(64) double othersLanes[W], totals[W];
      V::store(maxes, m);
      V::dstore(othersLanes, others);
      V::dstore(totals, total);
      for (size_t l = 0; l < count; ++l) {
        if (zeroLanes[l] != 0 || fits[uniform ? 0 : l]) continue;
        const int64_t target = kProbabilities ? -1 : static_cast<int64_t>(targetLane[l]);
        gradientWithExtremeScale(call, xT + l, kProbabilities ? tT + l : nullptr, W, target, maxes[l], othersLanes[l], totals[l],
                                 uniform ? a.gradScale : rowScale[l], a.gradOut + (firstRow + l) * classes);
      }
    }
  }
}

// The rows of a call; the loss sum adds the rows' float64 losses (before their rounding to float32: a row's loss
// may overflow float32 while the mean does not), in row order.
template <class V, bool kProbabilities, bool kWeighted, bool kGrad>
double runCeRows(const CeKernelArgs& a) {
  const typename BceMath<V>::Tables tab;
  double maxWeight = 1;
  static_assert(kRowsPerLaneClasses >= V::kWidth, "a streamed row holds at least one vector");
  if (kWeighted) {
    maxWeight = 0;
    for (size_t c = 0; c < a.classes; ++c) {
      const double w = std::fabs(static_cast<double>(a.weight[c]));
      maxWeight = w > maxWeight || w != w ? w : maxWeight;  // (NaN stays: no row then fits float)
    }
  }
  CeCall call{&a, a.labelSmoothing, a.labelSmoothing / static_cast<double>(a.classes), maxWeight,
              a.wantLossSum || a.lossOut != nullptr};
  double sum = 0;
  if (a.classes <= kRowsPerLaneClasses) {
    alignas(64) double losses[V::kWidth] = {};
    for (size_t r = 0; r < a.rows; r += V::kWidth) {
      const size_t count = a.rows - r < V::kWidth ? a.rows - r : V::kWidth;
      rowsPerLane<V, kProbabilities, kWeighted, kGrad>(call, tab, r, count, losses);
      for (size_t l = 0; l < count; ++l) {
        const double loss = losses[l];
        if (a.lossOut != nullptr) a.lossOut[r + l] = static_cast<float>(loss);
        sum += call.wantLoss ? loss : 0.0;
      }
    }
    return sum;
  }
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
