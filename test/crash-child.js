// One hostile sequence against asynchronous calls, run in its own process by test/crash.test.ts (which checks
// that this process ends normally, not by a signal, and prints "ok"). node --expose-gc test/crash-child.js CASE
'use strict';
const assert = require('node:assert/strict');
const { join } = require('node:path');
const { MessageChannel } = require('node:worker_threads');
const f = require(join(__dirname, '..', 'dist', 'index.js'));

const ROUNDS = Number(process.env.FUSED_BCE_CRASH_ROUNDS ?? 3);
const N = 1 << 22; // large enough that a call is still running when the next line of JavaScript runs
const SMALL = 1 << 16; // one chunk of an asynchronous call
const gc = () => global.gc?.();
const data = (n) => ({
  logits: Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 6),
  labels: Uint8Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 1 : 0)),
});
// Takes an ArrayBuffer away from its views: structuredClone with transfer, then drops the clone.
const transferAway = (buffer) => {
  structuredClone(buffer, { transfer: [buffer] });
};
const churn = () => {
  const junk = [];
  for (let k = 0; k < 64; k++) junk.push(new Float32Array(1 << 16).fill(k));
  gc();
  return junk.length;
};

const cases = {
  async 'transfer gradOut while the call runs'() {
    f.useBackend('native');
    for (let r = 0; r < ROUNDS; r++) {
      const { logits, labels } = data(N);
      const gradOut = new Float32Array(N);
      const pending = f.bceWithLogitsFusedAsync(logits, labels, { gradOut, threads: 2 });
      transferAway(gradOut.buffer);
      churn();
      await assert.rejects(pending, (err) => err instanceof TypeError && /detached, transferred or resized/.test(err.message));
    }
  },
  async 'transfer logits and labels while the call runs'() {
    f.useBackend('native');
    for (let r = 0; r < ROUNDS; r++) {
      // A call reads its inputs until it settles (the main thread's turns come after this line): it finds them
      // gone and rejects, whether it has one chunk or many.
      for (const n of [SMALL, N]) {
        const { logits, labels } = data(n);
        const pending = f.bceWithLogitsFusedAsync(logits, labels, { gradOut: new Float32Array(n), labelSmoothing: 0.05 });
        transferAway(logits.buffer);
        transferAway(labels.buffer);
        churn();
        await assert.rejects(pending, (err) => err instanceof TypeError && /an input array was detached, transferred or resized/.test(err.message));
      }
    }
  },
  async 'postMessage transfer of the output while the call runs'() {
    f.useBackend('native');
    const { port1, port2 } = new MessageChannel();
    port2.on('message', () => {});
    for (let r = 0; r < ROUNDS; r++) {
      const { logits, labels } = data(N);
      const gradOut = new Float32Array(N);
      const pending = f.bceWithLogitsFusedAsync(logits, labels, { gradOut });
      port1.postMessage(gradOut.buffer, [gradOut.buffer]);
      churn();
      await assert.rejects(pending, TypeError);
    }
    port1.close();
  },
  async 'ArrayBuffer.prototype.transfer while the call runs (Node >= 21)'() {
    if (typeof ArrayBuffer.prototype.transfer !== 'function') return;
    f.useBackend('native');
    const { logits, labels } = data(N);
    const gradOut = new Float32Array(N);
    const pending = f.bceWithLogitsFusedAsync(logits, labels, { gradOut });
    gradOut.buffer.transfer();
    churn();
    await assert.rejects(pending, TypeError);
  },
  async 'resizable buffers: refused by the raw asynchronous binding, then resized'() {
    const binding = require('node-gyp-build')(join(__dirname, '..'));
    const isa = binding.isas[0];
    const buffer = new ArrayBuffer(4 * N, { maxByteLength: 4 * N });
    const logits = new Float32Array(buffer); // length-tracking
    const params = Float64Array.of(1, 1, 0, 1, 0, 1, 0, -1);
    assert.throws(() => binding.passesAsync[isa](logits, new Float32Array(N), null, null, null, new Float32Array(N), null, params), TypeError);
    buffer.resize(0);
    churn();
  },
  async 'arrays detached by an options getter, between the checks and the kernel'() {
    f.useBackend('native');
    for (let r = 0; r < ROUNDS; r++) {
      for (const call of [f.bceWithLogitsFused, f.bceWithLogitsFusedAsync]) {
        const { logits, labels } = data(1 << 16);
        const options = {
          get labelSmoothing() {
            transferAway(logits.buffer); // runs while the options are read, after logits was checked
            churn();
            return 0.05;
          },
        };
        const outcome = (async () => call(logits, labels, options))();
        await assert.rejects(outcome, (err) => err instanceof TypeError && /detached/.test(err.message));
      }
    }
  },
  async 'thousands of asynchronous calls under garbage-collection pressure'() {
    f.useBackend('native');
    const calls = 2000 * ROUNDS;
    const pending = [];
    for (let k = 0; k < calls; k++) {
      const { logits, labels } = data(256 + (k % 7) * 37);
      pending.push(f.bceWithLogitsFusedAsync(logits, labels, { labelSmoothing: 0.05, threads: 1 + (k % 2) }));
      if (k % 500 === 0) churn();
    }
    const results = await Promise.all(pending);
    assert.ok(results.every((r) => Number.isFinite(r.loss)));
  },
  async 'cross-entropy: transfer gradOut, logits and class indices while calls run'() {
    f.useBackend('native');
    const classes = 128;
    for (let r = 0; r < ROUNDS; r++) {
      for (const n of [SMALL, N]) {
        const { logits } = data(n);
        const indices = Int32Array.from({ length: n / classes }, (_, k) => (k * 37) % classes);
        const pending = f.crossEntropyFusedAsync(logits, indices, { classes, labelSmoothing: 0.1, gradOut: new Float32Array(n), threads: 2 });
        transferAway(logits.buffer);
        transferAway(indices.buffer);
        churn();
        await assert.rejects(pending, (err) => err instanceof TypeError && /an input array was detached, transferred or resized/.test(err.message));
      }
      const again = data(N);
      const gradOut = new Float32Array(N);
      const rejected = f.crossEntropyFusedAsync(again.logits, new Int32Array(N / classes), { classes, gradOut });
      transferAway(gradOut.buffer);
      churn();
      await assert.rejects(rejected, (err) => err instanceof TypeError && /detached, transferred or resized/.test(err.message));
    }
  },
  async 'cross-entropy: thousands of asynchronous calls under garbage-collection pressure'() {
    f.useBackend('native');
    const pending = [];
    for (let k = 0; k < 2000 * ROUNDS; k++) {
      const classes = 1 + (k % 40);
      const rows = 400 + (k % 7) * 37;
      const { logits } = data(rows * classes);
      const indices = Uint16Array.from({ length: rows }, (_, r) => (r * 13 + k) % classes);
      pending.push(f.crossEntropyFusedAsync(logits, indices, { classes, labelSmoothing: 0.05, threads: 1 + (k % 2) }));
      if (k % 500 === 0) churn();
    }
    const results = await Promise.all(pending);
    assert.ok(results.every((r) => Number.isFinite(r.loss)));
  },
};

const name = process.argv[2];
if (name === '--list') {
  console.log(JSON.stringify(Object.keys(cases)));
} else {
  cases[name]().then(() => console.log('ok'), (err) => {
    console.error(err);
    process.exit(1);
  });
}
