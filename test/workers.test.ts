// The addon in several worker_threads at once (it is context-aware, its only state the ISA choice): loaded,
// used concurrently with sync and async calls, and unloaded with its workers, three times over; every worker
// gets the main thread's bits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { backend, bceWithLogitsFused } from '../src/index';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const f = require(workerData.module);
(async () => {
  const n = workerData.n;
  const logits = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) { logits[i] = Math.sin(i * 0.37) * 9; labels[i] = i % 5 === 0 ? 1 : 0; }
  const results = [];
  for (let round = 0; round < 20; round++) {
    const sync = f.bceWithLogitsFused(logits, labels, { labelSmoothing: 0.05 });
    const async = await f.bceWithLogitsFusedAsync(logits, labels, { labelSmoothing: 0.05, threads: 2 });
    results.push(sync.loss, async.loss, sync.grad[n - 1], async.grad[n - 1]);
  }
  parentPort.postMessage({ backend: { name: f.backend.name, isa: f.backend.isa }, results });
})().catch((e) => { parentPort.postMessage({ error: String(e && e.stack || e) }); });
`;

test('the addon works in 4 worker threads at once, and across their unloads (3 rounds)', async () => {
  const n = 100_003;
  const logits = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    logits[i] = Math.sin(i * 0.37) * 9;
    labels[i] = i % 5 === 0 ? 1 : 0;
  }
  const expected = bceWithLogitsFused(logits, labels, { labelSmoothing: 0.05 });
  const module = join(__dirname, '..', 'src', 'index.js');
  for (let round = 0; round < 3; round++) {
    const workers = Array.from({ length: 4 }, () => new Worker(WORKER, { eval: true, workerData: { module, n } }));
    const messages = await Promise.all(workers.map((w) => new Promise<{ backend?: { name: string; isa: string | null }; results?: number[]; error?: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    })));
    for (const [k, m] of messages.entries()) {
      assert.equal(m.error, undefined, `worker ${k}: ${m.error}`);
      assert.deepEqual(m.backend, { name: backend.name, isa: backend.isa }, `worker ${k} runs the same backend`);
      for (let r = 0; r < m.results!.length; r += 4) {
        assert.ok(Object.is(m.results![r], expected.loss) && Object.is(m.results![r + 1], expected.loss), `worker ${k}: loss`);
        assert.ok(Object.is(m.results![r + 2], expected.grad[n - 1]) && Object.is(m.results![r + 3], expected.grad[n - 1]), `worker ${k}: gradient`);
      }
    }
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

const BUSY_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const f = require(workerData.module);
const n = 4_000_000;
const logits = new Float32Array(n).fill(0.5);
const labels = new Uint8Array(n);
for (let k = 0; k < 8; k++) f.bceWithLogitsFusedAsync(logits, labels, { threads: 2 }).catch(() => {});
parentPort.postMessage('started');
`;

test('workers terminated with asynchronous calls in flight: no crash, and the main thread carries on', async () => {
  const module = join(__dirname, '..', 'src', 'index.js');
  for (let round = 0; round < 3; round++) {
    const workers = Array.from({ length: 3 }, () => new Worker(BUSY_WORKER, { eval: true, workerData: { module } }));
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    })));
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const r = bceWithLogitsFused(Float32Array.of(0), Uint8Array.of(1));
  assert.ok(Math.abs(r.loss - Math.LN2) < 1e-7);
});
