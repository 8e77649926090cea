// The call boundary at n = 1, in a process of its own: one backend (the best native ISA), one options object,
// one target type, as in a trainer. (In bench/run.js the same functions are also called with every backend,
// target type and option shape, which makes V8's call sites polymorphic and adds to every row there.)
// Interleaved rounds, medians; prints JSON. Run as a child process of bench/run.js.
'use strict';
const { join } = require('node:path');
const f = require('../dist/index.js');

const ROUNDS = Number(process.argv[2] ?? 15);
const CALLS = Number(process.argv[3] ?? 200_000);

function median(values) {
  const s = [...values].sort((p, q) => p - q);
  return s[s.length >> 1];
}

const result = { rounds: ROUNDS, callsPerSample: CALLS, backend: null, rows: {} };
let addon = null;
try {
  addon = require(join(__dirname, 'native', 'build', 'Release', 'fused_bce_bench.node'));
} catch {
  // no bench addon: no no-op rows
}
const isa = f.availableBackends().find((b) => b.name === 'native')?.isa;
if (isa === undefined || addon === null) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}
f.useBackend('native', isa);
result.backend = { ...f.backend };

const logits = Float32Array.of(0.75);
const labels = Uint8Array.of(1);
const grad = new Float32Array(1);
const params = Float64Array.of(1, 0.9, 0.05, 1, 1, 1, 0, -1);
const options = { labelSmoothing: 0.05, gradOut: grad, threads: 1 };
const lossModule = new f.BCEWithLogitsLoss({ labelSmoothing: 0.05, threads: 1 });
const impls = {
  [`bceWithLogitsFused, native ${isa} (caller gradOut)`]: () => f.bceWithLogitsFused(logits, labels, options).loss,
  [`BCEWithLogitsLoss forward+backward, native ${isa}`]: () => { lossModule.forward(logits, labels); return lossModule.backward(); },
  'no-op Node-API call reading the 8 arguments': () => addon.noopRead8(logits, labels, null, null, null, grad, null, params),
  'no-op Node-API call reading 4 arguments': () => addon.noopRead4(logits, labels, grad, params),
};
const samples = Object.fromEntries(Object.keys(impls).map((k) => [k, []]));
for (const fn of Object.values(impls)) for (let k = 0; k < CALLS; k++) fn(); // warm-up: optimised code
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of Object.entries(impls)) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < CALLS; k++) fn();
    samples[name].push(Number(process.hrtime.bigint() - t0) / CALLS);
  }
}
for (const [name, s] of Object.entries(samples)) result.rows[name] = median(s);
process.stdout.write(JSON.stringify(result) + '\n');
