// Softmax cross-entropy with label smoothing, PyTorch's F.cross_entropy: forward, backward and fused
// forward+backward, each one pass through the kernel.
import { CeParam } from '../generated/contract';
import { invalidClassIndexMessage } from '../generated/contract';
import { checkFixedLengthArrays } from '../options/checks';
import { Op, ceGradOutForKernel, prepareCePlan } from '../options/ce-plan';
import type { CePlan } from '../options/ce-plan';
import { kernelFor } from '../backends/select';
import type {
  ClassTargets, CrossEntropyBackwardOptions, CrossEntropyForwardOptions, CrossEntropyFusedOptions, FusedResult, Reduction,
} from './types';

/**
 * The error a kernel threw, as the public function reports it: a refused class index names the function (the
 * kernels name their backend).
 */
export function ceError(fn: string, targets: ClassTargets, params: Float64Array, err: unknown): unknown {
  const row = params[CeParam.InvalidTargetAt];
  if (!(row >= 0)) return err;
  params[CeParam.InvalidTargetAt] = -1;
  return new RangeError(invalidClassIndexMessage(fn, row, targets[row], params[CeParam.Classes], params[CeParam.IgnoreIndex]));
}

/**
 * The pass of a prepared plan into the given arrays (lossOut for 'none'; gradOut or null for the loss alone);
 * for 'mean' and 'sum' the sum and the mean's divisor go to the plan's parameter block (ceReducedValue reads them).
 */
export function cePlanPass(plan: CePlan, lossOut: Float32Array | null, gradOut: Float32Array | null, gradOutput: Float32Array | null): void {
  plan.params[CeParam.WantLossSum] = plan.reduction === 'none' ? 0 : 1;
  const kernel = kernelFor(plan.n);
  const into = ceGradOutForKernel(plan, gradOut);
  try {
    // Without weight, lossOut and gradOutput, the four-argument entry point (each argument is a Node-API call).
    if (lossOut === null && gradOutput === null && plan.weight === null) kernel.cePassUnweighted(plan.logits, plan.targets, into, plan.params);
    else kernel.cePass(plan.logits, plan.targets, plan.weight, lossOut, into, gradOutput, plan.params);
  } catch (err) {
    throw ceError(plan.fn, plan.targets, plan.params, err);
  }
}

/** The mean or sum of the last reduced pass of a plan. */
export function ceReducedValue(plan: CePlan): number {
  return reduce(plan.params[CeParam.LossSum], plan.reduction, plan.params[CeParam.MeanDivisor]);
}

function reduce(sum: number, reduction: Reduction, divisor: number): number {
  return reduction === 'mean' ? sum / divisor : sum;
}

/**
 * Softmax cross-entropy of rows of logits (`[rows, C]`, `options.classes` = C) against class indices (an
 * Int32Array, Uint16Array or Uint8Array, one per row) or class probabilities (a Float32Array like logits), with
 * PyTorch's semantics (weight, ignoreIndex, labelSmoothing). Returns the mean or sum (a number, accumulated in
 * float64) or, for reduction 'none', the per-row losses.
 */
export function crossEntropy(logits: Float32Array, targets: ClassTargets, options: CrossEntropyForwardOptions & { reduction: 'none' }): Float32Array;
export function crossEntropy(logits: Float32Array, targets: ClassTargets, options: CrossEntropyForwardOptions & { reduction?: 'mean' | 'sum' }): number;
export function crossEntropy(logits: Float32Array, targets: ClassTargets, options: CrossEntropyForwardOptions): number | Float32Array;
export function crossEntropy(logits: Float32Array, targets: ClassTargets, options: CrossEntropyForwardOptions): number | Float32Array {
  const plan = prepareCePlan('crossEntropy', Op.Forward, logits, targets, options);
  if (plan.reduction === 'none') {
    const lossOut = plan.lossOut ?? new Float32Array(plan.rows);
    cePlanPass(plan, lossOut, null, null);
    return lossOut;
  }
  cePlanPass(plan, null, null, null);
  return ceReducedValue(plan);
}

/** d(loss)/d(logits) of crossEntropy for the given reduction, times options.gradOutput. Writes into options.gradOut if given. */
export function crossEntropyBackward(logits: Float32Array, targets: ClassTargets, options: CrossEntropyBackwardOptions): Float32Array {
  const plan = prepareCePlan('crossEntropyBackward', Op.Backward, logits, targets, options);
  const gradOut = plan.gradOut ?? new Float32Array(plan.n);
  cePlanPass(plan, null, gradOut, plan.gradOutput);
  return gradOut;
}

/** The loss and its gradient from one pass over the data (two reads of each row). */
export function crossEntropyFused(logits: Float32Array, targets: ClassTargets, options: CrossEntropyFusedOptions & { reduction: 'none' }): FusedResult<Float32Array>;
export function crossEntropyFused(logits: Float32Array, targets: ClassTargets, options: CrossEntropyFusedOptions & { reduction?: 'mean' | 'sum' }): FusedResult<number>;
export function crossEntropyFused(logits: Float32Array, targets: ClassTargets, options: CrossEntropyFusedOptions): FusedResult;
export function crossEntropyFused(logits: Float32Array, targets: ClassTargets, options: CrossEntropyFusedOptions): FusedResult {
  const plan = prepareCePlan('crossEntropyFused', Op.Fused, logits, targets, options);
  const gradOut = plan.gradOut ?? new Float32Array(plan.n);
  if (plan.reduction === 'none') {
    const lossOut = plan.lossOut ?? new Float32Array(plan.rows);
    cePlanPass(plan, lossOut, gradOut, plan.gradOutput);
    return { loss: lossOut, grad: gradOut };
  }
  cePlanPass(plan, null, gradOut, null);
  return { loss: ceReducedValue(plan), grad: gradOut };
}

/** Inputs below this many elements are computed inline by crossEntropyFusedAsync, as bceWithLogitsFusedAsync does. */
const ASYNC_INLINE_BELOW = 16384;

/**
 * crossEntropyFused without stalling the event loop, as bceWithLogitsFusedAsync: on the native backend a worker
 * on the libuv pool and the main thread, in short turns, share the work; the same results as the sync call, bit
 * for bit. Do not write, transfer or resize the arrays before the promise settles. Bad arguments reject with the
 * same TypeError/RangeError as the sync call. On the wasm and js backends the work runs on the main thread.
 */
export function crossEntropyFusedAsync(logits: Float32Array, targets: ClassTargets, options: CrossEntropyFusedOptions & { reduction: 'none' }): Promise<FusedResult<Float32Array>>;
export function crossEntropyFusedAsync(logits: Float32Array, targets: ClassTargets, options: CrossEntropyFusedOptions & { reduction?: 'mean' | 'sum' }): Promise<FusedResult<number>>;
export function crossEntropyFusedAsync(logits: Float32Array, targets: ClassTargets, options: CrossEntropyFusedOptions): Promise<FusedResult>;
export async function crossEntropyFusedAsync(logits: Float32Array, targets: ClassTargets, options: CrossEntropyFusedOptions): Promise<FusedResult> {
  const fn = 'crossEntropyFusedAsync';
  const shared = prepareCePlan(fn, Op.Fused, logits, targets, options);
  checkFixedLengthArrays(fn, [
    ['logits', shared.logits], ['targets', shared.targets], ['options.weight', shared.weight], ['options.gradOutput', shared.gradOutput],
    ['options.lossOut', shared.lossOut], ['options.gradOut', shared.gradOut],
  ]);
  const { n, rows, reduction } = shared;
  const gradOut = shared.gradOut ?? new Float32Array(n);
  const lossOut = reduction === 'none' ? shared.lossOut ?? new Float32Array(rows) : null;
  if (n < ASYNC_INLINE_BELOW) {
    cePlanPass(shared, lossOut, gradOut, shared.gradOutput);
    return { loss: lossOut ?? ceReducedValue(shared), grad: gradOut };
  }
  // Each call in flight has its own parameter block (the shared plan is refilled by the next call).
  const params = Float64Array.from(shared.params);
  params[CeParam.WantLossSum] = reduction === 'none' ? 0 : 1;
  const kernel = kernelFor(n);
  const into = ceGradOutForKernel(shared, gradOut);
  try {
    const sum = await kernel.cePassAsync(shared.logits, shared.targets, shared.weight, lossOut, into, shared.gradOutput, params);
    return { loss: lossOut ?? reduce(sum, reduction, params[CeParam.MeanDivisor]), grad: gradOut };
  } catch (err) {
    throw ceError(fn, targets, params, err);
  }
}
