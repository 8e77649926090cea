// The special-value table of the README: limits at infinite logits, NaN propagation, masking, empty input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bceWithLogits, bceWithLogitsBackward, bceWithLogitsFused } from '../src/index';
import { forEachBackend } from './helpers/backends';
import { refElement } from './helpers/reference';
import { assertGrad, assertLoss } from './helpers/bounds';

const INF = Infinity;

// [logit, target, labelSmoothing (symmetric), expected loss, expected grad]
const TABLE: [number, number, number, number, number][] = [
  [INF, 1, 0, 0, 0],
  [INF, 0, 0, INF, 1],
  [INF, 1, 0.05, INF, 0.05],
  [INF, 0, 0.05, INF, 0.95],
  [-INF, 0, 0, 0, 0],
  [-INF, 1, 0, INF, -1],
  [-INF, 1, 0.05, INF, -0.95],
  [-INF, 0, 0.05, INF, -0.05],
  [INF, 1, -0.05, -INF, -0.05], // negative smoothing: y' = 1.05, the loss is unbounded below
  [-INF, 0, -0.05, -INF, 0.05], // y' = -0.05
  [NaN, 1, 0, NaN, NaN],
  [NaN, 0, 0.05, NaN, NaN],
  [0, NaN, 0, NaN, NaN],
  [INF, NaN, 0, NaN, NaN],
  [3.4028234663852886e38, 1, 0, 0, 0],
  [-3.4028234663852886e38, 0, 0, 0, 0],
  [3.4028234663852886e38, 0, 0, 3.4028234663852886e38, 1],
  [0, 1, 0, Math.LN2, -0.5],
  [-0, 0, 0, Math.LN2, 0.5],
];

forEachBackend('special values', () => {
  test('infinite logits give the limit, NaN propagates (README table)', () => {
    for (const [x, y, a, loss, grad] of TABLE) {
      const logits = Float32Array.of(x);
      const targets = Float32Array.of(y);
      const options = { labelSmoothing: a, reduction: 'none' as const };
      const label = `x=${x} y=${y} a=${a}`;
      const l = bceWithLogits(logits, targets, options)[0];
      const g = bceWithLogitsBackward(logits, targets, options)[0];
      if (Number.isFinite(loss)) {
        assert.ok(Math.abs(l - loss) <= 4 * 2 ** -24 * Math.abs(loss), `${label}: loss ${l}, expected ${loss}`);
      } else {
        assert.ok(Object.is(l, loss), `${label}: loss ${l}, expected ${loss}`);
      }
      if (Number.isNaN(grad)) assert.ok(Number.isNaN(g), `${label}: grad ${g}, expected NaN`);
      else {
        const r = refElement(Math.max(-1e300, Math.min(1e300, x)), y, a, 'symmetric');
        assertGrad(g, grad, r.gradMagnitude, label);
      }
      const f = bceWithLogitsFused(logits, targets, options);
      assert.ok(Object.is(f.loss[0], l) && Object.is(f.grad[0], g), `${label}: fused differs from the separate passes`);
    }
  });

  test('special values inside long arrays (the loops that do not test for them) give the same as alone', () => {
    // Element i of a 40-element call equals the same element computed alone, for every row of the table,
    // reduction 'none' and 'mean', out of place and with the gradient in place.
    for (const [x, y, a] of TABLE) {
      const n = 40;
      const logits = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 5);
      const targets = Float32Array.from({ length: n }, (_, i) => (i % 4) / 3);
      const at = 17;
      logits[at] = x;
      targets[at] = y;
      const options = { labelSmoothing: a, reduction: 'none' as const };
      const label = `x=${x} y=${y} a=${a}`;
      const whole = bceWithLogitsFused(logits, targets, options);
      for (let i = 0; i < n; i++) {
        const alone = bceWithLogitsFused(logits.subarray(i, i + 1), targets.subarray(i, i + 1), options);
        assert.ok(Object.is(whole.loss[i], alone.loss[0]) && Object.is(whole.grad[i], alone.grad[0]), `${label}: element ${i}`);
      }
      assert.ok(Object.is(bceWithLogits(logits, targets, options)[at], whole.loss[at]), `${label}: forward alone`);
      const sum = whole.loss.reduce((p, q) => p + q, 0);
      const mean = bceWithLogits(logits, targets, { labelSmoothing: a });
      assert.ok(Number.isNaN(sum) ? Number.isNaN(mean) : Math.abs(mean - sum / n) <= 1e-6 * Math.abs(sum / n) || mean === sum / n, `${label}: mean ${mean}`);
      const inPlace = logits.slice();
      const r = bceWithLogitsFused(inPlace, targets, { ...options, gradOut: inPlace });
      assert.ok(Object.is(r.loss[at], whole.loss[at]), `${label}: in place, loss ${r.loss[at]} vs ${whole.loss[at]}`);
      assert.ok(Object.is(inPlace[at], whole.grad[at]), `${label}: in place, grad`);
      // In place through another view object of the same memory.
      const inPlaceView = logits.slice();
      const otherView = new Float32Array(inPlaceView.buffer, inPlaceView.byteOffset, n);
      const v = bceWithLogitsFused(inPlaceView, targets, { ...options, gradOut: otherView });
      assert.equal(v.grad, otherView, `${label}: the caller's gradOut is returned`);
      assert.ok(Object.is(v.loss[at], whole.loss[at]) && Object.is(otherView[at], whole.grad[at]), `${label}: in place through another view`);
      const meanView = logits.slice();
      const m = bceWithLogitsFused(meanView, targets, { labelSmoothing: a, gradOut: new Float32Array(meanView.buffer) });
      assert.ok(Object.is(m.loss, bceWithLogits(logits, targets, { labelSmoothing: a })), `${label}: mean, in place through another view: ${m.loss}`);
    }
  });

  test('NaN in any element makes the reduced loss NaN; an infinite loss makes it +inf', () => {
    const logits = Float32Array.of(0.5, NaN, -1);
    const targets = Float32Array.of(1, 0, 0);
    assert.ok(Number.isNaN(bceWithLogits(logits, targets)));
    assert.ok(Number.isNaN(bceWithLogits(logits, targets, { reduction: 'sum' })));
    assert.equal(bceWithLogits(Float32Array.of(1, -INF), Float32Array.of(0, 1)), INF);
  });

  test('weight 0 masks an element exactly, whatever its logit and target (NaN, inf)', () => {
    const logits = Float32Array.of(0.3, NaN, INF, -INF, 2, 1.5);
    const targets = Float32Array.of(1, 0, 0, 1, NaN, NaN);
    const weight = Float32Array.of(1, 0, 0, 0, 0, 0);
    for (const labelSmoothing of [0, 0.05, -0.1]) {
      const none = bceWithLogits(logits, targets, { weight, labelSmoothing, reduction: 'none' });
      const grad = bceWithLogitsBackward(logits, targets, { weight, labelSmoothing, reduction: 'none' });
      for (let i = 1; i < 6; i++) {
        assert.ok(Object.is(none[i], 0), `loss[${i}] = ${none[i]} is masked to +0`);
        assert.ok(Object.is(grad[i], 0), `grad[${i}] = ${grad[i]} is masked to +0`);
      }
      const mean = bceWithLogits(logits, targets, { weight, labelSmoothing }) as number;
      assert.ok(Math.abs(mean - none[0] / 6) <= 2 ** -24 * Math.abs(none[0] / 6), `mean ${mean} = loss[0] / 6`);
    }
  });

  test('empty input: sum is 0, mean is NaN (as PyTorch), none and gradients are empty', () => {
    const e = new Float32Array(0);
    assert.equal(bceWithLogits(e, e, { reduction: 'sum' }), 0);
    assert.ok(Number.isNaN(bceWithLogits(e, e)));
    assert.equal(bceWithLogits(e, new Uint8Array(0), { reduction: 'none' }).length, 0);
    assert.equal(bceWithLogitsBackward(e, e).length, 0);
    const f = bceWithLogitsFused(e, e, { posWeight: Float32Array.of(1, 2, 3) });
    assert.ok(Number.isNaN(f.loss));
    assert.equal(f.grad.length, 0);
  });

  test('extreme finite logits give the exact linear loss and saturated sigmoid, not 0 * inf', () => {
    const x = Math.fround(1e30);
    const logits = Float32Array.of(x, -x, x, -x);
    const targets = Uint8Array.of(0, 1, 1, 0);
    const none = bceWithLogits(logits, targets, { reduction: 'none', labelSmoothing: 0.05 });
    const expected = [0.95 * x, 0.95 * x, 0.05 * x, 0.05 * x];
    for (let i = 0; i < 4; i++) assertLoss(none[i], expected[i], expected[i], `x=${logits[i]} y=${targets[i]}`);
  });
});
