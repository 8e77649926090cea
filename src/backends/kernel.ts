// What every backend provides: the kernel's pass with one signature (native, wasm and TypeScript). The argument
// order and the parameter block's slots come from the contract shared with the C++ side (native/contract).
import type { BackendInfo } from '../api/types';
import type { CeKernelPass, CeKernelPassUnweighted, KernelPass, KernelPassUnweighted } from '../generated/contract';

export { CeParam, Param } from '../generated/contract';
export type { CeKernelPass, CeKernelPassUnweighted, KernelPass, KernelPassUnweighted } from '../generated/contract';

// KernelPass, per element i (class c = i mod classes): y' = y * smoothScale + smoothShift, then
//   lossOut[i] = loss (if lossOut), gradOut[i] = grad * gradScale * (gradOutput ? gradOutput[i] : 1) (if gradOut),
// and the float64 sum of the losses goes to params[LossSum] when params[WantLossSum] is 1. `threads` (0 = auto)
// splits the work into fixed blocks whose sums are added in order, so the sum does not depend on it. Inputs are
// validated by the caller; the kernel re-checks only what memory safety needs, plus the Uint8 0/1 labels (before
// it writes anything: that scan is cheapest where the data is read), and on a bad label sets
// params[InvalidLabelAt] and throws. KernelPassUnweighted is the same pass with posWeight, weight, lossOut and a
// per-element gradOutput absent: the native binding reads four arguments instead of eight (each a Node-API call).

/**
 * The same pass off the main thread (native: the libuv pool), resolving with the sum (also in params[LossSum]);
 * the arrays must stay untouched until it settles.
 */
export type KernelPassAsync = (...args: Parameters<KernelPass>) => Promise<number>;

/** The softmax cross-entropy pass off the main thread, as KernelPassAsync (the sum also in params[CeParam.LossSum]). */
export type CeKernelPassAsync = (...args: Parameters<CeKernelPass>) => Promise<number>;

// CeKernelPass, per row r of `classes` logits: lossOut[r] = the row's loss, gradOut[row] = its gradient times
// gradScale (divided by the mean's divisor when params[Mean] is 1) and gradOutput[r]; the float64 sum of the
// per-row losses to params[CeParam.LossSum] when params[WantLossSum] is 1; the divisor of 'mean' to
// params[CeParam.MeanDivisor]. A class index outside [0, C) that is not ignoreIndex is refused before anything is
// written (params[InvalidTargetAt] = its row, a RangeError). CeKernelPassUnweighted is the same pass with weight,
// lossOut and gradOutput absent (four arguments to read instead of seven).

export interface Kernel extends BackendInfo {
  readonly pass: KernelPass;
  readonly passUnweighted: KernelPassUnweighted;
  readonly passAsync: KernelPassAsync;
  readonly cePass: CeKernelPass;
  readonly cePassUnweighted: CeKernelPassUnweighted;
  readonly cePassAsync: CeKernelPassAsync;
}
