// The accuracy contract of the README, as assertions. Every bound is relative to an independent float64 value.
import assert from 'node:assert/strict';
import { ulpError } from './reference';

/** 4 float32 rounding errors, 4 * 2^-24. */
export const EPS4 = 4 * 2 ** -24;
/** No float32 result can be closer than this to a truth in the subnormal range: the spacing there. */
export const SUBNORMAL_SPACING = 2 ** -149;

/** Worst errors seen, per backend and quantity, reported by the accuracy tests for the README. */
export const worst: Record<string, number> = {};
function record(key: string, value: number): void {
  if (!(worst[key] >= value)) worst[key] = value;
}

/**
 * Loss of one element: within 4 ulp where both terms are >= 0 (smoothed targets in [0, 1]); otherwise, where
 * the terms may cancel, within 4 * 2^-24 times the sum of their magnitudes.
 */
export function assertLoss(result: number, truth: number, magnitude: number, label: string, statsKey?: string): void {
  if (!Number.isFinite(truth) || !Number.isFinite(result)) {
    // A finite truth beyond FLT_MAX + half an ulp rounds to infinity in float32: that is the right answer.
    assert.ok(Object.is(result, Math.fround(truth)) || (Number.isNaN(result) && Number.isNaN(truth)), `${label}: loss ${result}, expected ${truth}`);
    return;
  }
  const cancels = magnitude > Math.abs(truth) * (1 + 1e-12);
  if (!cancels) {
    const e = ulpError(result, truth);
    if (statsKey) record(`${statsKey} loss ulp`, e);
    assert.ok(e <= 4, `${label}: loss ${result} vs ${truth}: ${e.toFixed(2)} ulp > 4`);
  } else {
    const bound = Math.max(EPS4 * magnitude, SUBNORMAL_SPACING);
    const e = Math.abs(result - truth);
    if (statsKey) record(`${statsKey} loss cancel`, e / (bound / 4));
    assert.ok(e <= bound, `${label}: loss ${result} vs ${truth}: |error| ${e} > 4 * 2^-24 * ${magnitude}`);
  }
}

/** Gradient of one element: |error| <= 4 * 2^-24 * max(|sigmoid * softplusWeight|, |p y'|) * |w * scale|. */
export function assertGrad(result: number, truth: number, magnitude: number, label: string, statsKey?: string): void {
  if (!Number.isFinite(truth) || !Number.isFinite(result)) {
    assert.ok(Object.is(result, Math.fround(truth)) || (Number.isNaN(result) && Number.isNaN(truth)), `${label}: grad ${result}, expected ${truth}`);
    return;
  }
  const unit = Math.max(2 ** -24 * magnitude, SUBNORMAL_SPACING / 4);
  const e = Math.abs(result - truth) / unit;
  if (statsKey) record(`${statsKey} grad`, e);
  assert.ok(e <= 4, `${label}: grad ${result} vs ${truth}: error ${e.toFixed(2)} x 2^-24 x ${magnitude} > 4`);
}

/** A reduced loss: within 4 * 2^-24 of the sum of per-element magnitudes (scaled like the reduction). */
export function assertReduced(result: number, truth: number, magnitudeSum: number, label: string): void {
  if (!Number.isFinite(truth)) {
    assert.ok(Object.is(result, truth) || (Number.isNaN(result) && Number.isNaN(truth)), `${label}: ${result}, expected ${truth}`);
    return;
  }
  const bound = EPS4 * magnitudeSum;
  assert.ok(Math.abs(result - truth) <= bound, `${label}: reduced loss ${result} vs ${truth}: error ${Math.abs(result - truth)} > ${bound}`);
}
