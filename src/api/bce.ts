// The functional API: forward, backward and fused forward+backward, each one pass through the kernel.
import { Param } from '../generated/contract';
import { checkFixedLengthArrays, publicError } from '../options/checks';
import type { BackwardOptions, ForwardOptions, FusedOptions, FusedResult, Reduction, Targets } from './types';
import { Op, gradOutForKernel, prepareSharedPlan } from '../options/bce-plan';
import { kernelFor } from '../backends/select';
import type { Plan } from '../options/bce-plan';


// While an asynchronous call runs, JavaScript runs too: a resizable or growable buffer could shrink under it.
function checkFixedLength(fn: string, plan: Plan): void {
  checkFixedLengthArrays(fn, [
    ['logits', plan.logits], ['targets', plan.targets], ['options.posWeight', plan.posWeight], ['options.weight', plan.weight],
    ['options.gradOutput', plan.gradOutput], ['options.lossOut', plan.lossOut], ['options.gradOut', plan.gradOut],
  ]);
}

/**
 * Binary cross-entropy on logits with label smoothing.
 * Returns the mean or sum (a number, accumulated in float64) or, for reduction 'none', the per-element losses.
 */
export function bceWithLogits(logits: Float32Array, targets: Targets, options: ForwardOptions & { reduction: 'none' }): Float32Array;
export function bceWithLogits(logits: Float32Array, targets: Targets, options?: ForwardOptions & { reduction?: 'mean' | 'sum' }): number;
export function bceWithLogits(logits: Float32Array, targets: Targets, options?: ForwardOptions): number | Float32Array;
export function bceWithLogits(logits: Float32Array, targets: Targets, options?: ForwardOptions): number | Float32Array {
  const plan = prepareSharedPlan('bceWithLogits', Op.Forward, logits, targets, options);
  if (plan.reduction === 'none') {
    const lossOut = plan.lossOut ?? new Float32Array(plan.n);
    kernelPass(plan, lossOut, null, null);
    return lossOut;
  }
  reducedPass(plan, null);
  return reducedValue(plan);
}

/** d(loss)/d(logits) for the given reduction, times options.gradOutput. Writes into options.gradOut if given. */
export function bceWithLogitsBackward(logits: Float32Array, targets: Targets, options?: BackwardOptions): Float32Array {
  const plan = prepareSharedPlan('bceWithLogitsBackward', Op.Backward, logits, targets, options);
  const gradOut = plan.gradOut ?? new Float32Array(plan.n);
  kernelPass(plan, null, gradOut, plan.gradOutput);
  return gradOut;
}

/** Loss and gradient from ONE pass over the data. */
export function bceWithLogitsFused(logits: Float32Array, targets: Targets, options: FusedOptions & { reduction: 'none' }): FusedResult<Float32Array>;
export function bceWithLogitsFused(logits: Float32Array, targets: Targets, options?: FusedOptions & { reduction?: 'mean' | 'sum' }): FusedResult<number>;
export function bceWithLogitsFused(logits: Float32Array, targets: Targets, options?: FusedOptions): FusedResult;
export function bceWithLogitsFused(logits: Float32Array, targets: Targets, options?: FusedOptions): FusedResult {
  const plan = prepareSharedPlan('bceWithLogitsFused', Op.Fused, logits, targets, options);
  const gradOut = plan.gradOut ?? new Float32Array(plan.n);
  if (plan.reduction === 'none') {
    const lossOut = plan.lossOut ?? new Float32Array(plan.n);
    fusedPass(plan, lossOut, gradOut);
    return { loss: lossOut, grad: gradOut };
  }
  fusedPass(plan, null, gradOut);
  return { loss: reducedValue(plan), grad: gradOut };
}

/**
 * The fused pass of a prepared plan into the given arrays; for 'mean' and 'sum' the sum goes to the plan's
 * parameter block (reducedValue reads it). No allocation: BCEWithLogitsLoss runs its training steps through this.
 * (It returns nothing: a number returned from a call that V8 does not inline is boxed, an allocation per step.)
 */
export function fusedPass(plan: Plan, lossOut: Float32Array | null, gradOut: Float32Array): void {
  if (plan.reduction === 'none') kernelPass(plan, lossOut, gradOut, plan.gradOutput);
  else reducedPass(plan, gradOut);
}

/** The mean or sum of the last reduced pass of a plan. */
export function reducedValue(plan: Plan): number {
  return reduce(plan.params[Param.LossSum], plan.reduction, plan.n);
}

// The one reduction step of the sync and async calls: the float64 sum, or the mean from it.
function reduce(sum: number, reduction: Reduction, n: number): number {
  return reduction === 'mean' ? sum / n : sum;
}

// The pass for the mean or sum, with the gradient into gradOut if given; the sum comes back in the parameter block.
function reducedPass(plan: Plan, gradOut: Float32Array | null): void {
  plan.params[Param.WantLossSum] = 1;
  kernelPass(plan, null, gradOut, null);
}

// One pass of a plan through the kernel for its size. Unweighted calls with no lossOut and no per-element
// gradOutput take the kernel's four-argument entry point; an in-place gradient is handed over as logits itself.
function kernelPass(plan: Plan, lossOut: Float32Array | null, gradOut: Float32Array | null, gradOutput: Float32Array | null): void {
  const kernel = kernelFor(plan.n);
  const into = gradOutForKernel(plan, gradOut);
  try {
    if (lossOut === null && gradOutput === null && plan.posWeight === null && plan.weight === null) {
      kernel.passUnweighted(plan.logits, plan.targets, into, plan.params);
    } else {
      kernel.pass(plan.logits, plan.targets, plan.posWeight, plan.weight, lossOut, into, gradOutput, plan.params);
    }
  } catch (err) {
    throw publicError(plan.fn, plan.targets, plan.params, err);
  }
}

/**
 * Inputs below this many elements are computed inline by bceWithLogitsFusedAsync (its promise is then already
 * resolved): a round trip through the libuv pool costs about 50-75 us on the machines measured, longer than the
 * whole pass at these sizes (about 37 us at 16K elements on AVX2).
 */
export const ASYNC_INLINE_BELOW = 16384;

/**
 * bceWithLogitsFused without stalling the event loop: on the native backend a worker on the libuv pool (split
 * over `options.threads`) and the main thread, in turns of about a millisecond between turns of the event loop,
 * share the work, so a server or UI stays responsive. Same results as the sync call, bit for bit. The arrays are
 * read and written until the promise settles: do not write, transfer or resize them before it does (an array
 * found detached or resized rejects the promise with a TypeError). Bad arguments reject with the same
 * TypeError/RangeError as the sync call. On the wasm and js backends the work runs on the main thread before the
 * promise resolves.
 */
export function bceWithLogitsFusedAsync(logits: Float32Array, targets: Targets, options: FusedOptions & { reduction: 'none' }): Promise<FusedResult<Float32Array>>;
export function bceWithLogitsFusedAsync(logits: Float32Array, targets: Targets, options?: FusedOptions & { reduction?: 'mean' | 'sum' }): Promise<FusedResult<number>>;
export function bceWithLogitsFusedAsync(logits: Float32Array, targets: Targets, options?: FusedOptions): Promise<FusedResult>;
export async function bceWithLogitsFusedAsync(logits: Float32Array, targets: Targets, options?: FusedOptions): Promise<FusedResult> {
  // The plan object is shared by every call: take what this call needs before anything else can run.
  const plan = prepareSharedPlan('bceWithLogitsFusedAsync', Op.Fused, logits, targets, options);
  const { n, reduction } = plan;
  checkFixedLength('bceWithLogitsFusedAsync', plan);
  const gradOut = plan.gradOut ?? new Float32Array(n);
  const kernel = kernelFor(plan.n);
  if (n < ASYNC_INLINE_BELOW) {
    // Smaller than the cost of a trip through the libuv pool: computed now, the promise already resolved.
    if (reduction === 'none') {
      const lossOut = plan.lossOut ?? new Float32Array(n);
      fusedPass(plan, lossOut, gradOut);
      return { loss: lossOut, grad: gradOut };
    }
    fusedPass(plan, null, gradOut);
    return { loss: reducedValue(plan), grad: gradOut };
  }
  // Each call in flight has its own parameter block and sum (from a small pool: no allocation per call).
  const params = spareParams.pop() ?? new Float64Array(Param.Count);
  params.set(plan.params);
  const fn = plan.fn;
  try {
    if (reduction === 'none') {
      const lossOut = plan.lossOut ?? new Float32Array(n);
      await kernel.passAsync(plan.logits, plan.targets, plan.posWeight, plan.weight, lossOut, gradOutForKernel(plan, gradOut), plan.gradOutput, params);
      return { loss: lossOut, grad: gradOut };
    }
    params[Param.WantLossSum] = 1;
    const sum = await kernel.passAsync(plan.logits, plan.targets, plan.posWeight, plan.weight, null, gradOutForKernel(plan, gradOut), null, params);
    return { loss: reduce(sum, reduction, n), grad: gradOut };
  } catch (err) {
    throw publicError(fn, targets as Targets, params, err);
  } finally {
    if (spareParams.length < 16) spareParams.push(params);
  }
}

const spareParams: Float64Array[] = [];
