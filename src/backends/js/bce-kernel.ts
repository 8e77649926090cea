// The pure-TypeScript kernel: the fallback backend and the structure the C++ kernel mirrors
// (native/kernel/bce_kernel.inl). Every step is computed in float64 and rounded once when stored.
import { Param } from '../kernel';
import type { KernelPass } from '../kernel';
import { firstInvalidLabel, refuseLabel } from '../../options/checks';
import { EXP_CHUNK, expFirst, expFirstPass, expNonPositive, log1pUnit } from './math';
import { focalPass, isFocal } from './focal-kernel';

/**
 * Per element, with y' = y * smoothScale + smoothShift, p = posWeight[c], w = weight:
 *   negTarget  = 1 - y', computed from 1 - y so that hard labels never cancel
 *   posTarget  = p * y'
 *   softplusWeight = negTarget + posTarget           (= 1 + (p - 1) y', a sum of non-negative terms)
 *   loss = w * (linear + softplusWeight * log1p(e^-|x|)),
 *          linear = negTarget * |x| for x >= 0, (y' * |x|) * p for x < 0
 *   grad = w * scale * (sigmoid(x) * softplusWeight - posTarget), from e = e^-|x| and r = 1 / (1 + e):
 *          x >= 0: (negTarget - posTarget * e) * r,   x < 0: (negTarget * e - posTarget) * r
 * Both loss terms are >= 0 for y' in [0, 1], so the sum has no cancellation; at |x| = inf the
 * linear term is 0 where its weight is 0 (the limit) instead of 0 * inf = NaN. A weight of 0 masks.
 */
export const bcePass: KernelPass = (logits, targets, posWeight, weight, lossOut, gradOut, gradOutput, params) => {
  const n = logits.length;
  const classes = params[Param.Classes];
  const smoothScale = params[Param.SmoothScale];
  const smoothShift = params[Param.SmoothShift];
  const gradScale = params[Param.GradScale];
  const wantLossSum = params[Param.WantLossSum] === 1;
  if (targets.BYTES_PER_ELEMENT === 1) {
    const bad = firstInvalidLabel(targets as Uint8Array);
    if (bad >= 0) throw refuseLabel('js', targets as Uint8Array, bad, params);
  }
  if (isFocal(params)) {
    focalPass(logits, targets, posWeight, weight, lossOut, gradOut, gradOutput, params);
    return;
  }
  const wantLoss = wantLossSum || lossOut !== null;
  // The fast path, as the C++ kernel's: no posWeight or weight, a scalar upstream gradient.
  if (posWeight === null && weight === null && gradOutput === null) {
    fastPath(logits, targets, lossOut, gradOut, wantLoss, smoothScale, smoothShift, gradScale);
    if (wantLossSum) params[Param.LossSum] = loopSum[0];
    return;
  }
  const weightPerElement = weight !== null && weight.length === n;
  let lossSum = 0;
  for (let rowStart = 0; rowStart < n; rowStart += classes) {
    for (let c = 0; c < classes; c++) {
      const i = rowStart + c;
      const x = logits[i];
      const y = targets[i];
      const p = posWeight === null ? 1 : posWeight[c];
      const w = weight === null ? 1 : weight[weightPerElement ? i : c];

      const smoothedTarget = y * smoothScale + smoothShift;
      const negTarget = (1 - y) * smoothScale + smoothShift;
      const posTarget = p * smoothedTarget;
      const softplusWeight = negTarget + posTarget;
      const absLogit = Math.abs(x);
      const expNegAbs = expNonPositive(-absLogit);

      const recip = 1 / (1 + expNegAbs);
      const nonNegative = x >= 0;

      if (wantLoss) {
        const log1pExp = log1pUnit(expNegAbs);
        const linearTarget = nonNegative ? negTarget : smoothedTarget;
        const linearScale = nonNegative ? 1 : p;
        const linear = linearTarget === 0 || linearScale === 0 ? 0 : linearTarget * absLogit * linearScale;
        const loss = w === 0 ? 0 : w * (linear + softplusWeight * log1pExp);
        if (lossOut !== null) lossOut[i] = loss;
        lossSum += loss;
      }
      if (gradOut !== null) {
        const gradCore = (nonNegative ? negTarget - posTarget * expNegAbs : negTarget * expNegAbs - posTarget) * recip;
        const weighted = gradOutput === null ? gradCore * w : gradCore * w * gradOutput[i];
        gradOut[i] = w === 0 ? 0 : weighted * gradScale;
      }
    }
  }
  if (wantLossSum) params[Param.LossSum] = lossSum;
};

/*
 * The unweighted fast path (p = w = 1), as in native/kernel/bce_kernel.inl (softplus weight (1 - y') + y'):
 *   x >= 0: loss = (1 - y') x + log1p(e),  grad = ((1 - y') - y' e) / (1 + e) * scale
 *   x < 0:  loss = -y' x + log1p(e),       grad = ((1 - y') e - y') / (1 + e) * scale
 * each in float64, rounded once when stored. Hard labels are 0 or 1, so y' comes from the same arithmetic for
 * both target types.
 * As the C++ kernel picks runAll<kLoss, kGrad>, one loop per combination of outputs (loss and gradient, loss,
 * gradient), each with one branch per element, on the sign of x (a sign is as good as random; V8 compiles each
 * ?: and each test of an option inside a loop to a branch, and they cost as much as the arithmetic). The limit
 * 0 * inf = 0 of the linear term at an infinite logit is not tested per element: such an element makes the sum
 * NaN, and then the pass is run again by carefulPath, which tests it (the same bits everywhere else).
 * Each loop leaves its float64 sum in loopSum[0] (0 without a loss): a number returned from a call that V8 does
 * not inline is boxed, an allocation per call.
 */
const loopSum = new Float64Array(1);

function fastPath(
  logits: Float32Array, targets: Float32Array | Uint8Array, lossOut: Float32Array | null, gradOut: Float32Array | null,
  wantLoss: boolean, smoothScale: number, smoothShift: number, gradScale: number,
): void {
  loopSum[0] = 0;
  if (!wantLoss) {
    if (gradOut !== null) gradientLoop(logits, targets, gradOut, smoothScale, smoothShift, gradScale);
    return;
  }
  // In place (gradOut is logits: the public functions pass logits itself then, see gradOutForKernel in plan.ts)
  // the logits are gone after one pass: no second pass, so the careful one now; and for a few elements.
  const careful = logits.length < 16 || gradOut === logits;
  if (!careful) {
    if (gradOut === null) lossLoop(logits, targets, lossOut, smoothScale, smoothShift);
    else lossGradientLoop(logits, targets, lossOut, gradOut, smoothScale, smoothShift, gradScale);
    const sum = loopSum[0];
    if (sum === sum) return;
  }
  carefulPath(logits, targets, lossOut, gradOut, wantLoss, smoothScale, smoothShift, gradScale);
}

// As the C++ kernel's runSpan (kExpFirst), each loop runs in two passes over chunks (math.ts's expFirstPass: in the
// benchmark 1.03-1.18x the hand-written loop, against 0.97-0.99x in one pass). The same values either way.
function lossGradientLoop(
  logits: Float32Array, targets: Float32Array | Uint8Array, lossOut: Float32Array | null, gradOut: Float32Array,
  smoothScale: number, smoothShift: number, gradScale: number,
): void {
  let lossSum = 0;
  for (let begin = 0; begin < logits.length; begin += EXP_CHUNK) {
    const end = Math.min(logits.length, begin + EXP_CHUNK);
    expFirstPass(logits, begin, end);
    for (let i = begin; i < end; i++) {
      const x = logits[i];
      const y = targets[i];
      const smoothedTarget = y * smoothScale + smoothShift;
      const negTarget = (1 - y) * smoothScale + smoothShift;
      const expNegAbs = expFirst[i - begin];
      let linear: number;
      let core: number;
      if (x >= 0) {
        linear = negTarget * x;
        core = negTarget - smoothedTarget * expNegAbs;
      } else {
        linear = -smoothedTarget * x;
        core = negTarget * expNegAbs - smoothedTarget;
      }
      // The softplus weight is 1 up to float64 rounding, but NaN for an infinite target (inf - inf), as in the
      // general formula and the native kernel's double path: so it is computed, not assumed.
      const loss = linear + (negTarget + smoothedTarget) * log1pUnit(expNegAbs);
      if (lossOut !== null) lossOut[i] = loss;
      lossSum += loss;
      gradOut[i] = (core / (1 + expNegAbs)) * gradScale;
    }
  }
  loopSum[0] = lossSum;
}

function lossLoop(
  logits: Float32Array, targets: Float32Array | Uint8Array, lossOut: Float32Array | null, smoothScale: number, smoothShift: number,
): void {
  let lossSum = 0;
  for (let begin = 0; begin < logits.length; begin += EXP_CHUNK) {
    const end = Math.min(logits.length, begin + EXP_CHUNK);
    expFirstPass(logits, begin, end);
    for (let i = begin; i < end; i++) {
      const x = logits[i];
      const y = targets[i];
      const smoothedTarget = y * smoothScale + smoothShift;
      const negTarget = (1 - y) * smoothScale + smoothShift;
      const linear = x >= 0 ? negTarget * x : -smoothedTarget * x;
      const loss = linear + (negTarget + smoothedTarget) * log1pUnit(expFirst[i - begin]);
      if (lossOut !== null) lossOut[i] = loss;
      lossSum += loss;
    }
  }
  loopSum[0] = lossSum;
}

function gradientLoop(
  logits: Float32Array, targets: Float32Array | Uint8Array, gradOut: Float32Array, smoothScale: number, smoothShift: number,
  gradScale: number,
): void {
  for (let begin = 0; begin < logits.length; begin += EXP_CHUNK) {
    const end = Math.min(logits.length, begin + EXP_CHUNK);
    expFirstPass(logits, begin, end);
    for (let i = begin; i < end; i++) {
      const x = logits[i];
      const y = targets[i];
      const smoothedTarget = y * smoothScale + smoothShift;
      const negTarget = (1 - y) * smoothScale + smoothShift;
      const expNegAbs = expFirst[i - begin];
      const core = x >= 0 ? negTarget - smoothedTarget * expNegAbs : negTarget * expNegAbs - smoothedTarget;
      gradOut[i] = (core / (1 + expNegAbs)) * gradScale;
    }
  }
}

// The same formulas in one loop that also takes the limit 0 * inf = 0 of the linear term at infinite logits
// (tested only where x is infinite); for sums that came out NaN, and for the gradient in place.
function carefulPath(
  logits: Float32Array, targets: Float32Array | Uint8Array, lossOut: Float32Array | null, gradOut: Float32Array | null,
  wantLoss: boolean, smoothScale: number, smoothShift: number, gradScale: number,
): void {
  let lossSum = 0;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    const y = targets[i];
    const smoothedTarget = y * smoothScale + smoothShift;
    const negTarget = (1 - y) * smoothScale + smoothShift;
    const expNegAbs = expNonPositive(-Math.abs(x));
    let linear: number;
    let core: number;
    if (x >= 0) {
      linear = x === Infinity && negTarget === 0 ? 0 : negTarget * x;
      core = negTarget - smoothedTarget * expNegAbs;
    } else {
      linear = x === -Infinity && smoothedTarget === 0 ? 0 : -smoothedTarget * x;
      core = negTarget * expNegAbs - smoothedTarget;
    }
    if (wantLoss) {
      const loss = linear + (negTarget + smoothedTarget) * log1pUnit(expNegAbs);
      if (lossOut !== null) lossOut[i] = loss;
      lossSum += loss;
    }
    if (gradOut !== null) gradOut[i] = (core / (1 + expNegAbs)) * gradScale;
  }
  loopSum[0] = lossSum;
}
