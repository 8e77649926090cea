// Outputs apart from inputs, for every loss: an output must not share memory with an input or with the other
// output, except the gradient written over the logits themselves (in place). The check is remembered per plan.
import { overlapError, overlaps, sameView } from './checks';

/**
 * The arrays whose overlap a plan last checked, with their length: the same view objects at the same length
 * share memory exactly as they did (a view's buffer and byte offset never change), so the check is not repeated.
 */
export interface CheckedArrays {
  n: number;
  /** The inputs (logits first), then lossOut and gradOut. */
  arrays: (ArrayBufferView | null)[];
  inPlace: boolean;
}

export function newCheckedArrays(inputCount: number): CheckedArrays {
  return { n: -1, arrays: new Array<ArrayBufferView | null>(inputCount + 2).fill(null), inPlace: false };
}

/**
 * Checks lossOut and gradOut against `inputs` (logits first; null where absent; named by `inputNames`) and each
 * other, unless the same arrays at the same length were checked last time. Returns whether gradOut is logits'
 * memory exactly (an in-place gradient). `inputs` is the caller's own array, refilled per call (no allocation).
 */
export function checkOutputsApart(
  fn: string, memo: CheckedArrays, n: number, inputs: readonly (ArrayBufferView | null)[], inputNames: readonly string[],
  lossOut: Float32Array | null, gradOut: Float32Array | null,
): boolean {
  if (lossOut === null && gradOut === null) return false;
  const a = memo.arrays;
  const count = inputs.length;
  if (memo.n === n && a[count] === lossOut && a[count + 1] === gradOut) {
    let same = true;
    for (let k = 0; k < count && same; k++) same = a[k] === inputs[k];
    if (same) return memo.inPlace;
  }
  memo.n = -1;
  const logits = inputs[0] as Float32Array;
  for (let k = 0; k < count; k++) {
    if (overlaps(lossOut, inputs[k])) throw overlapError(fn, 'options.lossOut', inputNames[k], '');
  }
  for (let k = 0; k < count; k++) {
    if (overlaps(gradOut, inputs[k]) && !(k === 0 && sameView(gradOut as Float32Array, logits))) {
      throw overlapError(fn, 'options.gradOut', inputNames[k], k === 0 ? ' (gradOut may be exactly logits, for an in-place gradient)' : '');
    }
  }
  if (overlaps(lossOut, gradOut)) throw overlapError(fn, 'options.lossOut', 'options.gradOut', '');
  for (let k = 0; k < count; k++) a[k] = inputs[k];
  a[count] = lossOut;
  a[count + 1] = gradOut;
  memo.inPlace = gradOut !== null && sameView(gradOut, logits);
  memo.n = n;
  return memo.inPlace;
}
