// Bad input: a TypeError or RangeError that names the argument, and no caller output written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bceWithLogits, bceWithLogitsBackward, bceWithLogitsFused, smoothTargets, useBackend } from '../src/index';
import { forEachBackend } from './helpers/backends';

type Call = (logits: unknown, targets: unknown, options?: unknown) => unknown;
const FUNCTIONS: [string, Call][] = [
  ['bceWithLogits', bceWithLogits as Call],
  ['bceWithLogitsBackward', bceWithLogitsBackward as Call],
  ['bceWithLogitsFused', bceWithLogitsFused as Call],
];

const n = 12;
const logits = () => Float32Array.from({ length: n }, (_, i) => i - 6);
const targets = () => Float32Array.from({ length: n }, (_, i) => i % 2);

function detached(): Float32Array {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

// [description, logits, targets, options, error class, message pattern]
const COMMON: [string, unknown, unknown, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
  ['logits undefined', undefined, targets(), undefined, TypeError, /logits must be a Float32Array, got undefined/],
  ['logits null', null, targets(), undefined, TypeError, /logits must be a Float32Array, got null/],
  ['logits a number', 3, targets(), undefined, TypeError, /logits must be a Float32Array, got number 3/],
  ['logits a plain array', [1, 2], targets(), undefined, TypeError, /logits must be a Float32Array, got Array\(2\)/],
  ['logits a Float64Array', new Float64Array(n), targets(), undefined, TypeError, /logits must be a Float32Array, got Float64Array\(12\)/],
  ['logits a DataView', new DataView(new ArrayBuffer(48)), targets(), undefined, TypeError, /logits must be a Float32Array, got DataView/],
  ['logits detached', detached(), new Float32Array(0), undefined, TypeError, /logits is on a detached ArrayBuffer/],
  ['targets detached', new Float32Array(0), detached(), undefined, TypeError, /targets is on a detached ArrayBuffer/],
  ['targets a Float64Array', logits(), new Float64Array(n), undefined, TypeError, /targets must be a Float32Array \(soft targets\) or Uint8Array/],
  ['targets a Uint8ClampedArray', logits(), new Uint8ClampedArray(n), undefined, TypeError, /targets must be/],
  ['targets an Int32Array', logits(), new Int32Array(n), undefined, TypeError, /targets must be/],
  ['targets a plain array', logits(), [0, 1], undefined, TypeError, /targets must be/],
  ['targets too short', logits(), new Float32Array(n - 1), undefined, RangeError, /targets must have the length of logits \(12\), got Float32Array\(11\)/],
  ['targets too long (uint8)', logits(), new Uint8Array(n + 1), undefined, RangeError, /targets must have the length of logits/],
  ['a uint8 label of 2', logits(), Uint8Array.from({ length: n }, (_, i) => (i === 5 ? 2 : 1)), undefined, RangeError, /each must be 0 or 1, got 2 at index 5/],
  ['options a number', logits(), targets(), 5, TypeError, /options must be an object, got number 5/],
  ['options a string', logits(), targets(), 'mean', TypeError, /options must be an object/],
  ['an unknown option', logits(), targets(), { labelSmothing: 0.1 }, TypeError, /unknown option "labelSmothing"/],
  ['labelSmoothing a string', logits(), targets(), { labelSmoothing: '0.1' }, TypeError, /options.labelSmoothing must be a number/],
  ['labelSmoothing NaN', logits(), targets(), { labelSmoothing: NaN }, RangeError, /options.labelSmoothing must be from -1000000 \(negative smoothing\) to 0.5/],
  ['labelSmoothing below -1e6', logits(), targets(), { labelSmoothing: -2e6 }, RangeError, /options.labelSmoothing must be from -1000000 .* got -2000000/],
  ['labelSmoothing Infinity', logits(), targets(), { labelSmoothing: Infinity }, RangeError, /options.labelSmoothing must be from/],
  ['labelSmoothing -Infinity', logits(), targets(), { labelSmoothing: -Infinity }, RangeError, /options.labelSmoothing/],
  ['labelSmoothing below the float32 range', logits(), targets(), { labelSmoothing: -1e-50 }, RangeError, /options.labelSmoothing must be 0 or at least 1.17549435\d*e-38 in magnitude/],
  ['symmetric labelSmoothing above 0.5', logits(), targets(), { labelSmoothing: 0.6 }, RangeError, /to 0.5 for smoothing 'symmetric'/],
  ['uniform labelSmoothing above 1', logits(), targets(), { labelSmoothing: 1.5, smoothing: 'uniform' }, RangeError, /to 1 for smoothing 'uniform'/],
  ['an unknown smoothing', logits(), targets(), { smoothing: 'keras' }, RangeError, /options.smoothing must be 'symmetric' or 'uniform', got string "keras"/],
  ['smoothing a number', logits(), targets(), { smoothing: 3 }, TypeError, /options.smoothing must be/],
  ['an unknown reduction', logits(), targets(), { reduction: 'avg' }, RangeError, /options.reduction must be 'mean', 'sum' or 'none', got string "avg"/],
  ['reduction null', logits(), targets(), { reduction: null }, TypeError, /options.reduction must be/],
  ['posWeight a Float64Array', logits(), targets(), { posWeight: new Float64Array(3) }, TypeError, /options.posWeight must be a Float32Array/],
  ['posWeight empty', logits(), targets(), { posWeight: new Float32Array(0) }, RangeError, /options.posWeight must have at least one class/],
  ['n not a multiple of C', logits(), targets(), { posWeight: new Float32Array(5) }, RangeError, /logits length 12 is not a multiple of the number of classes 5/],
  ['weight a plain array', logits(), targets(), { weight: [1, 2] }, TypeError, /options.weight must be a Float32Array/],
  ['weight neither n nor C', logits(), targets(), { posWeight: new Float32Array(3), weight: new Float32Array(4) }, RangeError, /options.weight must have length 12 \(per element\) or 3 \(per class/],
  ['per-class weight not dividing n', logits(), targets(), { weight: new Float32Array(5) }, RangeError, /not a multiple of the number of classes 5/],
  ['weight empty', logits(), targets(), { weight: new Float32Array(0) }, RangeError, /options.weight must have length 12/],
];

for (const [fnName, fn] of FUNCTIONS) {
  test(`${fnName}: every bad argument throws the right error, naming it`, () => {
    for (const [what, l, t, o, type, pattern] of COMMON) {
      assert.throws(() => fn(l, t, o), (err: unknown) => {
        assert.ok(err instanceof type, `${what}: expected ${type.name}, got ${err}`);
        assert.match((err as Error).message, new RegExp(`^fused-bce: (${fnName}: )?`), what);
        assert.match((err as Error).message, pattern, what);
        return true;
      }, what);
    }
  });
}

const FORWARD_ONLY: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
  ['lossOut with reduction mean', { lossOut: new Float32Array(n) }, TypeError, /options.lossOut is only used with reduction 'none'/],
  ['lossOut too short', { reduction: 'none', lossOut: new Float32Array(n - 1) }, RangeError, /options.lossOut must have length 12/],
  ['lossOut a Float64Array', { reduction: 'none', lossOut: new Float64Array(n) }, TypeError, /options.lossOut must be a Float32Array of length 12/],
];
const BACKWARD_ONLY: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
  ['gradOutput an array for mean', { gradOutput: new Float32Array(n) }, TypeError, /options.gradOutput must be a number for reduction 'mean'/],
  ['gradOutput too short for none', { reduction: 'none', gradOutput: new Float32Array(3) }, RangeError, /options.gradOutput must have length 12/],
  ['gradOutput a string', { reduction: 'none', gradOutput: '1' }, TypeError, /options.gradOutput must be a number or a Float32Array/],
  ['gradOut too long', { gradOut: new Float32Array(n + 1) }, RangeError, /options.gradOut must have length 12/],
  ['gradOut a plain array', { gradOut: [] }, TypeError, /options.gradOut must be a Float32Array/],
];

test('options that do not apply to a function are TypeErrors', () => {
  assert.throws(() => bceWithLogits(logits(), targets(), { gradOut: new Float32Array(n) } as never), /option gradOut does not apply here/);
  assert.throws(() => bceWithLogits(logits(), targets(), { gradOutput: 1 } as never), TypeError);
  assert.throws(() => bceWithLogitsBackward(logits(), targets(), { reduction: 'none', lossOut: new Float32Array(n) } as never), /option lossOut does not apply here/);
  for (const [what, o, type, pattern] of FORWARD_ONLY) {
    assert.throws(() => bceWithLogits(logits(), targets(), o as never), (e) => e instanceof type && pattern.test((e as Error).message), `forward ${what}`);
    assert.throws(() => bceWithLogitsFused(logits(), targets(), o as never), (e) => e instanceof type && pattern.test((e as Error).message), `fused ${what}`);
  }
  for (const [what, o, type, pattern] of BACKWARD_ONLY) {
    assert.throws(() => bceWithLogitsBackward(logits(), targets(), o as never), (e) => e instanceof type && pattern.test((e as Error).message), `backward ${what}`);
    assert.throws(() => bceWithLogitsFused(logits(), targets(), o as never), (e) => e instanceof type && pattern.test((e as Error).message), `fused ${what}`);
  }
});

test('outputs may not overlap inputs, except gradOut === logits', () => {
  const store = new Float32Array(4 * n);
  const l = store.subarray(0, n);
  const t = store.subarray(n, 2 * n);
  const cases: [string, unknown, RegExp][] = [
    ['lossOut is logits', { reduction: 'none', lossOut: l }, /options.lossOut overlaps logits/],
    ['gradOut shifted over logits', { gradOut: store.subarray(1, n + 1) }, /options.gradOut overlaps logits; .*gradOut may be exactly logits/],
    ['gradOut over targets', { gradOut: store.subarray(n + 2, 2 * n + 2) }, /options.gradOut overlaps targets/],
    ['gradOut over posWeight', { posWeight: store.subarray(2 * n, 2 * n + 3), gradOut: store.subarray(2 * n, 3 * n) }, /options.gradOut overlaps options.posWeight/],
    ['gradOut over weight', { weight: store.subarray(2 * n, 3 * n), gradOut: store.subarray(2 * n + 4, 3 * n + 4) }, /options.gradOut overlaps options.weight/],
    ['gradOut over gradOutput', { reduction: 'none', gradOutput: store.subarray(2 * n, 3 * n), gradOut: store.subarray(2 * n, 3 * n) }, /options.gradOut overlaps options.gradOutput/],
    ['lossOut over gradOut', { reduction: 'none', lossOut: store.subarray(2 * n, 3 * n), gradOut: store.subarray(2 * n + 1, 3 * n + 1) }, /options.lossOut overlaps options.gradOut/],
  ];
  for (const [what, o, pattern] of cases) {
    const before = store.slice();
    assert.throws(() => bceWithLogitsFused(l, t, o as never), (e) => e instanceof RangeError && pattern.test((e as Error).message), what);
    assert.deepEqual(store, before, `${what}: nothing written`);
  }
  const targetsBytes = new Uint8Array(store.buffer, 4 * n, n);
  assert.throws(() => bceWithLogitsBackward(l, targetsBytes, { gradOut: store.subarray(n, 2 * n) }), /overlaps targets/);
});

test('smoothTargets validates its arguments', () => {
  assert.throws(() => smoothTargets([0, 1] as never, 0.1), TypeError);
  assert.throws(() => smoothTargets(Uint8Array.of(0, 3), 0.1), /got 3 at index 1/);
  assert.throws(() => smoothTargets(Uint8Array.of(0, 1), NaN), RangeError);
  assert.throws(() => smoothTargets(Uint8Array.of(0, 1), 0.1, 'other' as never), RangeError);
  assert.throws(() => smoothTargets(Uint8Array.of(0, 1), 0.1, 'symmetric', new Float32Array(3)), /out must have length 2/);
  const shared = new Float32Array(4);
  assert.throws(() => smoothTargets(shared.subarray(0, 2), 0.1, 'symmetric', shared.subarray(1, 3)), /out overlaps targets/);
});

test('useBackend rejects unknown names and ISAs', () => {
  assert.throws(() => useBackend('gpu' as never), RangeError);
  assert.throws(() => useBackend('js', 'avx2'), RangeError);
  assert.throws(() => useBackend('native', 'sse9'), /unknown ISA|did not load/);
});

forEachBackend('errors leave outputs untouched', () => {
  test('a bad label found by the kernel, and every late check, write nothing', () => {
    const bad = Uint8Array.from({ length: n }, (_, i) => (i === n - 1 ? 255 : i & 1));
    const lossOut = new Float32Array(n).fill(7);
    const gradOut = new Float32Array(n).fill(7);
    assert.throws(() => bceWithLogitsFused(logits(), bad, { reduction: 'none', lossOut, gradOut }), /got 255 at index 11/);
    assert.throws(() => bceWithLogitsBackward(logits(), bad, { gradOut }), RangeError);
    assert.throws(() => bceWithLogits(logits(), bad, { reduction: 'none', lossOut }), RangeError);
    const inPlace = logits();
    const copy = inPlace.slice();
    assert.throws(() => bceWithLogitsBackward(inPlace, bad, { gradOut: inPlace }), RangeError);
    assert.deepEqual(inPlace, copy);
    assert.throws(() => bceWithLogitsFused(logits(), targets(), { reduction: 'none', lossOut, gradOut, posWeight: new Float32Array(5) }), RangeError);
    assert.throws(() => bceWithLogitsFused(logits(), targets(), { reduction: 'none', lossOut, gradOut, gradOutput: new Float32Array(2) }), RangeError);
    assert.ok(lossOut.every((v) => v === 7) && gradOut.every((v) => v === 7));
  });

  test('the first bad label is named wherever it lies (the scans work in blocks of 64 and 4096 labels)', () => {
    for (const length of [1, 63, 64, 65, 200, 4099, 8200]) {
      for (const at of [0, 1, 7, 8, 62, 63, 64, 65, 127, 128, 4095, 4096, 4097, 4160, length - 2, length - 1]) {
        if (at < 0 || at >= length) continue;
        for (const later of [false, true]) {
          const labels = Uint8Array.from({ length }, (_, i) => (i % 3 === 0 ? 1 : 0));
          labels[at] = later ? 2 + (at % 250) : 2;
          // later bad labels, in the same block of 64 and the next: the first one is reported
          if (later && at + 3 < length) labels[at + 3] = 7;
          if (later && at + 70 < length) labels[at + 70] = 255;
          const pattern = new RegExp(`got ${labels[at]} at index ${at}\\b`);
          const call = () => bceWithLogitsFused(new Float32Array(length), labels, { labelSmoothing: 0.1 });
          assert.throws(call, pattern, `length ${length}, bad at ${at}`);
        }
      }
    }
  });
});
