// The focal loss in TypeScript: the fallback backend's, and the structure native/kernel/focal_kernel.inl mirrors.
// Every step in float64, rounded once when stored.
import { Param } from '../kernel';
import { EXP_CHUNK, expFirst, expFirstPass, expNonPositive, log1pUnit } from './math';

/** Whether a parameter block asks for the focal loss (gamma 0 without alpha is BCE itself: the BCE pass runs). */
export function isFocal(params: Float64Array): boolean {
  const gamma = params[Param.FocalGamma];
  return gamma > 0 || (gamma === 0 && params[Param.FocalAlpha] >= 0);
}

// q^gamma and d(q^gamma)/dx / (1 - 2t) of the last focalFactor call (a number returned from a call V8 does not
// inline is boxed, an allocation per element).
const factor = new Float64Array(2);

/**
 * q^gamma and gamma q^gamma p (1 - p) / q into factor[0], factor[1], as native/kernel/focal_kernel.inl's focalFactor:
 * integer gamma, and gamma = k + 1/2 with k >= 1 (q^(gamma - 1) = q^(k - 1) sqrt(q)), here; other gamma in
 * focalFactorGeneral (apart, so that this stays small enough for V8 to inline: with the general path in it, gamma 2
 * took 1.3-1.5x as long).
 */
function focalFactor(
  gamma: number, integerGamma: number, halfIntegerGamma: number, lin: number, oth: number, e: number, recip: number, absX: number,
  log1pE: number,
): void {
  if (integerGamma === 0) {
    factor[0] = 1;
    factor[1] = 0;
    return;
  }
  if (integerGamma < 0 && halfIntegerGamma < 1) {
    focalFactorGeneral(gamma, halfIntegerGamma, lin, oth, e, recip, absX, log1pE);
    return;
  }
  const q = (lin + oth * e) * recip;
  let qPowLess = integerGamma < 0 ? Math.sqrt(q) : 1; // q^(gamma - 1)
  const multiplications = integerGamma < 0 ? halfIntegerGamma - 1 : integerGamma - 1;
  for (let k = 0; k < multiplications; k++) qPowLess *= q;
  factor[0] = qPowLess * q;
  factor[1] = gamma * qPowLess * (e * recip * recip);
}

/** focalFactor for gamma neither an integer nor k + 1/2 with k >= 1, as native/kernel/focal_kernel.inl's focalFactorGeneral. */
function focalFactorGeneral(
  gamma: number, halfIntegerGamma: number, lin: number, oth: number, e: number, recip: number, absX: number, log1pE: number,
): void {
  const q = (lin + oth * e) * recip;
  let focal: number, r: number;
  if (halfIntegerGamma === 0 && q >= 2 ** -100) {
    // gamma 1/2: sqrt(q) where q is in float32's range (as the C++ kernel's); p (1 - p) / q as below
    focal = Math.sqrt(q);
    r = (e * recip * recip) / q;
  } else if (q >= 1e-290) {
    // log q of q itself where q is far from underflow; p (1 - p) / q = e / (1 + e)^2 / q
    const power = gamma * Math.log(q);
    focal = power < -200 ? 0 : Math.exp(power);
    r = (e * recip * recip) / q;
  } else {
    // in log space from lin and oth e (the larger of them, big, and small / big)
    const othE = oth * e;
    const othBig = lin < Math.max(othE, 1e-300) || lin === 0;
    const ratio = othBig ? (lin === 0 ? 0 : lin / othE) : othE / lin;
    const logBig = othBig ? Math.log(oth) - absX : Math.log(lin);
    const power = gamma * (logBig + Math.log1p(ratio) - log1pE);
    focal = power < -200 ? 0 : Math.exp(power);
    r = (othBig ? 1 / oth : e / lin) / ((1 + ratio) * (1 + e));
  }
  factor[0] = focal;
  factor[1] = gamma * focal * r;
}

/**
 * Per element, t = y' (smoothed), negTarget = 1 - t, e = e^-|x|, p = sigmoid(x):
 *   q = 1 - p_t = p (1 - t) + (1 - p) t = (lin + oth e) / (1 + e), (lin, oth) = (negTarget, t) for x >= 0 and
 *       (t, negTarget) for x < 0: a sum of non-negative terms, no cancellation
 *   loss = w alpha_t q^gamma bce,  grad = w alpha_t scale (d(q^gamma)/dx bce + q^gamma bce')
 *   d(q^gamma)/dx = gamma q^gamma r (1 - 2t),  r = p (1 - p) / q = e / ((1 + e)(lin + oth e))
 * Integer gamma (0 to 8): q^gamma by multiplication, d(q^gamma)/dx = gamma q^(gamma-1) p (1 - p)(1 - 2t).
 * Half-integer gamma (k + 1/2, k from 1 to 8): the same with q^(gamma-1) = q^(k-1) sqrt(q). Gamma 1/2, q in
 * float32's range: sqrt(q). Other gamma: in log space,
 * log q = log(big) + log1p(small / big) - log1p(e) with big the larger of lin and oth e and log(oth e) =
 * log(oth) - |x|, so that q keeps its accuracy where e underflows and r stays finite for gamma < 1.
 * |x| > 200 counts as infinite for e; q^gamma below e^-200 is 0 from the logarithm (and rounds to 0 in float32
 * results from q^k sqrt(q)), as the C++ kernel's. A target outside [0, 1]
 * gives NaN, unless its weight is 0 (a weight of 0 masks whatever the target, as for BCE). bce and bce' are the BCE pass's (posWeight on the positive term).
 */
export function focalPass(
  logits: Float32Array, targets: Float32Array | Uint8Array, posWeight: Float32Array | null, weight: Float32Array | null,
  lossOut: Float32Array | null, gradOut: Float32Array | null, gradOutput: Float32Array | null, params: Float64Array,
): void {
  const n = logits.length;
  const classes = params[Param.Classes];
  const smoothScale = params[Param.SmoothScale];
  const smoothShift = params[Param.SmoothShift];
  const gradScale = params[Param.GradScale];
  const gamma = params[Param.FocalGamma] < 0 ? 0 : params[Param.FocalGamma];
  const alpha = params[Param.FocalAlpha];
  const integerGamma = gamma <= 8 && Math.floor(gamma) === gamma ? gamma : -1;
  const halfIntegerGamma = gamma >= 0.5 && gamma <= 8.5 && Math.floor(gamma - 0.5) === gamma - 0.5 ? gamma - 0.5 : -1;
  const alphaMayMask = alpha === 0 || alpha === 1;
  const wantLossSum = params[Param.WantLossSum] === 1;
  if (posWeight === null && weight === null && gradOutput === null && (integerGamma >= 1 || halfIntegerGamma >= 1)) {
    const halfInteger = integerGamma < 0;
    focalChunks(logits, targets, lossOut, gradOut, wantLossSum, smoothScale, smoothShift, gradScale, gamma, halfInteger,
      halfInteger ? halfIntegerGamma - 1 : integerGamma - 1, alpha);
    if (wantLossSum) params[Param.LossSum] = chunksSum[0];
    return;
  }
  const weightPerElement = weight !== null && weight.length === n;
  let lossSum = 0;
  let c = 0; // i % classes, counted
  for (let i = 0; i < n; i++, c = c + 1 === classes ? 0 : c + 1) {
    const x = logits[i];
    const y = targets[i];
    const p = posWeight === null ? 1 : posWeight[c];
    const w = weight === null ? 1 : weight[weightPerElement ? i : c];

    const target = y * smoothScale + smoothShift;
    const negTarget = (1 - y) * smoothScale + smoothShift;
    const nonNegative = x >= 0;
    const lin = nonNegative ? negTarget : target;
    const oth = nonNegative ? target : negTarget;
    const absX = Math.abs(x);
    const e = absX > 200 ? 0 : expNonPositive(-absX);
    const recip = 1 / (1 + e);
    const log1pE = log1pUnit(e);

    const posTarget = p * target;
    const softplusWeight = negTarget + posTarget;
    const linearCoef = nonNegative ? negTarget : posTarget;
    const bce = softplusWeight * log1pE + (linearCoef === 0 ? 0 : linearCoef * absX);
    const bceSlope = (nonNegative ? negTarget - posTarget * e : negTarget * e - posTarget) * recip;

    focalFactor(gamma, integerGamma, halfIntegerGamma, lin, oth, e, recip, absX, log1pE);
    const focal = factor[0];
    const focalSlope = factor[1] * (negTarget - target);

    const alphaT = alpha >= 0 ? alpha * target + (1 - alpha) * negTarget : 1;
    const weighted = w * alphaT;
    const outside = !(y >= 0 && y <= 1);
    // A weight of 0 (w, or alpha_t, which is 0 only for alpha 0 or 1) masks the element, as for BCE.
    const masked = w === 0 || (alphaMayMask && Math.fround(alphaT) === 0);
    if (lossOut !== null || wantLossSum) {
      // (the sum in float64 of the unrounded losses, as the BCE pass's: a float32 loss can overflow where the sum
      // of the losses does not)
      const loss = masked ? 0 : outside ? NaN : focal * bce * weighted;
      if (lossOut !== null) lossOut[i] = loss;
      lossSum += loss;
    }
    if (gradOut !== null) {
      const upstream = gradOutput === null ? 1 : gradOutput[i];
      // (bce is not finite only at infinite logits (or posWeight), where the factor's slope is 0: the limit of their
      // product is taken as 0; a slope is 0 where it is in float32, as the native kernel tests it)
      const slopeTerm = Math.fround(focalSlope) === 0 ? 0 : focalSlope * bce;
      gradOut[i] = masked ? 0 : outside ? NaN : (slopeTerm + focal * bceSlope) * (weighted * gradScale * upstream);
    }
  }
  if (wantLossSum) params[Param.LossSum] = lossSum;
}

// focalChunks' float64 sum (a number returned from a call V8 does not inline is boxed, an allocation per call).
const chunksSum = new Float64Array(1);

/**
 * The common case, as native/kernel/focal_kernel.inl's fast path (focalChunksFor): no posWeight, no weight, a scalar
 * upstream gradient, and gamma an integer from 1 or k + 1/2 with k >= 1 (q^(gamma - 1) is `multiplications` factors
 * q, times sqrt(q) for the half-integer). In chunks, e^-|x| first (math.ts's expFirstPass), then one loop with one
 * branch per element, on the sign of x (V8 compiles each ?: to a branch, and those on the sign cost as much as the
 * arithmetic). The same expressions as focalPass's loop with posWeight = w = upstream = 1, so the same values.
 */
function focalChunks(
  logits: Float32Array, targets: Float32Array | Uint8Array, lossOut: Float32Array | null, gradOut: Float32Array | null,
  wantLossSum: boolean, smoothScale: number, smoothShift: number, gradScale: number, gamma: number, halfInteger: boolean,
  multiplications: number, alpha: number,
): void {
  const n = logits.length;
  const hasAlpha = alpha >= 0;
  const alphaMayMask = alpha === 0 || alpha === 1;
  const wantLoss = wantLossSum || lossOut !== null;
  let lossSum = 0;
  for (let begin = 0; begin < n; begin += EXP_CHUNK) {
    const end = Math.min(n, begin + EXP_CHUNK);
    expFirstPass(logits, begin, end);
    for (let i = begin; i < end; i++) {
      const x = logits[i];
      const y = targets[i];
      const target = y * smoothScale + smoothShift;
      const negTarget = (1 - y) * smoothScale + smoothShift;
      const absX = Math.abs(x);
      const e = absX > 200 ? 0 : expFirst[i - begin];
      const recip = 1 / (1 + e);
      const softplus = (negTarget + target) * log1pUnit(e);
      let bce: number, bceSlope: number, q: number;
      if (x >= 0) {
        bce = softplus + (negTarget === 0 ? 0 : negTarget * absX);
        bceSlope = (negTarget - target * e) * recip;
        q = (negTarget + target * e) * recip;
      } else {
        bce = softplus + (target === 0 ? 0 : target * absX);
        bceSlope = (negTarget * e - target) * recip;
        q = (target + negTarget * e) * recip;
      }
      let qPowLess = halfInteger ? Math.sqrt(q) : 1; // q^(gamma - 1)
      if (!halfInteger && multiplications === 1) qPowLess = q; // (gamma 2 without the loop: 1.06x)
      else for (let k = 0; k < multiplications; k++) qPowLess *= q;
      const focal = qPowLess * q;
      const focalSlope = gamma * qPowLess * (e * recip * recip) * (negTarget - target);
      const alphaT = hasAlpha ? alpha * target + (1 - alpha) * negTarget : 1;
      const masked = alphaMayMask && Math.fround(alphaT) === 0;
      const outside = !(y >= 0 && y <= 1);
      if (wantLoss) {
        const loss = masked ? 0 : outside ? NaN : focal * bce * alphaT;
        if (lossOut !== null) lossOut[i] = loss;
        lossSum += loss;
      }
      if (gradOut !== null) {
        const slopeTerm = Math.fround(focalSlope) === 0 ? 0 : focalSlope * bce;
        gradOut[i] = masked ? 0 : outside ? NaN : (slopeTerm + focal * bceSlope) * (alphaT * gradScale);
      }
    }
  }
  chunksSum[0] = lossSum;
}
