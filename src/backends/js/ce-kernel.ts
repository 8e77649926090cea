// The pure-TypeScript softmax cross-entropy pass, with PyTorch's semantics (F.cross_entropy: class-index or
// class-probability targets, weight, ignore_index, label_smoothing), in float64 rounded once when stored. The
// structure is the one the SIMD kernel follows: a pre-pass over the targets (check the class indices before
// anything is written; the mean's divisor), then per row an online max and sum of e^(x - max), then the loss and
// the gradient.
//
// Accuracy where the loss is small: with m the row's max and others = sum of e^(x_c - m) over every class but one
// maximal one, log(sum of e^(x_c - m)) = log1p(others) exactly, and -log p_c = (m - x_c) + log1p(others): two
// non-negative terms. A confident, correct row's loss is log1p(others), kept to its relative accuracy, where
// lse - x_y in float32 (PyTorch) rounds it to 0 or to an ulp of the logits.
import { CeParam, invalidClassIndexMessage } from '../../generated/contract';
import type { CeKernelPass } from '../../generated/contract';
import type { ClassIndices, ClassTargets } from '../../api/types';

/**
 * One pass over rows of `classes` logits (the contract's CeKernelPass). `targets` are class indices (one per row)
 * or class probabilities (a Float32Array, one per element); `weight` has one per class; `lossOut` and
 * `gradOutput` one per row; `gradOut` one per element. Reads and writes the parameter block's CeParam slots.
 * Throws a RangeError (params[InvalidTargetAt] set, nothing written) for a class index outside [0, C) that is not
 * ignoreIndex. The loss sum adds the per-row losses in float64 (before their rounding), in row order, in blocks of
 * whole rows as the native kernel does.
 */
export const cePass: CeKernelPass = (logits, targets, weight, lossOut, gradOut, gradOutput, params) => {
  const probabilities = targets instanceof Float32Array ? targets : null;
  const indices = probabilities === null ? (targets as ClassIndices) : null;
  cePassRows(logits, indices, probabilities, weight, lossOut, gradOut, gradOutput, params);
};

// (The rows per block of the loss sum: about 64K elements, at least one row, as native/dispatch/parallel.cc.)
const BLOCK_TARGET = 65536;

function cePassRows(
  logits: Float32Array, indices: ClassIndices | null, probabilities: Float32Array | null, weight: Float32Array | null,
  lossOut: Float32Array | null, gradOut: Float32Array | null, gradOutput: Float32Array | null, params: Float64Array,
): void {
  const classes = params[CeParam.Classes];
  const rows = classes === 0 ? 0 : logits.length / classes;
  const eps = params[CeParam.LabelSmoothing];
  const ignoreIndex = params[CeParam.IgnoreIndex];
  const divisor = checkClassIndices('js', indices ?? (probabilities as Float32Array), weight, rows, classes, params);
  params[CeParam.MeanDivisor] = divisor;
  // The gradient of 'mean' is the sum's divided by the divisor; 0 / 0 gives NaN, as PyTorch.
  const gradScale = params[CeParam.GradScale] / (params[CeParam.Mean] === 1 ? divisor : 1);
  const wantLoss = params[CeParam.WantLossSum] === 1 || lossOut !== null;
  let weightTotal = 0; // sum of w_c, for the smoothing term of index targets
  for (let c = 0; c < classes; c++) weightTotal += weight === null ? 1 : weight[c];
  const blockRows = classes >= BLOCK_TARGET ? 1 : Math.floor(BLOCK_TARGET / classes);
  let lossSum = 0;
  let blockSum = 0;
  for (let r = 0; r < rows; r++) {
    if (r % blockRows === 0) {
      lossSum += blockSum;
      blockSum = 0;
    }
    const base = r * classes;
    const rowScale = gradOutput === null ? gradScale : gradScale * gradOutput[r];
    const target = indices === null ? -1 : indices[r];
    // Ignored rows, and rows every coefficient of which is 0 (a target class of weight 0 without smoothing),
    // count for nothing: loss and gradient exactly 0, whatever their logits.
    const zeroRow = indices !== null && (target === ignoreIndex ||
      ((1 - eps) * (weight === null ? 1 : weight[target]) === 0 && (eps === 0 || weightTotal === 0)));
    if (zeroRow) {
      if (lossOut !== null) lossOut[r] = 0;
      if (gradOut !== null) for (let c = 0; c < classes; c++) gradOut[base + c] = 0;
      continue;
    }
    // The online pass: the max m and the sum of e^(x_c - m) over the others (NaN propagates through it).
    let max = logits[base];
    let others = 0;
    for (let c = 1; c < classes; c++) {
      const x = logits[base + c];
      if (x > max) {
        others = (others + 1) * Math.exp(max - x);
        max = x;
      } else if (x === max) {
        others += 1; // (also where both are infinite, whose difference is NaN)
      } else {
        others += Math.exp(x - max);
      }
    }
    // A row of -inf only has no softmax: NaN, as PyTorch.
    const logSum = max === -Infinity ? NaN : Math.log1p(others);
    const denominator = max === -Infinity ? NaN : 1 + others;
    let loss = 0;
    if (indices !== null) {
      const wy = weight === null ? 1 : weight[target];
      if (wantLoss) {
        loss = weighted((1 - eps) * wy, distance(logits[base + target], max) + logSum);
        if (eps !== 0) {
          let smooth = 0;
          for (let c = 0; c < classes; c++) smooth += weighted(weight === null ? 1 : weight[c], distance(logits[base + c], max) + logSum);
          loss += (eps / classes) * smooth;
        }
      }
      if (gradOut !== null) {
        // d loss / d x_c = W p_c - ((1 - eps) w_y [c = y] + (eps / C) w_c), W = (1 - eps) w_y + (eps / C) sum w.
        // (Without smoothing there is no smoothing term at all, as in PyTorch: another class's weight, even an
        // infinite or NaN one, does not reach the row.)
        const total = (1 - eps) * wy + (eps === 0 ? 0 : (eps / classes) * weightTotal);
        for (let c = 0; c < classes; c++) {
          const p = probability(logits[base + c], max, denominator);
          const own = (c === target ? (1 - eps) * wy : 0) + (eps === 0 ? 0 : (eps / classes) * (weight === null ? 1 : weight[c]));
          gradOut[base + c] = rowScale * (total * p - own);
        }
      }
    } else {
      // Probability targets, smoothed as t (1 - eps) + eps / C: loss = sum of w_c t'_c (-log p_c).
      const t = probabilities as Float32Array;
      let total = 0;
      for (let c = 0; c < classes; c++) {
        const coefficient = (weight === null ? 1 : weight[c]) * (t[base + c] * (1 - eps) + eps / classes);
        total += coefficient;
        if (wantLoss) loss += weighted(coefficient, distance(logits[base + c], max) + logSum);
      }
      if (gradOut !== null) {
        for (let c = 0; c < classes; c++) {
          const coefficient = (weight === null ? 1 : weight[c]) * (t[base + c] * (1 - eps) + eps / classes);
          gradOut[base + c] = rowScale * (total * probability(logits[base + c], max, denominator) - coefficient);
        }
      }
    }
    if (lossOut !== null) lossOut[r] = loss;
    blockSum += loss;
  }
  lossSum += blockSum;
  if (params[CeParam.WantLossSum] === 1) params[CeParam.LossSum] = lossSum;
}

// m - x (>= 0), 0 where x is the max itself (also an infinite one, whose difference would be NaN).
function distance(x: number, max: number): number {
  return x === max ? 0 : max - x;
}

// e^(x - m) / (1 + others): the softmax, 1 / (1 + others) at an infinite max itself.
function probability(x: number, max: number, denominator: number): number {
  return (x === max ? 1 : Math.exp(x - max)) / denominator;
}

// A coefficient times a term that may be infinite: 0 where the coefficient is 0 (a weight of 0, an eps of 0).
function weighted(coefficient: number, term: number): number {
  return coefficient === 0 ? 0 : coefficient * term;
}

/**
 * The pre-pass over a call's targets, before anything is written: checks every class index (a RangeError naming
 * `fn` and the row, params[InvalidTargetAt] set) and returns the divisor of 'mean': the sum of the target classes'
 * weights over the rows not ignored (their count without a weight), or the rows for probability targets.
 */
export function checkClassIndices(
  fn: string, targets: ClassTargets, weight: Float32Array | null, rows: number, classes: number, params: Float64Array,
): number {
  params[CeParam.InvalidTargetAt] = -1;
  if (targets instanceof Float32Array) return rows;
  const ignoreIndex = params[CeParam.IgnoreIndex];
  let divisor = 0;
  for (let r = 0; r < rows; r++) {
    const y = targets[r];
    if (y === ignoreIndex) continue;
    if (!(y >= 0 && y < classes)) {
      params[CeParam.InvalidTargetAt] = r;
      throw new RangeError(invalidClassIndexMessage(fn, r, y, classes, ignoreIndex));
    }
    divisor += weight === null ? 1 : weight[y];
  }
  return divisor;
}
