// fused-bce/tfjs: a drop-in for tf.losses.sigmoidCrossEntropy whose value and gradient come from fused-bce's
// one pass (through tf.customGrad), for tfjs training loops: optimizer.minimize(() => loss), tf.grads.
// @tensorflow/tfjs-core is an optional peer dependency, loaded when this subpath is.
import type * as tfc from '@tensorflow/tfjs-core';
import { bceWithLogitsFused } from '../api/bce';
import type { Smoothing } from '../api/types';
import { describe } from '../options/checks';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const tf = require('@tensorflow/tfjs-core') as typeof tfc;

const FN = 'fused-bce/tfjs: sigmoidCrossEntropy';

/** tfjs's reductions (tf.Reduction values or names) and ours. */
export type TfjsReduction = tfc.Reduction | 'none' | 'sum' | 'mean' | 'sumByNonzeroWeights';

/** The options of {@link sigmoidCrossEntropy}: tfjs's `weights`, `labelSmoothing` and `reduction`, and fused-bce's own. */
export interface SigmoidCrossEntropyOptions {
  /** Label smoothing rate (default 0). */
  labelSmoothing?: number;
  /** 'uniform' (default here, tfjs's own: y (1 - a) + a/2) or 'symmetric' (y (1 - 2a) + a). */
  smoothing?: Smoothing;
  /** tfjs `weights`: a tensor or Float32Array of the logits' size, or one weight per class (last dimension). */
  weights?: tfc.Tensor | Float32Array;
  /** PyTorch pos_weight, one per class (last dimension). */
  posWeight?: tfc.Tensor | Float32Array;
  /** Default tf.Reduction.SUM_BY_NONZERO_WEIGHTS, as tfjs. */
  reduction?: TfjsReduction;
}

function toFloat32(t: tfc.Tensor | Float32Array, name: string): Float32Array {
  if (t instanceof Float32Array) return t;
  if (t instanceof tf.Tensor) {
    const data = t.dataSync();
    return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  }
  throw new TypeError(`${FN}: ${name} must be a tf.Tensor or Float32Array, got ${describe(t)}`);
}

function reductionOf(reduction: TfjsReduction | undefined): tfc.Reduction {
  if (reduction === undefined) return tf.Reduction.SUM_BY_NONZERO_WEIGHTS;
  switch (reduction) {
    case tf.Reduction.NONE: case 'none': return tf.Reduction.NONE;
    case tf.Reduction.SUM: case 'sum': return tf.Reduction.SUM;
    case tf.Reduction.MEAN: case 'mean': return tf.Reduction.MEAN;
    case tf.Reduction.SUM_BY_NONZERO_WEIGHTS: case 'sumByNonzeroWeights': return tf.Reduction.SUM_BY_NONZERO_WEIGHTS;
    default: throw new RangeError(`${FN}: options.reduction must be a tf.Reduction or 'none', 'sum', 'mean', 'sumByNonzeroWeights', got ${describe(reduction)}`);
  }
}

// The gradient tensor times the upstream gradient dy: no tensor op at all when dy is the scalar 1, as it is in
// optimizer.minimize and tf.grads of the loss itself (the gradient was computed in the forward pass).
function scaledGradient(grad: Float32Array, shape: number[], dy: tfc.Tensor): tfc.Tensor {
  const gradient = tf.tensor(grad, shape);
  if (dy.size === 1 && dy.dataSync()[0] === 1) return gradient;
  return tf.mul(gradient, dy);
}

/**
 * `sigmoidCrossEntropy(labels, logits, options?)`: the loss of tf.losses.sigmoidCrossEntropy(labels, logits,
 * weights, labelSmoothing, reduction), as a tf.Scalar (a tensor of the logits' shape for reduction NONE),
 * differentiable with respect to the logits. Reductions, as tfjs:
 *   NONE: w * loss per element;  SUM: sum(w * loss);
 *   MEAN: sum(w * loss) / sum(w) (without weights: the mean);
 *   SUM_BY_NONZERO_WEIGHTS (default): sum(w * loss) / count(w != 0) (without weights: the mean).
 * Weights of one value per class count once per row in MEAN and SUM_BY_NONZERO_WEIGHTS, as tfjs broadcasts them.
 */
export function sigmoidCrossEntropy(labels: tfc.Tensor | tfc.TensorLike, logits: tfc.Tensor | tfc.TensorLike, options: SigmoidCrossEntropyOptions = {}): tfc.Tensor {
  if (options === null || typeof options !== 'object') throw new TypeError(`${FN}: options must be an object, got ${describe(options)}`);
  const $labels = labels instanceof tf.Tensor ? labels : tf.tensor(labels);
  const $logits = logits instanceof tf.Tensor ? logits : tf.tensor(logits);
  if ($labels.size !== $logits.size) {
    throw new RangeError(`${FN}: labels and logits must have the same size, got shapes [${$labels.shape}] and [${$logits.shape}]`);
  }
  const reduction = reductionOf(options.reduction);
  const labelsData = toFloat32($labels, 'labels');
  const weight = options.weights === undefined ? undefined : toFloat32(options.weights, 'options.weights');
  const posWeight = options.posWeight === undefined ? undefined : toFloat32(options.posWeight, 'options.posWeight');
  const core = { labelSmoothing: options.labelSmoothing ?? 0, smoothing: options.smoothing ?? ('uniform' as Smoothing), weight, posWeight };

  const lossFn = tf.customGrad(((x: tfc.Tensor) => {
    const logitsData = toFloat32(x, 'logits');
    const n = logitsData.length;
    let divisor = 1;
    if (reduction === tf.Reduction.MEAN || reduction === tf.Reduction.SUM_BY_NONZERO_WEIGHTS) {
      if (weight === undefined) divisor = n;
      else {
        const repeat = n / weight.length; // a per-class weight stands for every row
        let total = 0;
        for (let i = 0; i < weight.length; i++) total += reduction === tf.Reduction.MEAN ? weight[i] : weight[i] !== 0 ? 1 : 0;
        divisor = total * repeat;
      }
    }
    if (reduction === tf.Reduction.NONE) {
      const { loss, grad } = bceWithLogitsFused(logitsData, labelsData, { ...core, reduction: 'none' });
      return { value: tf.tensor(loss, x.shape), gradFunc: (dy: tfc.Tensor) => scaledGradient(grad, x.shape, dy) };
    }
    const { loss, grad } = bceWithLogitsFused(logitsData, labelsData, { ...core, reduction: 'sum', gradOutput: 1 / divisor });
    return { value: tf.scalar(loss / divisor), gradFunc: (dy: tfc.Tensor) => scaledGradient(grad, x.shape, dy) };
  }) as Parameters<typeof tf.customGrad>[0]);
  return lossFn($logits);
}
