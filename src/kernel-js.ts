// The pure-TypeScript kernel: the fallback backend and the structure the C++ kernel mirrors
// (native/kernel/bce_kernel.inl). Every step is computed in float64 and rounded once when stored.
import { Param } from './types';
import type { KernelRun } from './types';
import { firstInvalidLabel, invalidLabelError } from './validate';

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
export const runJs: KernelRun = (logits, targets, posWeight, weight, lossOut, gradOut, gradOutput, params) => {
  const n = logits.length;
  const classes = params[Param.Classes];
  const smoothScale = params[Param.SmoothScale];
  const smoothShift = params[Param.SmoothShift];
  const gradScale = params[Param.GradScale];
  const wantLossSum = params[Param.WantLossSum] === 1;
  if (targets.BYTES_PER_ELEMENT === 1) {
    const bad = firstInvalidLabel(targets as Uint8Array);
    if (bad >= 0) throw invalidLabelError('', targets as Uint8Array, bad);
  }
  const wantLoss = wantLossSum || lossOut !== null;
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
      const expNegAbs = Math.exp(-absLogit);

      const recip = 1 / (1 + expNegAbs);
      const nonNegative = x >= 0;

      if (wantLoss) {
        const log1pExp = Math.log1p(expNegAbs);
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
