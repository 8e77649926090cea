// Label smoothing: both conventions reduce to y' = y * scale + shift, and 1 - y' = (1 - y) * scale + shift.
import type { Smoothing } from './types';
import {
  checkLabelSmoothing, checkSmoothing, checkTargets, checkOutput, describe, firstInvalidLabel, invalidLabelError, overlaps, sameView,
} from '../options/checks';

/** The smoothing map y' = scale * y + shift of a rate and convention. */
export interface SmoothingCoefficients {
  /** What the target is multiplied by: 1 - 2a (symmetric) or 1 - a (uniform). */
  scale: number;
  /** What is added: a (symmetric) or a / 2 (uniform). */
  shift: number;
}

/**
 * The affine map of a smoothing convention, in float64.
 * symmetric (the PyTorch tutorial): y(1 - 2a) + a; uniform (Keras, tfjs): y(1 - a) + a/2.
 * Both are symmetric about 1/2, which lets the kernels compute 1 - y' without cancellation.
 */
export function smoothingCoefficients(labelSmoothing: number, smoothing: Smoothing): SmoothingCoefficients {
  return { scale: smoothingScale(labelSmoothing, smoothing), shift: smoothingShift(labelSmoothing, smoothing) };
}

/** The scale of the affine map (the kernels' parameter; no object allocated per call). */
export function smoothingScale(labelSmoothing: number, smoothing: Smoothing): number {
  return smoothing === 'uniform' ? 1 - labelSmoothing : 1 - 2 * labelSmoothing;
}

/** The shift of the affine map. */
export function smoothingShift(labelSmoothing: number, smoothing: Smoothing): number {
  return smoothing === 'uniform' ? labelSmoothing / 2 : labelSmoothing;
}

/**
 * Smoothed targets y' as float32 (each computed in float64 and rounded once).
 * `out` (length n) receives them if given; it may be `targets` itself when that is a Float32Array.
 */
export function smoothTargets(
  targets: Float32Array | Uint8Array,
  labelSmoothing: number,
  smoothing: Smoothing = 'symmetric',
  out?: Float32Array,
): Float32Array {
  const fn = 'smoothTargets';
  checkTargets(fn, targets, targets === undefined || targets === null ? 0 : (targets as Float32Array).length, null);
  const n = targets.length;
  checkSmoothing(fn, smoothing, 'smoothing');
  checkLabelSmoothing(fn, labelSmoothing, smoothing, 'labelSmoothing');
  if (out !== undefined) {
    checkOutput(fn, out, n, 'out');
    if (overlaps(out, targets) && !(targets.BYTES_PER_ELEMENT === 4 && sameView(out, targets))) {
      throw new RangeError(`fused-bce: ${fn}: out overlaps targets (${describe(out)}); it may only be targets itself`);
    }
  }
  if (targets.BYTES_PER_ELEMENT === 1) {
    const bad = firstInvalidLabel(targets as Uint8Array);
    if (bad >= 0) throw invalidLabelError(fn, targets as Uint8Array, bad);
  }
  const { scale, shift } = smoothingCoefficients(labelSmoothing, smoothing);
  const result = out ?? new Float32Array(n);
  for (let i = 0; i < n; i++) result[i] = targets[i] * scale + shift;
  return result;
}
