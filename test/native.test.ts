// Native-only checks: tails and misaligned views against the JS backend, in-place gradients, and the raw
// binding's own argument checks (a direct call must throw, never read or write out of bounds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { availableBackends, bceWithLogitsFused, useBackend, backend, nativeLoadError } from '../src/index';
import { TINY_INPUT, kernelFor } from '../src/backends/select';
import { rng, normal } from './helpers/reference';

const natives = availableBackends().filter((b) => b.name === 'native');

// Where a native build is expected (CI, a machine with a compiler, a prebuild under test), the native suites must
// not pass by skipping: FUSED_BCE_REQUIRE_NATIVE=1 turns a missing addon into a failure.
const forcedOther = process.env.FUSED_BCE_BACKEND === 'js' || process.env.FUSED_BCE_BACKEND === 'wasm';
test('the native addon loads where it is required (FUSED_BCE_REQUIRE_NATIVE=1)', { skip: (process.env.FUSED_BCE_REQUIRE_NATIVE !== '1' || forcedOther) && 'not required here' }, () => {
  assert.equal(nativeLoadError, null, `the native addon did not load: ${nativeLoadError}`);
  assert.ok(natives.length > 0);
});

test('native backend is the default where it loads', { skip: natives.length === 0 && 'no native build' }, () => {
  assert.equal(backend.name === 'native' || process.env.FUSED_BCE_BACKEND === 'js', true);
});

// Every compiled kernel: each native ISA and the wasm module.
for (const b of availableBackends().filter((x) => x.name !== 'js')) {
  test(`${b.name}/${b.isa}: every length 0..35, offsets 0..3, in place: within 4 ulp / 4 units of js`, () => {
    const random = rng(42);
    for (let n = 0; n <= 2 * 16 + 3; n++) {
      for (let offset = 0; offset < 4; offset++) {
        const store = new Float32Array(n + 8);
        for (let i = 0; i < store.length; i++) store[i] = 8 * normal(random);
        const labels = new Uint8Array(n + 8).map(() => (random() < 0.4 ? 1 : 0));
        const logits = store.subarray(offset, offset + n);
        const targets = labels.subarray(offset + 1, offset + 1 + n);
        const options = { labelSmoothing: 0.05, reduction: 'none' as const };
        useBackend('js');
        const expected = bceWithLogitsFused(logits, targets, options);
        useBackend(b.name, b.isa ?? undefined);
        const before = store.slice();
        const got = bceWithLogitsFused(logits, targets, options);
        assert.deepEqual(store, before, 'inputs untouched');
        for (let i = 0; i < n; i++) {
          assert.ok(Math.abs(got.loss[i] - expected.loss[i]) <= 4 * 2 ** -23 * Math.abs(expected.loss[i]) + 2 ** -149, `n=${n} off=${offset} loss[${i}]`);
          assert.ok(Math.abs(got.grad[i] - expected.grad[i]) <= 4 * 2 ** -24 + 2 ** -149, `n=${n} off=${offset} grad[${i}]`);
        }
        const inPlace = logits.slice();
        bceWithLogitsFused(inPlace, targets, { ...options, gradOut: inPlace });
        assert.deepEqual(inPlace, got.grad, 'in-place gradient equals out-of-place');
        // The element after a view is never written.
        const guard = new Float32Array(n + 1).fill(7);
        bceWithLogitsFused(logits, targets, { ...options, gradOut: guard.subarray(0, n), lossOut: new Float32Array(n) });
        assert.equal(guard[n], 7, 'no write past the end');
      }
    }
    useBackend(b.name, b.isa ?? undefined);
  });
}

test('the raw binding re-checks types and lengths', { skip: natives.length === 0 && 'no native build' }, () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require('node-gyp-build')(join(__dirname, '..', '..')) as {
    passes: Record<string, (...args: unknown[]) => number>;
    passesAsync: Record<string, (...args: unknown[]) => Promise<number>>;
  };
  const run = binding.passes[natives[0].isa as string];
  const runAsync = binding.passesAsync[natives[0].isa as string];
  const f = (k: number) => new Float32Array(k);
  // params: [classes, smoothScale, smoothShift, gradScale, threads, wantLossSum, lossSum, invalidLabelAt]
  const params = (over: Record<number, number> = {}) => {
    const p = Float64Array.of(1, 1, 0, 1, 0, 1, -1, -1, NaN, -1);
    for (const [k, v] of Object.entries(over)) p[Number(k)] = v;
    return p;
  };
  const okParams = params();
  const ok: unknown[] = [f(4), f(4), null, null, null, f(4), null, okParams];
  assert.equal(run(...ok), undefined);
  assert.ok(Math.abs(okParams[8] - 4 * Math.LN2) < 1e-6, `the sum goes to params[8]: ${okParams[8]}`);
  const bad: [number, unknown, RegExp][] = [
    [0, [1, 2], /logits must be a Float32Array/],
    [0, new Float64Array(4), /logits must be a Float32Array/],
    [1, f(3), /targets must have length 4/],
    [1, new Int8Array(4), /targets must be a Float32Array or Uint8Array/],
    [1, Uint8Array.of(0, 1, 2, 0), /got 2 at index 2/],
    [2, f(2), /posWeight must have length 1/],
    [3, f(3), /weight must have the length of logits or classes/],
    [4, f(5), /lossOut must have length 4/],
    [5, f(400), /gradOut must have length 4/],
    [6, f(1), /gradOutput must have length 4/],
    [7, null, /params must be a Float64Array of length 10/],
    [7, new Float64Array(7), /params must be a Float64Array of length 10/],
    [7, new Float32Array(8), /params must be a Float64Array of length 10/],
    [7, params({ 0: 3 }), /multiple of classes/],
    [7, params({ 0: 0 }), /classes must be an integer >= 1/],
    [7, params({ 0: 1.5 }), /classes must be an integer >= 1/],
    [7, params({ 0: NaN }), /classes must be an integer >= 1/],
    [7, params({ 4: -1 }), /threads\] must be an integer from 0/],
    [7, params({ 4: 2.5 }), /threads\] must be an integer from 0/],
    [7, params({ 4: 1e9 }), /threads\] must be an integer from 0/],
    [7, params({ 5: 2 }), /wantLossSum\] must be 0 or 1/],
    [7, params({ 6: NaN }), /focalGamma\] must be -1 \(no focal term\) or a finite number >= 0/],
    [7, params({ 6: Infinity }), /focalGamma\] must be -1/],
    [7, params({ 6: 2, 7: 1.5 }), /focalAlpha\] must be -1 \(no alpha\) or in \[0, 1\]/],
    [7, params({ 6: 2, 2: -0.1 }), /with the focal term, the smoothed labels must be in \[0, 1\]/],
  ];
  for (const [index, value, pattern] of bad) {
    const args = ok.slice();
    args[index] = value;
    assert.throws(() => run(...args), pattern, `argument ${index}`);
    assert.throws(() => runAsync(...args), pattern, `async, argument ${index}: thrown before any work is queued`);
  }
  assert.throws(() => run(f(4)), /expected 8 arguments/);
  assert.throws(() => runAsync(f(4)), /expected 8 arguments/);
});

test('the raw binding\'s four-argument entry point (logits, targets, gradOut, params) re-checks the same', { skip: natives.length === 0 && 'no native build' }, () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require('node-gyp-build')(join(__dirname, '..', '..')) as {
    passes: Record<string, (...args: unknown[]) => void>;
    passesUnweighted: Record<string, (...args: unknown[]) => void>;
  };
  const f = (k: number) => new Float32Array(k);
  for (const isa of Object.keys(binding.passes)) {
    const common = binding.passesUnweighted[isa];
    // The same bits as the full entry point with the other arguments null, with and without a gradient.
    const logits = Float32Array.from({ length: 37 }, (_, i) => Math.sin(i) * 9);
    const labels = Uint8Array.from({ length: 37 }, (_, i) => i % 3 === 0 ? 1 : 0);
    for (const withGrad of [true, false]) {
      const gradA = f(37), gradB = f(37);
      const pA = Float64Array.of(1, 0.9, 0.05, 1 / 37, 1, 1, -1, -1, NaN, -1), pB = pA.slice();
      common(logits, labels, withGrad ? gradA : null, pA);
      binding.passes[isa](logits, labels, null, null, null, withGrad ? gradB : null, null, pB);
      assert.equal(pA[8], pB[8], `${isa}: the same sum`);
      assert.deepEqual(gradA, gradB, `${isa}: the same gradient`);
      assert.ok(Number.isFinite(pA[8]) && pA[8] > 0);
    }
    const okArgs: unknown[] = [f(4), f(4), f(4), Float64Array.of(1, 1, 0, 1, 0, 1, -1, -1, 0, -1)];
    const bad: [number, unknown, RegExp][] = [
      [0, new Float64Array(4), /logits must be a Float32Array/],
      [1, f(3), /targets must have length 4/],
      [1, Uint8Array.of(0, 1, 2, 0), /got 2 at index 2/],
      [2, f(5), /gradOut must have length 4/],
      [2, 'x', /gradOut must be a Float32Array or null/],
      [3, new Float64Array(7), /params must be a Float64Array of length 10/],
      [3, Float64Array.of(3, 1, 0, 1, 0, 1, -1, -1, 0, -1), /multiple of classes/],
      [3, Float64Array.of(1, 1, 0, 1, -1, 1, -1, -1, 0, -1), /threads\] must be an integer from 0/],
      [3, Float64Array.of(1, 1, 0, 1, 0, 1, -2, -1, 0, -1), /focalGamma\] must be -1 \(no focal term\) or a finite number >= 0/],
    ];
    for (const [index, value, pattern] of bad) {
      const args = okArgs.slice();
      args[index] = value;
      assert.throws(() => common(...args), pattern, `${isa}, argument ${index}`);
    }
    assert.throws(() => common(f(4), f(4), f(4)), /expected 4 arguments/);
    assert.throws(() => common(...okArgs, null), /expected 4 arguments/);
  }
});

test('the raw binding\'s four-argument cross-entropy entry point (logits, targets, gradOut, params) re-checks the same', { skip: natives.length === 0 && 'no native build' }, () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require('node-gyp-build')(join(__dirname, '..', '..')) as {
    cePasses: Record<string, (...args: unknown[]) => void>;
    cePassesUnweighted: Record<string, (...args: unknown[]) => void>;
  };
  const f = (k: number) => new Float32Array(k);
  // classes, labelSmoothing, ignoreIndex, gradScale, threads, wantLossSum, mean, lossSum, meanDivisor, invalidTargetAt
  const params = (classes: number) => Float64Array.of(classes, 0.1, -100, 1, 1, 1, 1, NaN, NaN, -1);
  for (const isa of Object.keys(binding.cePasses)) {
    const common = binding.cePassesUnweighted[isa];
    // The same bits as the full entry point with the other arguments null, for each target type, with and
    // without a gradient.
    const rows = 13, C = 7;
    const logits = Float32Array.from({ length: rows * C }, (_, i) => Math.sin(i) * 9);
    const indices = Int32Array.from({ length: rows }, (_, r) => (r === 4 ? -100 : (r * 5) % C));
    const probabilities = Float32Array.from({ length: rows * C }, (_, i) => (i % C === i % 3 ? 1 / 3 : 0));
    for (const targets of [indices, Uint16Array.from(indices, (v) => (v < 0 ? 0 : v)), Uint8Array.from(indices, (v) => (v < 0 ? 0 : v)), probabilities]) {
      for (const withGrad of [true, false]) {
        const gradA = f(rows * C), gradB = f(rows * C);
        const pA = params(C), pB = pA.slice();
        common(logits, targets, withGrad ? gradA : null, pA);
        binding.cePasses[isa](logits, targets, null, null, withGrad ? gradB : null, null, pB);
        assert.equal(pA[7], pB[7], `${isa} ${targets.constructor.name}: the same sum`);
        assert.equal(pA[8], pB[8], `${isa} ${targets.constructor.name}: the same mean divisor`);
        assert.deepEqual(gradA, gradB, `${isa} ${targets.constructor.name}: the same gradient`);
        assert.ok(Number.isFinite(pA[7]) && pA[7] > 0);
      }
    }
    const okArgs: unknown[] = [f(6), Int32Array.of(0, 1), f(6), params(3)];
    const bad: [number, unknown, RegExp][] = [
      [0, new Float64Array(6), /logits must be a Float32Array/],
      [1, f(3), /targets must have length 6/],
      [1, Int32Array.of(0, 3), /targets\[1\] is 3, not a class index in \[0, 3\)/],
      [1, 'x', /targets must be class indices/],
      [2, f(5), /gradOut must have length 6/],
      [2, 'x', /gradOut must be a Float32Array or null/],
      [3, new Float64Array(7), /params must be a Float64Array of length 10/],
      [3, params(4), /multiple of classes/],
      [3, Float64Array.of(3, 1.5, -100, 1, 1, 1, 1, 0, 0, -1), /labelSmoothing\] must be in \[0, 1\]/],
    ];
    for (const [index, value, pattern] of bad) {
      const args = okArgs.slice();
      args[index] = value;
      assert.throws(() => common(...args), pattern, `${isa}, argument ${index}`);
    }
    assert.throws(() => common(f(6), Int32Array.of(0, 1), f(6)), /expected 4 arguments/);
    assert.throws(() => common(...okArgs, null), /expected 4 arguments/);
  }
});

test('n above 2^24: every ISA agrees with the float64 js backend on the mean and on the last elements', { skip: natives.length === 0 && 'no native build' }, () => {
  // Beyond 2^24 a float32 index or accumulator would lose elements; the kernels index with size_t and sum in
  // float64. 2^24 + 37 elements, so that the tail of every vector width is exercised at the end too.
  const n = 2 ** 24 + 37;
  const logits = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    logits[i] = ((Math.imul(i, 2654435761) >>> 0) / 2 ** 32) * 16 - 8;
    labels[i] = i % 7 === 0 ? 1 : 0;
  }
  const options = { labelSmoothing: 0.05 };
  useBackend('js');
  const expected = bceWithLogitsFused(logits, labels, options);
  const magnitude = bceWithLogitsFused(logits, labels, { ...options, reduction: 'none' }).loss.reduce((s, v) => s + Math.abs(v), 0) / n;
  const grad = new Float32Array(n);
  try {
    for (const b of natives) {
      useBackend('native', b.isa ?? undefined);
      grad.fill(NaN);
      const got = bceWithLogitsFused(logits, labels, { ...options, gradOut: grad });
      assert.ok(Math.abs(got.loss - expected.loss) <= 8 * 2 ** -24 * magnitude, `${b.isa}: mean ${got.loss} vs ${expected.loss}`);
      for (const i of [0, 2 ** 24 - 1, 2 ** 24, 2 ** 24 + 1, n - 17, n - 2, n - 1]) {
        assert.ok(Math.abs(grad[i] - expected.grad[i]) <= 4 * 2 ** -24 / n + 2 ** -149, `${b.isa}: grad[${i}] ${grad[i]} vs ${expected.grad[i]}`);
      }
      assert.ok(grad.every(Number.isFinite), `${b.isa}: every gradient element written`);
    }
  } finally {
    useBackend('auto');
  }
});

test('by default, inputs shorter than TINY_INPUT run on the TS kernel (faster there), longer ones natively', { skip: (natives.length === 0 || process.env.FUSED_BCE_BACKEND !== undefined || process.env.FUSED_BCE_ISA !== undefined) && 'no native build, or a backend forced' }, () => {
  const run = (n: number) => {
    const logits = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 5);
    const labels = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    return bceWithLogitsFused(logits, labels, { labelSmoothing: 0.05, reduction: 'none' });
  };
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  try {
    for (const n of [1, TINY_INPUT - 1, TINY_INPUT, 40]) {
      useBackend('auto');
      assert.equal(kernelFor(n).name, n < TINY_INPUT ? 'js' : 'native', `n=${n}: the route`);
      const auto = run(n);
      useBackend(n < TINY_INPUT ? 'js' : 'native');
      const expected = run(n);
      assert.deepEqual(bits(auto.loss), bits(expected.loss), `n=${n}: losses from the ${n < TINY_INPUT ? 'js' : 'native'} kernel`);
      assert.deepEqual(bits(auto.grad), bits(expected.grad), `n=${n}: gradients`);
    }
    useBackend('native');
    assert.equal(kernelFor(1).name, 'native', 'a chosen backend runs every size');
    useBackend('auto');
    assert.equal(backend.name, 'native', "'auto' restores the load-time choice");
  } finally {
    useBackend('auto');
  }
});
