// Bytes allocated per call on the JavaScript heap, by counting garbage collections: with a 1 MiB young
// generation, a call that allocated even a few bytes would trigger a scavenge every so many calls. Run as a child
// process of bench/run.js (it needs --max-semi-space-size=1); prints JSON.
'use strict';
const { PerformanceObserver, constants } = require('node:perf_hooks');
const f = require('../dist/index.js');

const CALLS = Number(process.argv[2] ?? 2_000_000);
const SEMI_SPACE = 1024 * 1024;
const n = 1024;
const logits = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 4);
const labels = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
const grad = new Float32Array(n);
const fused = { labelSmoothing: 0.05, gradOut: grad };
const forward = { labelSmoothing: 0.05 };
const lossModule = new f.BCEWithLogitsLoss({ labelSmoothing: 0.05 });
const focalFused = { labelSmoothing: 0.05, gradOut: grad, focal: { gamma: 2, alpha: 0.25 } };
const focalModule = new f.BCEWithLogitsLoss({ labelSmoothing: 0.05, focal: { gamma: 1.5 } });
const classes = 16;
const classIndices = Int32Array.from({ length: n / classes }, (_, r) => (r * 7) % classes);
const ceFused = { classes, labelSmoothing: 0.1, gradOut: grad };
const ceForward = { classes, labelSmoothing: 0.1 };
const ceModule = new f.CrossEntropyLoss({ classes, labelSmoothing: 0.1 });
const keep = new Array(1024).fill(null);
let next = 0;
const entries = {
  'BCEWithLogitsLoss forward + backward': () => { lossModule.forward(logits, labels); lossModule.backward(); },
  'bceWithLogits (mean)': () => { f.bceWithLogits(logits, labels, forward); },
  'bceWithLogitsBackward (gradOut)': () => { f.bceWithLogitsBackward(logits, labels, fused); },
  'bceWithLogitsFused (gradOut), result object': () => { f.bceWithLogitsFused(logits, labels, fused); },
  'BCEWithLogitsLoss focal forward + backward': () => { focalModule.forward(logits, labels); focalModule.backward(); },
  'bceWithLogitsFused focal (gradOut), result object': () => { f.bceWithLogitsFused(logits, labels, focalFused); },
  'CrossEntropyLoss forward + backward': () => { ceModule.forward(logits, classIndices); ceModule.backward(); },
  'crossEntropy (mean)': () => { f.crossEntropy(logits, classIndices, ceForward); },
  'crossEntropyFused (gradOut), result object': () => { f.crossEntropyFused(logits, classIndices, ceFused); },
  // The method's own check: one small short-lived object per call must show up.
  'control: one small object per call': () => { keep[next++ & 1] = { next }; },
};

let scavenges = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
}).observe({ entryTypes: ['gc'] });

(async () => {
  const result = { calls: CALLS, semiSpaceBytes: SEMI_SPACE, backend: { ...f.backend }, entries: {} };
  for (const [name, fn] of Object.entries(entries)) {
    for (let k = 0; k < 200_000; k++) fn(); // warm-up: optimised code, feedback
    await new Promise((r) => setTimeout(r, 10));
    scavenges = 0;
    for (let k = 0; k < CALLS; k++) fn();
    await new Promise((r) => setTimeout(r, 10)); // let the observer deliver
    // Each scavenge means at most one young generation of allocation; none bounds the rate below 1/CALLS of it.
    result.entries[name] = { scavenges, bytesPerCallAtMost: ((scavenges + 1) * SEMI_SPACE) / CALLS };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
})();
