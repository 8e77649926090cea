// Softmax cross-entropy benchmark (issue 22's rows): one thread, fused forward + backward, reduction 'mean',
// labelSmoothing 0.1, Int32 class indices, at 256x10, 256x1000, 32x32768 and 8x262144. Rows: the native kernel per
// ISA, wasm, js, a careful hand-written JS loop (max, sum of exp, then loss and gradient per row), a naive JS
// version (softmax, log, gather, allocating), tfjs (tf.losses.softmaxCrossEntropy value and gradient, on its cpu
// and wasm backends), a careless native float kernel (bench/native/ce_sketch.inl: three passes, Cephes expf, float
// sums), and PyTorch 1.13 one thread (F.cross_entropy forward + backward) when Debian's python3-torch is
// installed. Ratios are measured side by side in one run (three interleaved rounds, the best of each); the targets are printed with their verdicts, and the
// run is written to bench/results/local/cross-entropy.json.
//   node bench/cross-entropy.js [--quick]
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const { cpus } = require('node:os');
const { join } = require('node:path');
const fb = require('../dist/index.js');
const anchors = require('./anchors');
const { timeIt } = require('./time-per-element');

const quick = process.argv.includes('--quick');
const SHAPES = [[256, 10], [256, 1000], [32, 32768], [8, 262144]];
const EPS = 0.1;

// A careful hand-written loop: per row the max, the sum of exp, then the loss and the gradient.
function handLoop(logits, targets, classes, eps, grad) {
  const rows = logits.length / classes;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) if (logits[base + c] > max) max = logits[base + c];
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[base + c] - max);
    const lse = max + Math.log(s);
    const y = targets[r];
    let smooth = 0;
    for (let c = 0; c < classes; c++) {
      const logp = logits[base + c] - lse;
      smooth -= logp;
      grad[base + c] = (Math.exp(logp) - ((c === y ? 1 - eps : 0) + eps / classes)) / rows;
    }
    sum += -(1 - eps) * (logits[base + y] - lse) + (eps / classes) * smooth;
  }
  return sum / rows;
}

// The naive version a user writes first: softmax, log, gather, each allocating.
function naive(logits, targets, classes, eps) {
  const rows = logits.length / classes;
  const probs = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from(logits.subarray(r * classes, (r + 1) * classes));
    const max = Math.max(...(row.length > 65536 ? [row.reduce((a, b) => (a > b ? a : b))] : row));
    const exps = row.map((v) => Math.exp(v - max));
    const total = exps.reduce((a, b) => a + b, 0);
    probs.push(exps.map((e) => e / total));
  }
  let loss = 0;
  const grad = new Float32Array(logits.length);
  probs.forEach((p, r) => {
    const logs = p.map(Math.log);
    const target = p.map((_, c) => (c === targets[r] ? 1 - eps : 0) + eps / classes);
    loss -= target.reduce((a, t, c) => a + t * logs[c], 0);
    p.forEach((v, c) => { grad[r * classes + c] = (v - target[c]) / rows; });
  });
  return loss / rows;
}


function torchRow(rows, classes) {
  const script = `
import torch, time, torch.nn.functional as F
torch.set_num_threads(1)
torch.manual_seed(0)
x = (torch.rand(${rows}, ${classes}) * 8 - 4).requires_grad_()
y = torch.randint(0, ${classes}, (${rows},))
def step():
    x.grad = None
    F.cross_entropy(x, y, label_smoothing=${EPS}).backward()
for _ in range(3): step()
best = 1e9
reps = max(1, int(2e6 // (${rows} * ${classes})))
for _ in range(5):
    t = time.perf_counter()
    for _ in range(reps): step()
    best = min(best, (time.perf_counter() - t) / reps)
print(best * 1e9 / (${rows} * ${classes}))
`;
  try {
    return Number(execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return null;
  }
}

// tf.losses.softmaxCrossEntropy's value and gradient as a tfjs trainer pays them (tensors in, gradient read back).
function tfjsStep(tf, logits, onehot, rows, classes) {
  return tf.tidy(() => {
    const x = tf.tensor2d(logits, [rows, classes]);
    const y = tf.tensor2d(onehot, [rows, classes]);
    const { value, grad } = tf.valueAndGrad((l) => tf.losses.softmaxCrossEntropy(y, l, undefined, EPS))(x);
    grad.dataSync();
    return value.dataSync()[0];
  });
}

async function main() {
  const budget = quick ? 30 : 300;
  const addon = anchors.benchAddon;
  // eslint-disable-next-line global-require
  const tf = require('@tensorflow/tfjs');
  require('@tensorflow/tfjs-backend-wasm');
  console.log(`softmax cross-entropy, fused 'mean', labelSmoothing ${EPS}, Int32 indices, one thread; ${cpus()[0].model}`);
  console.log('ns per element (lower is better); x = the hand-written loop\'s time / this row\'s');
  const backends = fb.availableBackends();
  const shapes = quick ? SHAPES.slice(0, 2) : SHAPES;
  const results = {};
  for (const [rows, classes] of shapes) {
    const n = rows * classes;
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const logits = new Float32Array(n).map(() => rnd() * 8 - 4);
    const targets = new Int32Array(rows).map(() => Math.floor(rnd() * classes));
    const grad = new Float32Array(n);
    const options = { classes, labelSmoothing: EPS, reduction: 'mean', threads: 1, gradOut: grad };
    // Every row's implementation timed in three interleaved rounds, the best of each kept: a slow spell of this
    // shared machine then falls on all of them, not on the one that happened to run in it.
    const timed = [['hand', () => handLoop(logits, targets, classes, EPS, grad)]];
    for (const b of backends) {
      timed.push([b.name === 'native' ? b.isa : b.name, () => fb.crossEntropyFused(logits, targets, options), () => fb.useBackend(b.name, b.isa ?? undefined)]);
    }
    if (addon !== null) {
      for (const isa of Object.keys(addon.ceSketch)) timed.push([`careless ${isa}`, () => addon.ceSketch[isa](logits, targets, grad, classes, EPS)]);
    }
    if (!quick || classes <= 1000) timed.push(['naive', () => naive(logits, targets, classes, EPS)]);
    const row = {};
    for (let round = 0; round < 3; round++) {
      for (const [name, fn, select] of timed) {
        select?.();
        row[name] = Math.min(row[name] ?? Infinity, timeIt(fn, n, budget / 3));
      }
    }
    fb.useBackend('auto');
    if (!quick) {
      const onehot = new Float32Array(n);
      for (let r = 0; r < rows; r++) onehot[r * classes + targets[r]] = 1;
      for (const backend of ['cpu', 'wasm']) {
        if (!(await tf.setBackend(backend))) continue;
        await tf.ready();
        row[`tfjs ${backend}`] = timeIt(() => tfjsStep(tf, logits, onehot, rows, classes), n, budget);
      }
    }
    const torch = quick ? null : torchRow(rows, classes);
    if (torch !== null) row.pytorch = torch;
    results[`${rows}x${classes}`] = row;
    const cells = Object.entries(row).map(([k, v]) => `${k} ${v.toFixed(3)} (${(row.hand / v).toFixed(1)}x)`);
    console.log(`${rows}x${classes}: ${cells.join(', ')}`);
  }
  // tfjs training steps (a Dense 64-32-C model, Adam, batch 256) with fused-bce/tfjs's softmaxCrossEntropy against
  // tf.losses.softmaxCrossEntropy, on tfjs's cpu backend: ms per step, the two alternated in one run.
  const training = {};
  if (!quick) {
    await tf.setBackend('cpu');
    await tf.ready();
    for (const C of [10, 1000]) {
      const trainers = { fused: anchors.tfjsTrainer(256, C, 'fused-softmax', 7), tfjs: anchors.tfjsTrainer(256, C, 'tfjs-softmax', 7) };
      const times = { fused: [], tfjs: [] };
      for (let round = 0; round < 5; round++) {
        for (const kind of ['fused', 'tfjs']) {
          const t0 = process.hrtime.bigint();
          for (let k = 0; k < 10; k++) trainers[kind].step();
          times[kind].push(Number(process.hrtime.bigint() - t0) / 1e7);
        }
      }
      for (const t of Object.values(trainers)) t.dispose();
      const median = (v) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];
      training[C] = { fusedMs: median(times.fused), tfjsMs: median(times.tfjs) };
      console.log(`tfjs training step, batch 256, C=${C}: fused-bce/tfjs ${training[C].fusedMs.toFixed(2)} ms, tf.losses ${training[C].tfjsMs.toFixed(2)} ms`);
    }
  }
  const best = backends[0].name === 'native' ? backends[0].isa : backends[0].name;
  const verdict = (ok) => (ok ? 'met' : 'NOT MET');
  console.log(`targets (${best}):`);
  for (const [shape, want] of [['256x1000', 40], ['32x32768', 40], ['256x10', 20]]) {
    const r = results[shape];
    if (!r) continue;
    const x = r.hand / r[best];
    console.log(`  >= ${want}x the hand-written loop at ${shape}: ${x.toFixed(1)}x ${verdict(x >= want)}`);
  }
  for (const [shape, r] of Object.entries(results)) {
    if (r.pytorch === undefined) continue;
    const x = r.pytorch / r[best];
    console.log(`  >= 2x PyTorch one thread at ${shape}: ${x.toFixed(1)}x ${verdict(x >= 2)}`);
  }
  if (!Object.values(results).some((r) => r.pytorch !== undefined)) console.log('  (no PyTorch row: /usr/bin/python3 has no torch, or --quick)');
  for (const shape of ['256x1000', '32x32768']) {
    const r = results[shape];
    const careless = r && r[`careless ${best}`];
    if (careless) console.log(`  <= 1.25x the careless native kernel's time at ${shape}: ${(r[best] / careless).toFixed(2)}x ${verdict(r[best] / careless <= 1.25)}`);
  }
  for (const [C, t] of Object.entries(training)) {
    console.log(`  tfjs training steps with the adapter no slower than with tf.losses.softmaxCrossEntropy (C=${C}): ${(t.fusedMs / t.tfjsMs).toFixed(2)}x the time ${verdict(t.fusedMs <= t.tfjsMs)}`);
  }
  const wasm = results['256x1000'];
  if (wasm && wasm.wasm) console.log(`  wasm >= 3x the hand-written loop at 256x1000: ${(wasm.hand / wasm.wasm).toFixed(1)}x ${verdict(wasm.hand / wasm.wasm >= 3)}`);
  const dir = join(__dirname, 'results', 'local');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cross-entropy.json'), JSON.stringify({ cpu: cpus()[0].model, node: process.version, quick, epsilon: EPS, results, training }, null, 2) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
