// The public contract: return types, reductions, options, outputs, views, the module class, the backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bceWithLogits, bceWithLogitsBackward, bceWithLogitsFused, smoothTargets, smoothingCoefficients, BCEWithLogitsLoss,
  backend, availableBackends, nativeLoadError, useBackend,
} from '../src/index';
import { inspect } from 'node:util';
import { forEachBackend } from './helpers/backends';
import { refElement } from './helpers/reference';
import { normal, rng } from './helpers/reference';

function randomInputs(n: number, seed: number) {
  const random = rng(seed);
  const logits = new Float32Array(n);
  const hard = new Uint8Array(n);
  const soft = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    logits[i] = 3 * normal(random);
    hard[i] = random() < 0.3 ? 1 : 0;
    soft[i] = random();
  }
  return { logits, hard, soft };
}

test('backend reports what is running, and every available backend is listed', () => {
  assert.ok(backend.name === 'js' || backend.name === 'native' || backend.name === 'wasm');
  assert.equal(backend.name === 'js', backend.isa === null);
  const list = availableBackends();
  assert.deepEqual(list[list.length - 1], { name: 'js', isa: null }, 'js is always available, listed last');
  assert.equal(list.some((b) => b.name === 'native'), nativeLoadError === null, 'native ISAs are listed exactly when the addon loaded');
  assert.equal(new Set(list.map((b) => `${b.name}/${b.isa}`)).size, list.length, 'no backend listed twice');
});

test('backend prints and serialises as { name, isa }, and follows useBackend()', () => {
  const plain = { name: backend.name, isa: backend.isa };
  assert.equal(inspect(backend), inspect(plain));
  assert.equal(JSON.stringify(backend), JSON.stringify(plain));
  try {
    useBackend('js');
    assert.equal(inspect(backend), inspect({ name: 'js', isa: null }));
  } finally {
    useBackend('auto');
  }
});

test('smoothTargets: both conventions, the tutorial values, negative smoothing, out and in place', () => {
  const y = Uint8Array.of(0, 1);
  assert.deepEqual([...smoothTargets(y, 0.05)], [Math.fround(0.05), Math.fround(0.95)]);
  assert.deepEqual([...smoothTargets(y, 0.05, 'symmetric')], [...smoothTargets(y, 0.1, 'uniform')]);
  assert.deepEqual([...smoothTargets(y, 0.1, 'uniform')], [Math.fround(0.05), Math.fround(0.95)]);
  assert.deepEqual([...smoothTargets(y, 1, 'uniform')], [0.5, 0.5]);
  assert.deepEqual([...smoothTargets(y, 0.5)], [0.5, 0.5]);
  assert.deepEqual([...smoothTargets(y, -0.1)], [Math.fround(-0.1), Math.fround(1.1)]);
  assert.deepEqual([...smoothTargets(Float32Array.of(0.25), 0.2)], [Math.fround(0.25 * 0.6 + 0.2)]);
  const soft = Float32Array.of(0, 0.5, 1);
  assert.equal(smoothTargets(soft, 0.1, 'symmetric', soft), soft);
  assert.deepEqual([...soft], [Math.fround(0.1), 0.5, Math.fround(0.9)]);
  assert.deepEqual(smoothingCoefficients(0.05, 'symmetric'), { scale: 0.9, shift: 0.05 });
  assert.deepEqual(smoothingCoefficients(0.1, 'uniform'), { scale: 0.9, shift: 0.05 });
  assert.throws(() => smoothTargets(Uint8Array.of(2), 0.1), RangeError);
});

forEachBackend('contract', () => {
  test('return types: number for mean and sum, Float32Array for none; mean = sum / n = sum(none) / n', () => {
    const { logits, hard } = randomInputs(1000, 1);
    const mean = bceWithLogits(logits, hard);
    const sum = bceWithLogits(logits, hard, { reduction: 'sum' });
    const none = bceWithLogits(logits, hard, { reduction: 'none' });
    assert.equal(typeof mean, 'number');
    assert.ok(none instanceof Float32Array && none.length === 1000);
    assert.equal(mean, sum / 1000);
    const sumOfNone = none.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(sumOfNone - sum) <= 1e-6 * sum, `${sumOfNone} vs ${sum}`);
  });

  test('uniform a equals symmetric a/2 exactly; smoothing inside equals smoothTargets outside', () => {
    const { logits, hard } = randomInputs(777, 2);
    const u = bceWithLogitsFused(logits, hard, { labelSmoothing: 0.1, smoothing: 'uniform', reduction: 'none' });
    const s = bceWithLogitsFused(logits, hard, { labelSmoothing: 0.05, reduction: 'none' });
    assert.deepEqual(u.loss, s.loss);
    assert.deepEqual(u.grad, s.grad);
    const outside = bceWithLogits(logits, smoothTargets(hard, 0.05)) as number;
    const inside = bceWithLogits(logits, hard, { labelSmoothing: 0.05 }) as number;
    assert.ok(Math.abs(outside - inside) <= 1e-6 * inside, `${outside} vs ${inside}`);
  });

  test('Uint8 and Float32 hard targets give the same numbers', () => {
    const { logits, hard } = randomInputs(999, 3);
    const asFloat = Float32Array.from(hard);
    for (const labelSmoothing of [0, 0.05, -0.2]) {
      const a = bceWithLogitsFused(logits, hard, { labelSmoothing, reduction: 'none' });
      const b = bceWithLogitsFused(logits, asFloat, { labelSmoothing, reduction: 'none' });
      assert.deepEqual(a.loss, b.loss);
      assert.deepEqual(a.grad, b.grad);
    }
  });

  test('per-class weight equals the same weight expanded per element; posWeight broadcasts over rows', () => {
    const C = 7;
    const { logits, hard } = randomInputs(C * 40, 4);
    const weight = Float32Array.from({ length: C }, (_, c) => 0.5 + c);
    const posWeight = Float32Array.from({ length: C }, (_, c) => 3 - 0.4 * c);
    const expanded = Float32Array.from({ length: logits.length }, (_, i) => weight[i % C]);
    const a = bceWithLogitsFused(logits, hard, { weight, posWeight, reduction: 'none' });
    const b = bceWithLogitsFused(logits, hard, { weight: expanded, posWeight, reduction: 'none' });
    assert.deepEqual(a.loss, b.loss);
    assert.deepEqual(a.grad, b.grad);
    // Row r of the broadcast equals a call on that row alone.
    const row = 13;
    const one = bceWithLogitsFused(logits.subarray(row * C, row * C + C), hard.subarray(row * C, row * C + C), { weight, posWeight, reduction: 'none' });
    assert.deepEqual(one.loss, a.loss.subarray(row * C, row * C + C));
    assert.deepEqual(one.grad, a.grad.subarray(row * C, row * C + C));
  });

  test('gradOutput scales the gradient; for none it is per element; mean divides by n', () => {
    const { logits, soft } = randomInputs(300, 5);
    const base = bceWithLogitsBackward(logits, soft, { reduction: 'sum' });
    const mean = bceWithLogitsBackward(logits, soft);
    const scaled = bceWithLogitsBackward(logits, soft, { reduction: 'sum', gradOutput: 2 });
    const perElement = bceWithLogitsBackward(logits, soft, { reduction: 'none', gradOutput: new Float32Array(300).fill(2) });
    for (let i = 0; i < 300; i++) {
      assert.equal(scaled[i], 2 * base[i]);
      // A per-element upstream gradient takes the kernels' double-precision path, a scalar one the float path:
      // the same value within the accuracy bound, not necessarily the same bits.
      // Each is within 4 units of the truth (units of 2^-24 times the gradient's magnitude, times the scale 2).
      const unit = 2 ** -24 * refElement(logits[i], soft[i], 0, 'symmetric').gradMagnitude * 2;
      assert.ok(Math.abs(perElement[i] - scaled[i]) <= 8 * unit + 2 ** -149, `[${i}] ${perElement[i]} vs ${scaled[i]}`);
      assert.ok(Math.abs(mean[i] - base[i] / 300) <= 2 ** -22 * Math.abs(base[i] / 300) + 2 ** -149);
    }
  });

  test('lossOut and gradOut receive the results; gradOut may be logits (in place)', () => {
    const { logits, soft } = randomInputs(257, 6);
    const expected = bceWithLogitsFused(logits, soft, { reduction: 'none', labelSmoothing: 0.05 });
    const lossOut = new Float32Array(257);
    const gradOut = new Float32Array(257);
    const r = bceWithLogitsFused(logits, soft, { reduction: 'none', labelSmoothing: 0.05, lossOut, gradOut });
    assert.equal(r.loss, lossOut);
    assert.equal(r.grad, gradOut);
    assert.deepEqual(lossOut, expected.loss);
    assert.deepEqual(gradOut, expected.grad);
    const l2 = bceWithLogits(logits, soft, { reduction: 'none', labelSmoothing: 0.05, lossOut: new Float32Array(257) });
    assert.deepEqual(l2, expected.loss);
    const inPlace = logits.slice();
    const g = bceWithLogitsBackward(inPlace, soft, { reduction: 'none', labelSmoothing: 0.05, gradOut: inPlace });
    assert.equal(g, inPlace);
    assert.deepEqual(inPlace, expected.grad);
    const inPlaceFused = logits.slice();
    const f = bceWithLogitsFused(inPlaceFused, soft, { reduction: 'none', labelSmoothing: 0.05, gradOut: inPlaceFused });
    assert.deepEqual(f.grad, expected.grad);
    assert.deepEqual(f.loss, expected.loss);
  });

  test('one options object reused and changed between calls: every change applies, every bad value throws', () => {
    // The functional API keeps the checks of the last options object; a change to it must never be missed.
    const { logits, hard } = randomInputs(64, 7);
    const fresh = (o: object) => bceWithLogitsFused(logits, hard, { ...o });
    const grad = new Float32Array(64);
    const options: Record<string, unknown> = { labelSmoothing: 0.05, gradOut: grad };
    const first = bceWithLogitsFused(logits, hard, options as never);
    assert.equal(first.loss, fresh({ labelSmoothing: 0.05 }).loss);
    assert.equal(bceWithLogitsFused(logits, hard, options as never).loss, first.loss, 'the same call twice');
    options.labelSmoothing = 0.2;
    assert.equal(bceWithLogitsFused(logits, hard, options as never).loss, fresh({ labelSmoothing: 0.2 }).loss, 'a changed rate applies');
    options.reduction = 'sum';
    assert.equal(bceWithLogitsFused(logits, hard, options as never).loss, fresh({ labelSmoothing: 0.2, reduction: 'sum' }).loss, 'an added key applies');
    options.reduction = 'total';
    assert.throws(() => bceWithLogitsFused(logits, hard, options as never), /options.reduction must be 'mean', 'sum' or 'none'/);
    options.reduction = null;
    assert.throws(() => bceWithLogitsFused(logits, hard, options as never), /options.reduction must be/);
    delete options.reduction;
    options.labelSmoothing = 0.7;
    assert.throws(() => bceWithLogitsFused(logits, hard, options as never), /labelSmoothing must be from/);
    options.labelSmoothing = 0.2;
    options.labelSmoothng = 0.1; // a typo'd key added to a known-good object
    assert.throws(() => bceWithLogitsFused(logits, hard, options as never), /unknown option "labelSmoothng"/);
    delete options.labelSmoothng;
    delete options.gradOut;
    options.labelSmoothng = 0.1; // one key removed and an unknown one added: the same number of keys
    assert.throws(() => bceWithLogitsFused(logits, hard, options as never), /unknown option "labelSmoothng"/);
    delete options.labelSmoothng;
    options.gradOut = grad;
    bceWithLogitsFused(logits, hard, options as never);
    options.gradOut = new Float32Array(63);
    assert.throws(() => bceWithLogitsFused(logits, hard, options as never), /options.gradOut must have length 64/);
    options.gradOut = grad;
    assert.throws(() => bceWithLogitsBackward(logits, hard, { ...options, lossOut: new Float32Array(64) } as never), /option lossOut does not apply here/);
    assert.throws(() => bceWithLogits(logits, hard, options as never), /option gradOut does not apply here/, 'the same object on another entry point is checked again');
    // The same arrays again after a call: still checked for being detached.
    const gone = new Float32Array(64);
    options.gradOut = gone;
    bceWithLogitsFused(logits, hard, options as never);
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    assert.throws(() => bceWithLogitsFused(logits, hard, options as never), /options.gradOut/);
    // Without options at all, the defaults, each time.
    assert.equal(bceWithLogitsFused(logits, hard).loss, fresh({}).loss);
    assert.equal(bceWithLogitsFused(logits, hard).loss, fresh({}).loss);
  });

  test('outputs checked against the same inputs again: an overlap is found whatever was checked before', () => {
    const { logits, hard } = randomInputs(64, 8);
    const buffer = new Float32Array(256);
    const x = buffer.subarray(0, 64);
    x.set(logits);
    const apart = buffer.subarray(64, 128);
    const overlapping = buffer.subarray(32, 96);
    bceWithLogitsFused(x, hard, { gradOut: apart });
    bceWithLogitsFused(x, hard, { gradOut: apart });
    assert.throws(() => bceWithLogitsFused(x, hard, { gradOut: overlapping }), /options.gradOut overlaps logits/);
    bceWithLogitsFused(x, hard, { gradOut: apart });
    const lossOut = buffer.subarray(96, 160); // overlaps apart
    assert.throws(() => bceWithLogitsFused(x, hard, { reduction: 'none', gradOut: apart, lossOut }), /options.lossOut overlaps options.gradOut/);
  });

  test('subarray views at any offset and SharedArrayBuffer arrays give the same results', () => {
    const n = 131;
    const { logits, hard, soft } = randomInputs(n, 7);
    const expected = bceWithLogitsFused(logits, soft, { reduction: 'none', labelSmoothing: 0.1 });
    const expectedHard = bceWithLogitsFused(logits, hard, { reduction: 'none' });
    for (let offset = 0; offset < 5; offset++) {
      const big = new Float32Array(n + 9);
      big.set(logits, offset);
      const bigSoft = new Float32Array(n + 9);
      bigSoft.set(soft, offset + 1);
      const bigHard = new Uint8Array(n + 9);
      bigHard.set(hard, offset + 3);
      const gradStore = new Float32Array(n + 9);
      const r = bceWithLogitsFused(big.subarray(offset, offset + n), bigSoft.subarray(offset + 1, offset + 1 + n), {
        reduction: 'none', labelSmoothing: 0.1, gradOut: gradStore.subarray(offset + 2, offset + 2 + n),
      });
      assert.deepEqual(r.loss, expected.loss);
      assert.deepEqual(r.grad, expected.grad);
      const h = bceWithLogitsFused(big.subarray(offset, offset + n), bigHard.subarray(offset + 3, offset + 3 + n), { reduction: 'none' });
      assert.deepEqual(h.grad, expectedHard.grad);
    }
    const shared = new Float32Array(new SharedArrayBuffer(4 * n));
    shared.set(logits);
    const sharedTargets = new Float32Array(new SharedArrayBuffer(4 * n));
    sharedTargets.set(soft);
    const s = bceWithLogitsFused(shared, sharedTargets, { reduction: 'none', labelSmoothing: 0.1, gradOut: shared });
    assert.deepEqual(s.loss, expected.loss);
    assert.deepEqual(s.grad, expected.grad);
  });

  test('BCEWithLogitsLoss: forward returns the loss, backward the same-pass gradient in a reused buffer', () => {
    const { logits, hard } = randomInputs(140, 8);
    const posWeight = Float32Array.from({ length: 14 }, (_, c) => 1 + c / 7);
    const loss = new BCEWithLogitsLoss({ labelSmoothing: 0.05, posWeight });
    assert.throws(() => loss.backward(), /call forward\(\) first/);
    const value = loss.forward(logits, hard);
    const expected = bceWithLogitsFused(logits, hard, { labelSmoothing: 0.05, posWeight });
    assert.equal(value, expected.loss);
    const g1 = loss.backward();
    assert.deepEqual(g1, expected.grad);
    loss.forward(logits, hard);
    // A scale that is not a power of two: the gradient must be rounded once, as the functional call with the
    // same gradOutput rounds it (a product of the stored gradient and 1/3 would round twice).
    const g2 = loss.backward(1 / 3);
    assert.equal(g2, g1, 'the gradient buffer is reused');
    assert.deepEqual(g2, bceWithLogitsBackward(logits, hard, { labelSmoothing: 0.05, posWeight, gradOutput: 1 / 3 }));
    assert.throws(() => loss.backward(2), /already applied/);
    const none = new BCEWithLogitsLoss({ reduction: 'none' });
    const perElement: Float32Array = none.forward(logits, hard); // typed by the reduction: no cast
    let total = 0;
    total += loss.forward(logits, hard); // 'mean' (the default) is a number under strict
    assert.equal(typeof total, 'number');
    assert.deepEqual(perElement, bceWithLogits(logits, hard, { reduction: 'none' }));
    assert.throws(() => new BCEWithLogitsLoss({ labelSmoothing: 0.7 }), RangeError);
    assert.throws(() => new BCEWithLogitsLoss({ lossOut: new Float32Array(1) } as never), TypeError);
    assert.throws(() => loss.forward(logits, new Uint8Array(3)), RangeError);
  });

  test('labelSmoothing limits: symmetric up to 0.5, uniform up to 1, negative allowed', () => {
    const logits = Float32Array.of(0.5, -0.5);
    const targets = Uint8Array.of(1, 0);
    assert.equal(typeof bceWithLogits(logits, targets, { labelSmoothing: 0.5 }), 'number');
    assert.equal(typeof bceWithLogits(logits, targets, { labelSmoothing: 1, smoothing: 'uniform' }), 'number');
    assert.equal(typeof bceWithLogits(logits, targets, { labelSmoothing: -8 }), 'number');
    assert.throws(() => bceWithLogits(logits, targets, { labelSmoothing: 0.5000001 }), RangeError);
    assert.throws(() => bceWithLogits(logits, targets, { labelSmoothing: 1.0000001, smoothing: 'uniform' }), RangeError);
  });

  test('results are deterministic bit for bit', () => {
    const { logits, soft } = randomInputs(5000, 9);
    const a = bceWithLogitsFused(logits, soft, { labelSmoothing: 0.05 });
    const b = bceWithLogitsFused(logits, soft, { labelSmoothing: 0.05 });
    assert.ok(Object.is(a.loss, b.loss));
    assert.deepEqual(a.grad, b.grad);
  });
});
