// The event loop during an asynchronous call: at each size, the longest gap between 1 ms timer ticks while
// bceWithLogitsFusedAsync runs (the first call at that size and the median of warm calls), and the async call's
// total time against the synchronous call's, one thread each, uint8 labels, caller gradOut; on ArrayBuffer
// arrays (which the worker reads through its ring of copies and the main thread in place, in turns) and on
// SharedArrayBuffer arrays (which the worker reads in place too).
// In a process of its own, so that no other measurement's memory is in the way:
//   node --expose-gc bench/event-loop.js 1048576,16777216,33554432   prints one JSON line of rows
'use strict';
const f = require('../dist/index.js');

const sizes = (process.argv[2] ?? '1048576').split(',').map(Number);
// Warm calls per size and buffer kind: their medians are compared, and on a noisy machine a median of a few calls
// moved the 1M ratio by 0.2 between runs (21 keep it within a few hundredths; 32M takes about 1.5 s of them).
const WARM = 21;

function median(values) {
  const s = [...values].sort((p, q) => p - q);
  return s[s.length >> 1];
}

function arrays(n, shared) {
  const Buffer = shared ? SharedArrayBuffer : ArrayBuffer;
  const logits = new Float32Array(new Buffer(4 * n));
  const labels = new Uint8Array(new Buffer(n));
  const gradOut = new Float32Array(new Buffer(4 * n));
  for (let i = 0; i < n; i++) {
    logits[i] = 6 * Math.sin(i * 0.37);
    labels[i] = (i * 7) % 10 < 3 ? 1 : 0;
  }
  gradOut.fill(0); // touched, as a trainer's reused buffer is
  return { logits, labels, gradOut };
}

// The longest pause of the event loop while `work` runs, and its total time, in ms.
async function watch(work) {
  let last = process.hrtime.bigint();
  let longest = 0;
  const tick = setInterval(() => {
    const now = process.hrtime.bigint();
    longest = Math.max(longest, Number(now - last) / 1e6);
    last = now;
  }, 1);
  const start = process.hrtime.bigint();
  await work();
  const end = process.hrtime.bigint();
  clearInterval(tick);
  longest = Math.max(longest, Number(end - last) / 1e6);
  return { longest, total: Number(end - start) / 1e6 };
}

async function main() {
  const rows = [];
  for (const n of sizes) {
    for (const shared of [false, true]) {
      const { logits, labels, gradOut } = arrays(n, shared);
      // Collected after the arrays are made, and given a moment for V8 to free the previous size's arrays on its
      // own threads, so that the first call does not meet the collection and unmapping the benchmark's own
      // garbage starts (a trainer's arrays are allocated once, long before).
      global.gc?.();
      await new Promise((resolve) => setTimeout(resolve, 250));
      const options = { labelSmoothing: 0.05, gradOut, threads: 1 };
      const first = await watch(() => f.bceWithLogitsFusedAsync(logits, labels, options));
      const sync = [];
      const pauses = [];
      const totals = [];
      for (let k = 0; k < WARM; k++) {
        const t = process.hrtime.bigint();
        f.bceWithLogitsFused(logits, labels, options);
        sync.push(Number(process.hrtime.bigint() - t) / 1e6);
        const r = await watch(() => f.bceWithLogitsFusedAsync(logits, labels, options));
        pauses.push(r.longest);
        totals.push(r.total);
      }
      const syncMs = median(sync);
      rows.push({
        n, buffer: shared ? 'SharedArrayBuffer' : 'ArrayBuffer', syncMs, firstPauseMs: first.longest, firstTotalMs: first.total,
        pauseMs: median(pauses), totalMs: median(totals),
      });
    }
  }
  console.log(JSON.stringify(rows));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
