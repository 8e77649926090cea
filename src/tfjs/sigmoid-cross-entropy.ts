// fused-bce/tfjs: a drop-in for tf.losses.sigmoidCrossEntropy whose value and gradient come from fused-bce's
// one pass (through tf.customGrad), for tfjs training loops: optimizer.minimize(() => loss), tf.grads.
// @tensorflow/tfjs-core is an optional peer dependency, loaded when this subpath is.
import type * as tfc from '@tensorflow/tfjs-core';
import { bceWithLogitsFused } from '../api/bce';
import type { FocalOptions, Smoothing } from '../api/types';
import { describe } from '../options/checks';
import { reductionOf, scaledGradient, tf, toFloat32 } from './common';
import type { TfjsReduction } from './common';

export type { TfjsReduction } from './common';

const FN = 'fused-bce/tfjs: sigmoidCrossEntropy';

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
  /**
   * The focal loss on the smoothed labels, as the BCE entry points' `focal` option (torchvision's
   * sigmoid_focal_loss; Keras BinaryFocalCrossentropy(gamma, alpha, label_smoothing) smooths first the same way).
   */
  focal?: FocalOptions;
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
  const reduction = reductionOf(FN, options.reduction);
  const labelsData = toFloat32(FN, $labels, 'labels');
  const weight = options.weights === undefined ? undefined : toFloat32(FN, options.weights, 'options.weights');
  const posWeight = options.posWeight === undefined ? undefined : toFloat32(FN, options.posWeight, 'options.posWeight');
  const core = { labelSmoothing: options.labelSmoothing ?? 0, smoothing: options.smoothing ?? ('uniform' as Smoothing), weight, posWeight, focal: options.focal };

  const lossFn = tf.customGrad(((x: tfc.Tensor) => {
    const logitsData = toFloat32(FN, x, 'logits');
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
