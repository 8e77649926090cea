// The accuracy contract of the README, as assertions. Every bound is relative to an independent float64 value.
import assert from 'node:assert/strict';
import { ulp32, ulpError } from './reference';

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
export function assertLoss(result: number, truth: number, magnitude: number, label: string, statsKey?: string, subnormalScale = 1): void {
  if (Object.is(result, Math.fround(truth))) return; // correctly rounded (including overflow to infinity)
  if (!Number.isFinite(truth) || (!Number.isFinite(result) && Math.abs(truth) < 2 ** 127)) {
    // A finite truth beyond FLT_MAX + half an ulp rounds to infinity in float32: that is the right answer.
    assert.ok(Object.is(result, Math.fround(truth)) || (Number.isNaN(result) && Number.isNaN(truth)), `${label}: loss ${result}, expected ${truth}`);
    return;
  }
  const cancels = magnitude > Math.abs(truth) * (1 + 1e-12);
  if (!cancels) {
    // As for the gradient: a subnormal e^-|x| is scaled by |w| * (1 - y' + p y') after its rounding.
    const floor = SUBNORMAL_SPACING * Math.max(1, subnormalScale);
    const e = ulpError(result, truth) * Math.min(1, ulp32(truth) / floor);
    if (statsKey) record(`${statsKey} loss ulp`, e);
    assert.ok(e <= 4, `${label}: loss ${result} vs ${truth}: ${e.toFixed(2)} ulp > 4`);
  } else {
    const bound = Math.max(EPS4 * magnitude, 4 * SUBNORMAL_SPACING * Math.max(1, subnormalScale));
    const e = Math.abs(result - truth);
    if (statsKey) record(`${statsKey} loss cancel`, e / (bound / 4));
    assert.ok(e <= bound, `${label}: loss ${result} vs ${truth}: |error| ${e} > 4 * 2^-24 * ${magnitude}`);
  }
}

/** Gradient of one element: |error| <= 4 * max(2^-24 * max(|sigmoid * softplusWeight|, |p y'|) * |w * scale|, 2^-149). */
export function assertGrad(result: number, truth: number, magnitude: number, label: string, statsKey?: string, subnormalScale = 1): void {
  if (Object.is(result, Math.fround(truth))) return; // correctly rounded (including overflow to infinity)
  if (!Number.isFinite(truth) || !Number.isFinite(result)) {
    assert.ok(Object.is(result, Math.fround(truth)) || (Number.isNaN(result) && Number.isNaN(truth)), `${label}: grad ${result}, expected ${truth}`);
    return;
  }
  // The unit floors at the subnormal spacing, like the ulp of the loss bound: below 2^-126 every float32
  // operation rounds to an absolute 2^-150, whatever the magnitude.
  // e^-|x| is subnormal for x < -87; its absolute rounding is then scaled by the factors that follow
  // (|w * upstream| * max(1, |1 - y'| + |p y'|), passed as subnormalScale).
  const unit = Math.max(2 ** -24 * magnitude, SUBNORMAL_SPACING * Math.max(1, subnormalScale));
  const e = Math.abs(result - truth) / unit;
  if (statsKey) record(`${statsKey} grad`, e);
  assert.ok(e <= 4, `${label}: grad ${result} vs ${truth}: error ${e.toFixed(2)} x 2^-24 x ${magnitude} > 4`);
}

/**
 * A reduced loss: within the sum of the per-element bounds, 4 * 2^-24 * magnitude (floored at 4 subnormal
 * spacings, as for one element; pass that floor's total as floorSum), scaled like the reduction.
 */
export function assertReduced(result: number, truth: number, magnitudeSum: number, label: string, floorSum = 0): void {
  if (!Number.isFinite(truth)) {
    assert.ok(Object.is(result, truth) || (Number.isNaN(result) && Number.isNaN(truth)), `${label}: ${result}, expected ${truth}`);
    return;
  }
  const bound = EPS4 * magnitudeSum + floorSum;
  assert.ok(Math.abs(result - truth) <= bound, `${label}: reduced loss ${result} vs ${truth}: error ${Math.abs(result - truth)} > ${bound}`);
}
