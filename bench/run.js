// npm run bench [-- --quick]: fused forward+backward timings, side by side in one run, medians of repeats.
// Implementations: fused-bce native (best ISA and each ISA forced), the pure-TS fallback, and naive JavaScript
// as a user writes it today (smooth into a new array, then a loss loop, then a gradient loop).
'use strict';
const { writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const os = require('node:os');
const f = require('../dist/index.js');

const quick = process.argv.includes('--quick');
const sizes = quick ? [1024, 65536] : [1, 1024, 65536, 1048576, 16777216];
const repeats = quick ? 5 : 15;

function naive(logits, targets, a) {
  const n = logits.length;
  const smoothed = new Float32Array(n);
  for (let i = 0; i < n; i++) smoothed[i] = targets[i] * (1 - 2 * a) + a;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    sum += Math.max(x, 0) - x * smoothed[i] + Math.log1p(Math.exp(-Math.abs(x)));
  }
  const grad = new Float32Array(n);
  for (let i = 0; i < n; i++) grad[i] = (1 / (1 + Math.exp(-logits[i])) - smoothed[i]) / n;
  return { loss: sum / n, grad };
}

function median(values) {
  const s = [...values].sort((p, q) => p - q);
  return s[s.length >> 1];
}

function time(fn, n) {
  const inner = Math.max(1, Math.floor(2e6 / Math.max(n, 1)));
  for (let k = 0; k < Math.min(inner, 50); k++) fn(); // warm-up
  const samples = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < inner; k++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / inner);
  }
  return median(samples); // ns per call
}

const impls = [];
for (const b of f.availableBackends()) {
  impls.push({ name: b.name === 'js' ? 'fused-bce js fallback' : `fused-bce native ${b.isa}`, backend: b });
}
impls.push({ name: 'naive JS (3 passes, allocating)', naive: true });

const rows = [];
for (const n of sizes) {
  const logits = new Float32Array(n).map(() => (Math.random() - 0.5) * 8);
  const labels = new Uint8Array(n).map(() => (Math.random() < 0.1 ? 1 : 0));
  const gradOut = new Float32Array(n);
  for (const impl of impls) {
    if (!impl.naive && impl.backend.name === 'js' && n > 1048576 && quick) continue;
    let fn;
    if (impl.naive) {
      const soft = Float32Array.from(labels);
      fn = () => naive(logits, soft, 0.05);
    } else {
      fn = () => {
        f.useBackend(impl.backend.name, impl.backend.isa ?? undefined);
        return f.bceWithLogitsFused(logits, labels, { labelSmoothing: 0.05, gradOut });
      };
    }
    const ns = time(fn, n);
    rows.push({ n, impl: impl.name, nsPerCall: ns, nsPerElement: ns / Math.max(n, 1) });
  }
}
f.useBackend(f.availableBackends()[0].name, f.availableBackends()[0].isa ?? undefined);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`fused-bce benchmark: fused forward+backward, uint8 targets, labelSmoothing 0.05, caller gradOut`);
console.log(`${cpu}, ${os.cpus().length} cores, Node ${process.version}${quick ? ' (quick)' : ''}\n`);
const header = ['N', 'implementation', 'ns/element', 'ns/call', 'x naive JS'];
console.log(header.join('\t'));
for (const r of rows) {
  const base = rows.find((q) => q.n === r.n && q.impl.startsWith('naive'));
  console.log([r.n, r.impl, r.nsPerElement.toFixed(3), r.nsPerCall.toFixed(0), (base.nsPerCall / r.nsPerCall).toFixed(1)].join('\t'));
}
mkdirSync(join(__dirname, 'results'), { recursive: true });
writeFileSync(join(__dirname, 'results', quick ? 'quick.json' : 'latest.json'), JSON.stringify({ cpu, node: process.version, quick, date: new Date().toISOString(), rows }, null, 2) + '\n');
