// npm run test:leaks (a CI step): 1,000,000 calls of each entry point, sync and async, on the active backend,
// with RSS and heap measured after a warm-up and at the end (after GC). Fails if either grows beyond its
// margin; prints the figures for the README.
'use strict';
const f = require('../dist/index.js');

const CALLS = Number(process.env.FUSED_BCE_LEAK_CALLS ?? 1_000_000);
const RSS_MARGIN = 16 * 1024 * 1024; // allocator and JIT noise; a leak of 16 bytes a call would show as 16 MB
const HEAP_MARGIN = 2 * 1024 * 1024;
if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');

const n = 64;
const logits = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 5);
const labels = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
const soft = Float32Array.from(labels, (y) => y * 0.8 + 0.1);
const gradOut = new Float32Array(n);
const lossOut = new Float32Array(n);
const posWeight = Float32Array.of(2);
const lossModule = new f.BCEWithLogitsLoss({ labelSmoothing: 0.05 });
const fused = { labelSmoothing: 0.05, gradOut };
const forward = { labelSmoothing: 0.05 };
const focal = { labelSmoothing: 0.05, gradOut, focal: { gamma: 2, alpha: 0.25 } };
const none = { labelSmoothing: 0.05, reduction: 'none', gradOut, lossOut, posWeight };

const entries = [
  ['bceWithLogits', () => f.bceWithLogits(logits, labels, forward)],
  ['bceWithLogitsBackward', () => f.bceWithLogitsBackward(logits, soft, fused)],
  ['bceWithLogitsFused', () => f.bceWithLogitsFused(logits, labels, fused)],
  ['bceWithLogitsFused focal', () => f.bceWithLogitsFused(logits, labels, focal)],
  ["bceWithLogitsFused 'none' + posWeight", () => f.bceWithLogitsFused(logits, soft, none)],
  ['BCEWithLogitsLoss forward+backward', () => { lossModule.forward(logits, labels); lossModule.backward(); }],
  ['smoothTargets', () => f.smoothTargets(labels, 0.1, 'uniform', gradOut)],
  ['bad input (TypeError)', () => { try { f.bceWithLogits(logits, 'x'); } catch { /* expected */ } }],
];

function measure() {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

async function runAsync(calls, inFlight = 64, args = [logits, labels, fused]) {
  for (let done = 0; done < calls; done += inFlight) {
    const batch = [];
    for (let k = 0; k < inFlight; k++) batch.push(f.bceWithLogitsFusedAsync(...args));
    await Promise.all(batch);
  }
}

// Calls the native backend sends through the libuv pool: one chunk (a single trip), and several chunks (the
// main thread's turns and the ring), both losses.
function poolArgs(size) {
  const x = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37) * 6);
  const y = Uint8Array.from({ length: size }, (_, i) => (i % 3 === 0 ? 1 : 0));
  return [x, y, { labelSmoothing: 0.05, gradOut: new Float32Array(size), focal: size > 200000 ? { gamma: 1.5 } : undefined }];
}
const oneChunk = poolArgs(40_000);
const severalChunks = poolArgs(600_000);
const ceLogits = Float32Array.from({ length: 600_000 }, (_, i) => Math.cos(i * 0.11) * 4);
const ceIndices = Int32Array.from({ length: 6_000 }, (_, r) => r % 100);
const ceOptions = { classes: 100, labelSmoothing: 0.1, gradOut: new Float32Array(600_000) };
async function runCeAsync(calls) {
  for (let done = 0; done < calls; done += 4) {
    await Promise.all([0, 1, 2, 3].map(() => f.crossEntropyFusedAsync(ceLogits, ceIndices, ceOptions)));
  }
}

(async () => {
  console.log(`leak check: ${CALLS} calls per entry point, n = ${n}, backend ${f.backend.name}${f.backend.isa ? '/' + f.backend.isa : ''}`);
  let failed = 0;
  const report = (name, before, after, ms, calls = CALLS) => {
    const rss = after.rss - before.rss;
    const heap = after.heap - before.heap;
    const ok = rss < RSS_MARGIN && heap < HEAP_MARGIN;
    if (!ok) failed++;
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}: RSS ${(rss / 1024).toFixed(0)} KiB, heap ${(heap / 1024).toFixed(0)} KiB, ${(ms * 1e6 / calls).toFixed(0)} ns/call`);
  };
  for (const [name, fn] of entries) {
    for (let k = 0; k < CALLS / 10; k++) fn(); // warm-up: JIT, allocator pools
    const before = measure();
    const t0 = Date.now();
    for (let k = 0; k < CALLS; k++) fn();
    const ms = Date.now() - t0;
    report(name, before, measure(), ms);
  }
  await runAsync(CALLS); // warm-up: the allocator arenas of the libuv pool threads settle over ~1M calls
  const before = measure();
  const t0 = Date.now();
  await runAsync(CALLS);
  report('bceWithLogitsFusedAsync (64 in flight)', before, measure(), Date.now() - t0);
  const poolRuns = [
    ['bceWithLogitsFusedAsync, one chunk (16 in flight)', (calls) => runAsync(calls, 16, oneChunk), Math.ceil(CALLS / 20)],
    ['bceWithLogitsFusedAsync focal, several chunks (4 in flight)', (calls) => runAsync(calls, 4, severalChunks), Math.ceil(CALLS / 300)],
    ['crossEntropyFusedAsync, several chunks (4 in flight)', runCeAsync, Math.ceil(CALLS / 300)],
  ];
  for (const [name, run, calls] of poolRuns) {
    await run(calls);
    const poolBefore = measure();
    const poolStart = Date.now();
    await run(calls);
    report(`${name}, ${calls} calls`, poolBefore, measure(), Date.now() - poolStart, calls);
  }
  console.log(failed === 0 ? 'leak check: passed' : `leak check: FAILED (${failed})`);
  process.exit(failed === 0 ? 0 : 1);
})();
