// What every backend provides: one pass of the kernel with the same signature (JS, wasm and native).
import type { BackendInfo, Targets } from '../api/types';

/** Slots of the kernels' numeric parameter block (a Float64Array, so that no number is boxed per call). */
export const enum Param {
  Classes = 0,
  SmoothScale = 1,
  SmoothShift = 2,
  GradScale = 3,
  /** 0 = auto. */
  Threads = 4,
  /** 1 to compute the loss sum, 0 not to. */
  WantLossSum = 5,
  /** Output: the float64 loss sum. */
  LossSum = 6,
  Count = 7,
}

/**
 * One pass over the data, the same signature for every backend (JS kernel and native binding).
 * Per element i (class c = i mod classes): y' = y * smoothScale + smoothShift, then
 *   lossOut[i] = loss (if lossOut), gradOut[i] = grad * gradScale * (gradOutput ? gradOutput[i] : 1) (if gradOut),
 * and the float64 sum of the losses goes to params[LossSum] when params[WantLossSum] is 1. `threads` (0 = auto)
 * splits the work into fixed blocks whose sums are added in order, so the sum does not depend on it.
 * Inputs are validated by the caller; the kernel only re-checks what memory safety needs, plus the
 * Uint8 0/1 labels (before it writes anything), because that scan is cheapest where the data is read.
 */
export type KernelRun = (
  logits: Float32Array,
  targets: Targets,
  posWeight: Float32Array | null,
  weight: Float32Array | null,
  lossOut: Float32Array | null,
  gradOut: Float32Array | null,
  gradOutput: Float32Array | null,
  params: Float64Array,
) => void;

/**
 * The same pass off the main thread (native: the libuv pool), resolving with the sum (also in params[LossSum]);
 * the arrays must stay untouched until it settles.
 */
export type KernelRunAsync = (...args: Parameters<KernelRun>) => Promise<number>;

/**
 * The common shape of a call, with no posWeight, weight, lossOut or per-element gradOutput: the same pass as
 * KernelRun with those null. The native binding has an entry point of its own for it, which reads four
 * arguments instead of eight (each costs a Node-API call).
 */
export type KernelRunCommon = (logits: Float32Array, targets: Targets, gradOut: Float32Array | null, params: Float64Array) => void;

export interface Kernel extends BackendInfo {
  readonly run: KernelRun;
  readonly runCommon: KernelRunCommon;
  readonly runAsync: KernelRunAsync;
}
