// What the tfjs adapters share: the tfjs module (an optional peer dependency, loaded when fused-bce/tfjs is),
// reading tensors, tfjs's reductions, and the gradient times the upstream gradient.
import type * as tfc from '@tensorflow/tfjs-core';
import { describe } from '../options/checks';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const tf = require('@tensorflow/tfjs-core') as typeof tfc;

/** tfjs's reductions (tf.Reduction values or names) and ours. */
export type TfjsReduction = tfc.Reduction | 'none' | 'sum' | 'mean' | 'sumByNonzeroWeights';

/** A tensor's values as a Float32Array (the array itself when given one). */
export function toFloat32(fn: string, t: tfc.Tensor | Float32Array, name: string): Float32Array {
  if (t instanceof Float32Array) return t;
  if (t instanceof tf.Tensor) {
    const data = t.dataSync();
    return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  }
  throw new TypeError(`${fn}: ${name} must be a tf.Tensor or Float32Array, got ${describe(t)}`);
}

/** options.reduction as a tf.Reduction (default SUM_BY_NONZERO_WEIGHTS, as tfjs). */
export function reductionOf(fn: string, reduction: TfjsReduction | undefined): tfc.Reduction {
  if (reduction === undefined) return tf.Reduction.SUM_BY_NONZERO_WEIGHTS;
  switch (reduction) {
    case tf.Reduction.NONE: case 'none': return tf.Reduction.NONE;
    case tf.Reduction.SUM: case 'sum': return tf.Reduction.SUM;
    case tf.Reduction.MEAN: case 'mean': return tf.Reduction.MEAN;
    case tf.Reduction.SUM_BY_NONZERO_WEIGHTS: case 'sumByNonzeroWeights': return tf.Reduction.SUM_BY_NONZERO_WEIGHTS;
    default: throw new RangeError(`${fn}: options.reduction must be a tf.Reduction or 'none', 'sum', 'mean', 'sumByNonzeroWeights', got ${describe(reduction)}`);
  }
}

/**
 * The gradient tensor times the upstream gradient dy: no tensor op at all when dy is the scalar 1, as it is in
 * optimizer.minimize and tf.grads of the loss itself (the gradient was computed in the forward pass).
 */
export function scaledGradient(grad: Float32Array, shape: number[], dy: tfc.Tensor): tfc.Tensor {
  const gradient = tf.tensor(grad, shape);
  if (dy.size === 1 && dy.dataSync()[0] === 1) return gradient;
  return tf.mul(gradient, dy);
}
