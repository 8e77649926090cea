// bceWithLogitsFusedAsync and the threads option: the same bits as the sync single-threaded call, for every
// backend, ISA and thread count; many calls in flight over shared inputs; errors reject; arrays stay alive.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { bceWithLogitsFused, bceWithLogitsFusedAsync, bceWithLogits, BCEWithLogitsLoss, backend, parallelism, availableBackends, crossEntropyFused, crossEntropyFusedAsync } from '../src/index';
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

test('an ArrayBuffer dressed as a SharedArrayBuffer (its prototype changed) is still copied: transferred during the call, the call stops', { skip: !availableBackends().some((b) => b.name === 'native') && 'no native build' }, async () => {
  const n = 1 << 22;
  const buffer = new ArrayBuffer(4 * n);
  Object.setPrototypeOf(buffer, SharedArrayBuffer.prototype);
  const logits = new Float32Array(buffer);
  for (let i = 0; i < n; i++) logits[i] = Math.sin(i * 0.37) * 6;
  const labels = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const pending = bceWithLogitsFusedAsync(logits, labels, { labelSmoothing: 0.05 });
  // Transferred away and dropped: a call that read it in place would read freed memory. The call reads its
  // inputs chunk by chunk until it settles, finds this one gone and rejects.
  structuredClone(buffer, { transfer: [buffer] });
  (globalThis as { gc?: () => void }).gc?.();
  await assert.rejects(pending, (err: Error) => err instanceof TypeError && /an input array was detached, transferred or resized/.test(err.message));
});

// Calls of many chunks (about 128K elements each), shared between the main thread's turns (in place) and the
// worker (in the ring): every kind of array, on ArrayBuffers and SharedArrayBuffers, gives the bits of the sync
// call. (The focal and cross-entropy cases cost the main thread enough that the worker takes chunks too.)
const nativeOnly = { skip: !availableBackends().some((b) => b.name === 'native') && 'no native build' };

describe('async calls of many chunks (native: the ring and the main thread\'s turns)', nativeOnly, () => {
  test("BCE, every array per element ('none': float targets, weight, gradOutput, lossOut), the gradient in place", async () => {
    const n = 7 * 190_001; // ten chunks and a ragged last one, 7 classes
    const d = data(n, 21, 7);
    const random = rng(22);
    const weight = Float32Array.from({ length: n }, () => random() * 2);
    const gradOutput = Float32Array.from({ length: n }, () => normal(random));
    const options = { labelSmoothing: 0.05, weight, gradOutput, reduction: 'none' as const, posWeight: d.posWeight };
    const sync = bceWithLogitsFused(d.logits, d.soft, options);
    const logits = Float32Array.from(d.logits);
    const lossOut = new Float32Array(n);
    const got = await bceWithLogitsFusedAsync(logits, d.soft, { ...options, lossOut, gradOut: logits, threads: 2 });
    assert.equal(got.grad, logits, 'written into logits itself');
    sameBits(got.loss, sync.loss, 'loss');
    sameBits(got.grad, sync.grad, 'grad');
  });

  test("BCE, Uint8 labels, per-class weight and focal (gamma 1.5: the worker takes chunks), 'sum': the sync call's sum", async () => {
    const n = 3 * 400_001;
    const d = data(n, 23, 3);
    const options = { labelSmoothing: 0.05, weight: d.posWeight, reduction: 'sum' as const, focal: { gamma: 1.5, alpha: 0.25 } };
    const sync = bceWithLogitsFused(d.logits, d.labels, options);
    for (const threads of [1, 2, 'auto'] as const) {
      const got = await bceWithLogitsFusedAsync(d.logits, d.labels, { ...options, threads });
      assert.ok(Object.is(got.loss, sync.loss), `threads ${threads}: ${got.loss} vs ${sync.loss}`);
      sameBits(got.grad, sync.grad, `threads ${threads}`);
    }
  });

  test('cross-entropy: class indices of each type and probabilities, weight, ignoreIndex, every reduction', async () => {
    const classes = 37, rows = 40_003;
    const n = rows * classes;
    const random = rng(31);
    const logits = Float32Array.from({ length: n }, () => 4 * normal(random));
    const probabilities = Float32Array.from({ length: n }, () => random() / classes);
    const weight = Float32Array.from({ length: classes }, (_, c) => 0.5 + (c % 5) / 4);
    const gradOutput = Float32Array.from({ length: rows }, () => normal(random));
    const index = (r: number) => (r * 11) % classes;
    const indices = [Int32Array.from({ length: rows }, (_, r) => index(r)), Uint16Array.from({ length: rows }, (_, r) => index(r)), Uint8Array.from({ length: rows }, (_, r) => index(r))];
    for (const targets of [...indices, probabilities]) {
      for (const reduction of ['mean', 'none'] as const) {
        const options = { classes, labelSmoothing: 0.1, weight, reduction, ignoreIndex: 3, threads: 2, ...(reduction === 'none' ? { gradOutput } : {}) };
        const sync = crossEntropyFused(logits, targets, options);
        const got = await crossEntropyFusedAsync(logits, targets, options);
        assert.deepEqual(got.loss, sync.loss, `${targets.constructor.name} ${reduction}: the loss`);
        sameBits(got.grad, sync.grad, `${targets.constructor.name} ${reduction}: the gradient`);
      }
    }
  });

  test('cross-entropy with rows wider than a block (70,000 classes: one row per block)', async () => {
    const classes = 70_000, rows = 23;
    const random = rng(32);
    const logits = Float32Array.from({ length: rows * classes }, () => 3 * normal(random));
    const indices = Int32Array.from({ length: rows }, (_, r) => (r * 7919) % classes);
    const sync = crossEntropyFused(logits, indices, { classes, labelSmoothing: 0.1 });
    const got = await crossEntropyFusedAsync(logits, indices, { classes, labelSmoothing: 0.1, threads: 1 });
    assert.ok(Object.is(got.loss, sync.loss), `${got.loss} vs ${sync.loss}`);
    sameBits(got.grad, sync.grad, 'grad');
  });
});

test('streaming: inputs on a SharedArrayBuffer and on an ArrayBuffer in one call', nativeOnly, async () => {
  const n = 1_000_003;
  const d = data(n, 41);
  const logits = new Float32Array(new SharedArrayBuffer(4 * n));
  logits.set(d.logits);
  const gradOut = new Float32Array(n);
  const sync = bceWithLogitsFused(d.logits, d.labels, { labelSmoothing: 0.05 });
  const got = await bceWithLogitsFusedAsync(logits, d.labels, { labelSmoothing: 0.05, gradOut });
  assert.ok(Object.is(got.loss, sync.loss));
  sameBits(gradOut, sync.grad, 'grad');
});

test('a bad Uint8 label in a call of 2M elements (checked in the main thread\'s first turns): the sync call\'s RangeError, nothing written', nativeOnly, async () => {
  const n = 1 << 21;
  const d = data(n, 44);
  d.labels[n - 5] = 3;
  const gradOut = new Float32Array(n).fill(42);
  const sync = (() => { try { bceWithLogitsFused(d.logits, d.labels, { labelSmoothing: 0.05 }); } catch (err) { return err as Error; } return null; })();
  assert.ok(sync instanceof RangeError);
  await assert.rejects(bceWithLogitsFusedAsync(d.logits, d.labels, { labelSmoothing: 0.05, gradOut }), (err: Error) => err instanceof RangeError && err.message === sync.message.replace('bceWithLogitsFused:', 'bceWithLogitsFusedAsync:'));
  assert.ok(gradOut.every((v) => v === 42), 'gradOut untouched');
});

test('a call does none of its work in the turn of the event loop that starts it (its first slice comes after the next timers)', nativeOnly, async () => {
  const n = 1 << 20;
  const d = data(n, 46);
  const gradOut = new Float32Array(n).fill(Number.NaN);
  const sync = bceWithLogitsFused(d.logits, d.soft, { labelSmoothing: 0.05 });
  // Started from a timer; the immediate queued after it runs in the same check phase as the call's first turn.
  const { pending, untouched } = await new Promise<{ pending: Promise<unknown>; untouched: boolean }>((resolve) => setTimeout(() => {
    const pending = bceWithLogitsFusedAsync(d.logits, d.soft, { labelSmoothing: 0.05, gradOut });
    setImmediate(() => resolve({ pending, untouched: gradOut.every(Number.isNaN) }));
  }, 0));
  assert.ok(untouched, 'nothing written in the check phase after the call started');
  const got = (await pending) as { loss: number };
  assert.ok(Object.is(got.loss, sync.loss), 'loss');
  sameBits(gradOut, sync.grad, 'grad');
});

test('calls of 2^23 elements and more (their owned ring paged in by the worker from the start): the sync call\'s bits; a bad label stops the paging and rejects', nativeOnly, async () => {
  const n = (1 << 23) + 5;
  const random = rng(45);
  const logits = Float32Array.from({ length: n }, () => 6 * normal(random));
  const labels = Uint8Array.from({ length: n }, () => (random() < 0.2 ? 1 : 0));
  const sync = bceWithLogitsFused(logits, labels, { labelSmoothing: 0.05 });
  for (let round = 0; round < 2; round++) { // a fresh ring, then (from the block cache) a paged-in one
    const gradOut = new Float32Array(n);
    const got = await bceWithLogitsFusedAsync(logits, labels, { labelSmoothing: 0.05, gradOut });
    assert.ok(Object.is(got.loss, sync.loss), `round ${round}: loss`);
    sameBits(gradOut, sync.grad, `round ${round}: grad`);
  }
  labels[3] = 9; // found by the label check in the first turns, while the worker pages the ring in
  const gradOut = new Float32Array(n).fill(42);
  await assert.rejects(bceWithLogitsFusedAsync(logits, labels, { labelSmoothing: 0.05, gradOut }), (err: Error) => err instanceof RangeError && /got 9 at index 3/.test(err.message));
  assert.ok(gradOut.every((v) => v === 42), 'gradOut untouched');
  labels[3] = 1;
  const again = await bceWithLogitsFusedAsync(logits, labels, { labelSmoothing: 0.05 }); // the pool and the cache still serve
  assert.ok(Number.isFinite(again.loss));
});

test('streaming: a label or class index made invalid while the call runs rejects, before a kernel reads it', nativeOnly, async () => {
  const n = 1 << 22;
  const d = data(n, 42);
  const pending = bceWithLogitsFusedAsync(d.logits, d.labels, { labelSmoothing: 0.05 });
  d.labels[n - 1] = 7; // the last chunk is read long after this line runs
  // Caught by the label check (made in the call's first turns at this size: the sync call's RangeError) or, had
  // that check passed it, when its chunk is read (a TypeError): never by a kernel.
  await assert.rejects(pending, (err: Error) => (err instanceof RangeError && /got 7 at index 4194303/.test(err.message)) ||
    (err instanceof TypeError && /an input array was written while the asynchronous call ran/.test(err.message)));

  const classes = 16, rows = n / classes;
  const indices = Int32Array.from({ length: rows }, (_, r) => r % classes);
  const ce = crossEntropyFusedAsync(d.logits.subarray(0, rows * classes), indices, { classes });
  indices[rows - 1] = 1_000_000; // would index far outside its row
  await assert.rejects(ce, (err: Error) => err instanceof TypeError && /was written while the asynchronous call ran/.test(err.message));
});

test('streaming: a call owns a ring of chunks, not copies of its arrays (memory for 16 calls of 4M elements in flight)', nativeOnly, async () => {
  const n = 1 << 22;
  const d = data(n, 43);
  // The outputs are the caller's, allocated and touched first: a 16 MB gradient allocated by a call may come
  // zeroed from reused heap memory (resident at once) or fresh from the OS (resident when written), depending on
  // what ran before, and only the call's own memory is measured here.
  const grads = Array.from({ length: 16 }, () => new Float32Array(n).fill(1));
  const before = process.memoryUsage().rss;
  const calls = grads.map((gradOut) => bceWithLogitsFusedAsync(d.logits, d.labels, { labelSmoothing: 0.05, threads: 1, gradOut }));
  const afterStart = process.memoryUsage().rss;
  const results = await Promise.all(calls);
  assert.ok(results.every((r) => Object.is(r.loss, results[0].loss)));
  // Copies of the inputs alone would be 16 x 20 MB at the start; the rings are 16 x 4.7 MB at most.
  assert.ok(afterStart - before < 160 * 2 ** 20, `RSS grew by ${((afterStart - before) / 2 ** 20).toFixed(1)} MB when 16 calls started`);
});
