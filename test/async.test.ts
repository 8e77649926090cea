// bceWithLogitsFusedAsync and the threads option: the same bits as the sync single-threaded call, for every
// backend, ISA and thread count; many calls in flight over shared inputs; errors reject; arrays stay alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bceWithLogitsFused, bceWithLogitsFusedAsync, bceWithLogits, BCEWithLogitsLoss, backend, parallelism, availableBackends } from '../src/index';
import { ASYNC_INLINE_BELOW } from '../src/api/bce';
import { forEachBackend } from './helpers/backends';
import { rng, normal } from './helpers/reference';

function data(n: number, seed: number, classes = 1) {
  const random = rng(seed);
  const logits = Float32Array.from({ length: n }, () => 6 * normal(random));
  const labels = Uint8Array.from({ length: n }, () => (random() < 0.2 ? 1 : 0));
  const soft = Float32Array.from({ length: n }, () => random());
  const posWeight = Float32Array.from({ length: classes }, () => 0.5 + 2 * random());
  return { logits, labels, soft, posWeight };
}

function sameBits(a: Float32Array, b: Float32Array, label: string): void {
  assert.equal(a.length, b.length, `${label}: lengths`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) assert.fail(`${label}: element ${i} differs: ${a[i]} vs ${b[i]}`);
}

forEachBackend('async and threads', () => {
  test('the reduced loss and gradient are the same bits for threads 1, 2, 3, 7 and auto, sync and async', async () => {
    // 1,000,003 elements: many 64K blocks and a ragged end; 13 classes so blocks are whole rows.
    const n = 13 * 76923;
    const d = data(n, 11, 13);
    const options = { labelSmoothing: 0.05, posWeight: d.posWeight };
    const reference = bceWithLogitsFused(d.logits, d.labels, { ...options, threads: 1 });
    for (const threads of [1, 2, 3, 7, 'auto'] as const) {
      const sync = bceWithLogitsFused(d.logits, d.labels, { ...options, threads });
      assert.ok(Object.is(sync.loss, reference.loss), `sync threads=${threads}: ${sync.loss} vs ${reference.loss}`);
      sameBits(sync.grad, reference.grad, `sync threads=${threads}`);
      const viaAsync = await bceWithLogitsFusedAsync(d.logits, d.labels, { ...options, threads });
      assert.ok(Object.is(viaAsync.loss, reference.loss), `async threads=${threads}: ${viaAsync.loss} vs ${reference.loss}`);
      sameBits(viaAsync.grad, reference.grad, `async threads=${threads}`);
    }
    assert.ok(Object.is(bceWithLogits(d.logits, d.labels, { ...options, threads: 2 }), reference.loss), 'forward only');
  });

  test("reduction 'none', float32 targets, gradOut given: async equals sync", async () => {
    const d = data(4099, 5);
    const gradOut = new Float32Array(4099);
    const options = { labelSmoothing: 0.1, smoothing: 'uniform' as const, reduction: 'none' as const };
    const sync = bceWithLogitsFused(d.logits, d.soft, options);
    const viaAsync = await bceWithLogitsFusedAsync(d.logits, d.soft, { ...options, gradOut, threads: 2 });
    assert.equal(viaAsync.grad, gradOut, 'the gradient is written into gradOut');
    sameBits(viaAsync.loss, sync.loss, 'loss');
    sameBits(viaAsync.grad, sync.grad, 'grad');
  });

  test('many calls in flight over shared inputs all give the sync result', async () => {
    const n = 300_000;
    const d = data(n, 9);
    const expected = bceWithLogitsFused(d.logits, d.labels, { labelSmoothing: 0.05 });
    const calls = Array.from({ length: 16 }, (_, k) => bceWithLogitsFusedAsync(d.logits, d.labels, { labelSmoothing: 0.05, threads: 1 + (k % 3) }));
    const results = await Promise.all(calls);
    for (const [k, r] of results.entries()) {
      assert.ok(Object.is(r.loss, expected.loss), `call ${k}: ${r.loss} vs ${expected.loss}`);
      sameBits(r.grad, expected.grad, `call ${k}`);
    }
  });

  test('bad arguments reject with the sync error, and nothing is written', async () => {
    const gradOut = new Float32Array(4).fill(7);
    await assert.rejects(bceWithLogitsFusedAsync(new Float32Array(4), new Float32Array(3)), RangeError);
    await assert.rejects(bceWithLogitsFusedAsync(new Float32Array(4), Uint8Array.of(0, 1, 2, 0), { gradOut }), /each must be 0 or 1, got 2 at index 2/);
    assert.deepEqual(gradOut, new Float32Array(4).fill(7));
    await assert.rejects(bceWithLogitsFusedAsync(new Float32Array(4), new Float32Array(4), { threads: 0 }), /options.threads must be an integer from 1 to 1024 or 'auto', got number 0/);
    await assert.rejects(bceWithLogitsFusedAsync(new Float32Array(4), new Float32Array(4), { threads: '2' as unknown as number }), TypeError);
    assert.throws(() => new BCEWithLogitsLoss({ threads: 1.5 }), RangeError);
  });

  test('the arrays stay alive while a call is in flight (the caller dropped them, GC ran)', async () => {
    const run = () => {
      const d = data(2_000_000, 3);
      return bceWithLogitsFusedAsync(d.logits, d.labels, { labelSmoothing: 0.05 });
    };
    const pending = [run(), run()];
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) for (let k = 0; k < 3; k++) gc();
    const [a, b] = await Promise.all(pending);
    assert.ok(Object.is(a.loss, b.loss) && Number.isFinite(a.loss));
    sameBits(a.grad, b.grad, 'two identical calls');
  });
});

test(`async calls below ASYNC_INLINE_BELOW elements run inline (outputs written before the promise is awaited); larger ones off the main thread`, async () => {
  const make = (n: number) => ({
    logits: Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 4 + 0.5),
    labels: Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : 0)),
    gradOut: new Float32Array(n),
  });
  const small = make(ASYNC_INLINE_BELOW - 1);
  const smallCall = bceWithLogitsFusedAsync(small.logits, small.labels, { gradOut: small.gradOut });
  assert.ok(small.gradOut.some((g) => g !== 0), 'written inline');
  assert.equal((await smallCall).loss, bceWithLogitsFused(small.logits, small.labels).loss);
  if (backend.name === 'native') {
    const large = make(ASYNC_INLINE_BELOW * 64);
    const largeCall = bceWithLogitsFusedAsync(large.logits, large.labels, { gradOut: large.gradOut });
    assert.ok(large.gradOut.every((g) => g === 0), 'not yet written: the pass runs on the pool');
    await largeCall;
    assert.ok(large.gradOut.some((g) => g !== 0));
  }
});

test('parallelism(): the pool size the native backend reports, 1 for js; more threads than that give the same bits', () => {
  const { maxThreads } = parallelism();
  assert.ok(Number.isInteger(maxThreads) && maxThreads >= 1);
  if (backend.name === 'js') assert.equal(maxThreads, 1);
  const n = 600_000;
  const logits = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.3) * 5);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i % 9 === 0 ? 1 : 0));
  const one = bceWithLogitsFused(logits, labels, { threads: 1, labelSmoothing: 0.05 });
  const many = bceWithLogitsFused(logits, labels, { threads: maxThreads + 5, labelSmoothing: 0.05 });
  assert.equal(many.loss, one.loss);
  assert.deepEqual(many.grad, one.grad);
});

forEachBackend('async on SharedArrayBuffers', () => {
  test('inputs and outputs on SharedArrayBuffers (used in place by the native backend): the sync call\'s bits', async () => {
    const n = 3 * 65536 + 5; // above the inline threshold, several blocks, a tail
    const shared = <T extends Float32Array | Uint8Array>(make: new (b: SharedArrayBuffer) => T, bytes: number) => new make(new SharedArrayBuffer(bytes));
    const random = rng(99);
    const logits = shared(Float32Array, 4 * n), soft = shared(Float32Array, 4 * n), labels = shared(Uint8Array, n);
    for (let i = 0; i < n; i++) {
      logits[i] = 6 * normal(random);
      soft[i] = random();
      labels[i] = random() < 0.3 ? 1 : 0;
    }
    for (const targets of [labels, soft]) {
      for (const reduction of ['mean', 'none'] as const) {
        const expected = bceWithLogitsFused(logits, targets, { labelSmoothing: 0.05, reduction });
        const gradOut = shared(Float32Array, 4 * n), lossOut = shared(Float32Array, 4 * n);
        const got = await bceWithLogitsFusedAsync(logits, targets, { labelSmoothing: 0.05, reduction, gradOut, ...(reduction === 'none' ? { lossOut } : {}) });
        assert.deepEqual(got.grad, expected.grad);
        assert.equal(got.grad, gradOut, 'the caller\'s gradOut');
        if (reduction === 'none') assert.deepEqual(lossOut, expected.loss);
        else assert.ok(Object.is(got.loss, expected.loss));
      }
    }
  });
});

test('an ArrayBuffer dressed as a SharedArrayBuffer (its prototype changed) is still copied: transferred during the call, no harm', { skip: !availableBackends().some((b) => b.name === 'native') && 'no native build' }, async () => {
  const n = 1 << 22;
  const buffer = new ArrayBuffer(4 * n);
  Object.setPrototypeOf(buffer, SharedArrayBuffer.prototype);
  const logits = new Float32Array(buffer);
  for (let i = 0; i < n; i++) logits[i] = Math.sin(i * 0.37) * 6;
  const labels = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const expected = bceWithLogitsFused(Float32Array.from(logits), labels, { labelSmoothing: 0.05 });
  const pending = bceWithLogitsFusedAsync(logits, labels, { labelSmoothing: 0.05 });
  // Transferred away and dropped: a call that read it in place would read freed memory.
  structuredClone(buffer, { transfer: [buffer] });
  (globalThis as { gc?: () => void }).gc?.();
  const got = await pending;
  assert.ok(Object.is(got.loss, expected.loss));
  assert.deepEqual(got.grad, expected.grad);
});
