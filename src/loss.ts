// The functional API: forward, backward and fused forward+backward, each one pass through the kernel.
import type { BackwardOptions, ForwardOptions, FusedOptions, FusedResult, Targets } from './types';
import { Op, preparePlan } from './plan';
import { currentKernel } from './backend';

/**
 * Binary cross-entropy on logits with label smoothing.
 * Returns the mean or sum (a number, accumulated in float64) or, for reduction 'none', the per-element losses.
 */
export function bceWithLogits(logits: Float32Array, targets: Targets, options: ForwardOptions & { reduction: 'none' }): Float32Array;
export function bceWithLogits(logits: Float32Array, targets: Targets, options?: ForwardOptions & { reduction?: 'mean' | 'sum' }): number;
export function bceWithLogits(logits: Float32Array, targets: Targets, options?: ForwardOptions): number | Float32Array;
export function bceWithLogits(logits: Float32Array, targets: Targets, options?: ForwardOptions): number | Float32Array {
  const plan = preparePlan('bceWithLogits', Op.Forward, logits, targets, options);
  const kernel = currentKernel();
  if (plan.reduction === 'none') {
    const lossOut = plan.lossOut ?? new Float32Array(plan.n);
    kernel.run(plan.logits, plan.targets, plan.posWeight, plan.weight, plan.classes, plan.smoothScale, plan.smoothShift,
      lossOut, null, 1, null, false);
    return lossOut;
  }
  const sum = kernel.run(plan.logits, plan.targets, plan.posWeight, plan.weight, plan.classes, plan.smoothScale,
    plan.smoothShift, null, null, 1, null, true);
  return plan.reduction === 'mean' ? sum / plan.n : sum;
}

/** d(loss)/d(logits) for the given reduction, times options.gradOutput. Writes into options.gradOut if given. */
export function bceWithLogitsBackward(logits: Float32Array, targets: Targets, options?: BackwardOptions): Float32Array {
  const plan = preparePlan('bceWithLogitsBackward', Op.Backward, logits, targets, options);
  const gradOut = plan.gradOut ?? new Float32Array(plan.n);
  currentKernel().run(plan.logits, plan.targets, plan.posWeight, plan.weight, plan.classes, plan.smoothScale,
    plan.smoothShift, null, gradOut, plan.gradScale, plan.gradOutput, false);
  return gradOut;
}

/** Loss and gradient from ONE pass over the data. */
export function bceWithLogitsFused(logits: Float32Array, targets: Targets, options: FusedOptions & { reduction: 'none' }): FusedResult<Float32Array>;
export function bceWithLogitsFused(logits: Float32Array, targets: Targets, options?: FusedOptions & { reduction?: 'mean' | 'sum' }): FusedResult<number>;
export function bceWithLogitsFused(logits: Float32Array, targets: Targets, options?: FusedOptions): FusedResult;
export function bceWithLogitsFused(logits: Float32Array, targets: Targets, options?: FusedOptions): FusedResult {
  const plan = preparePlan('bceWithLogitsFused', Op.Fused, logits, targets, options);
  const gradOut = plan.gradOut ?? new Float32Array(plan.n);
  const kernel = currentKernel();
  if (plan.reduction === 'none') {
    const lossOut = plan.lossOut ?? new Float32Array(plan.n);
    kernel.run(plan.logits, plan.targets, plan.posWeight, plan.weight, plan.classes, plan.smoothScale, plan.smoothShift,
      lossOut, gradOut, plan.gradScale, plan.gradOutput, false);
    return { loss: lossOut, grad: gradOut };
  }
  const sum = kernel.run(plan.logits, plan.targets, plan.posWeight, plan.weight, plan.classes, plan.smoothScale,
    plan.smoothShift, null, gradOut, plan.gradScale, null, true);
  return { loss: plan.reduction === 'mean' ? sum / plan.n : sum, grad: gradOut };
}
