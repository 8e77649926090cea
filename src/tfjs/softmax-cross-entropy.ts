// fused-bce/tfjs: a drop-in for tf.losses.softmaxCrossEntropy whose value and gradient come from fused-bce's
// softmax cross-entropy pass (through tf.customGrad).
import type * as tfc from '@tensorflow/tfjs-core';
import { crossEntropyFused } from '../api/cross-entropy';
import { describe } from '../options/checks';
import { reductionOf, scaledGradient, tf, toFloat32 } from './common';
import type { TfjsReduction } from './common';

const FN = 'fused-bce/tfjs: softmaxCrossEntropy';

/** The options of {@link softmaxCrossEntropy}: tfjs's `weights`, `labelSmoothing` and `reduction`. */
export interface SoftmaxCrossEntropyOptions {
  /** Label smoothing eps (default 0): the labels become (1 - eps) onehot + eps / C, as tfjs. */
  labelSmoothing?: number;
  /** tfjs `weights`: one per row (a tensor or Float32Array of the batch size), or a scalar. */
  weights?: tfc.Tensor | Float32Array | number;
  /** Default tf.Reduction.SUM_BY_NONZERO_WEIGHTS, as tfjs. */
  reduction?: TfjsReduction;
}

// The per-row weights (null: none), checked against the rows.
function rowWeights(weights: SoftmaxCrossEntropyOptions['weights'], rows: number): Float32Array | null {
  if (weights === undefined) return null;
  const values = typeof weights === 'number' ? Float32Array.of(weights) : toFloat32(FN, weights, 'options.weights');
  if (values.length === rows) return values;
  if (values.length === 1) return new Float32Array(rows).fill(values[0]);
  throw new RangeError(`${FN}: options.weights must be a scalar or have one weight per row (${rows}), got ${describe(weights)}`);
}

/**
 * `softmaxCrossEntropy(onehotLabels, logits, options?)`: the loss of tf.losses.softmaxCrossEntropy(onehotLabels,
 * logits, weights, labelSmoothing, reduction), as a tf.Scalar (a tensor of one loss per row for reduction NONE),
 * differentiable with respect to the logits; the classes are the last dimension. Reductions, as tfjs:
 *   NONE: w * loss per row;  SUM: sum(w * loss);  MEAN: sum(w * loss) / sum(w) (without weights: the mean);
 *   SUM_BY_NONZERO_WEIGHTS (default): sum(w * loss) / count(w != 0) (without weights: the mean).
 * The labels are class probabilities (a one-hot or soft tensor of the logits' shape); the per-row losses are
 * fused-bce's (float64 within, rounded once), their weighted sum is taken in float64.
 */
export function softmaxCrossEntropy(
  onehotLabels: tfc.Tensor | tfc.TensorLike, logits: tfc.Tensor | tfc.TensorLike, options: SoftmaxCrossEntropyOptions = {},
): tfc.Tensor {
  if (options === null || typeof options !== 'object') throw new TypeError(`${FN}: options must be an object, got ${describe(options)}`);
  const $labels = onehotLabels instanceof tf.Tensor ? onehotLabels : tf.tensor(onehotLabels);
  const $logits = logits instanceof tf.Tensor ? logits : tf.tensor(logits);
  if ($labels.size !== $logits.size || $logits.rank < 1) {
    throw new RangeError(`${FN}: onehotLabels and logits must have the same shape, got [${$labels.shape}] and [${$logits.shape}]`);
  }
  const classes = $logits.shape[$logits.rank - 1];
  const rows = classes === 0 ? 0 : $logits.size / classes;
  const rowShape = $logits.shape.slice(0, -1);
  const reduction = reductionOf(FN, options.reduction);
  const labels = toFloat32(FN, $labels, 'onehotLabels');
  const weights = rowWeights(options.weights, rows);
  let divisor = 1;
  if (reduction === tf.Reduction.MEAN || reduction === tf.Reduction.SUM_BY_NONZERO_WEIGHTS) {
    divisor = rows;
    if (weights !== null) {
      divisor = 0;
      for (let r = 0; r < rows; r++) divisor += reduction === tf.Reduction.MEAN ? weights[r] : weights[r] !== 0 ? 1 : 0;
    }
  }
  // Each row's upstream gradient: its weight over the divisor (the kernel scales its gradient by it, rounded once).
  const upstream = new Float32Array(rows);
  for (let r = 0; r < rows; r++) upstream[r] = (weights === null ? 1 : weights[r]) / (reduction === tf.Reduction.NONE ? 1 : divisor);
  const options$ = { classes, labelSmoothing: options.labelSmoothing ?? 0, reduction: 'none' as const, gradOutput: upstream };

  const lossFn = tf.customGrad(((x: tfc.Tensor) => {
    const { loss, grad } = crossEntropyFused(toFloat32(FN, x, 'logits'), labels, options$);
    if (reduction === tf.Reduction.NONE) {
      const weighted = weights === null ? loss : loss.map((v, r) => v * weights[r]);
      return { value: tf.tensor(weighted, rowShape), gradFunc: (dy: tfc.Tensor) => scaledGradient(grad, x.shape, tf.expandDims(dy, -1)) };
    }
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += weights === null ? loss[r] : weights[r] === 0 ? 0 : weights[r] * loss[r];
    return { value: tf.scalar(sum / divisor), gradFunc: (dy: tfc.Tensor) => scaledGradient(grad, x.shape, dy) };
  }) as Parameters<typeof tf.customGrad>[0]);
  return lossFn($logits);
}
