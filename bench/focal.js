// Focal loss benchmark (issue 23's rows): one thread, fused forward + backward, reduction 'mean', Uint8 labels,
// labelSmoothing 0.05, alpha 0.25, gamma 2, 1.5 and 1.3 (one of each path: integer, half-integer, any other gamma), at
// 64K (and 1M) elements. Rows: plain BCE and focal per native
// ISA, wasm and js; a careful hand-written JS focal loop (one pass, float64, torchvision's formula with a stable
// softplus); PyTorch 1.13 one thread (torchvision's formula written with torch operations, forward + backward) when
// Debian's python3-torch is installed. Ratios are measured side by side in one run; the targets are printed with
// their verdicts, and the run is written to bench/results/local/focal.json.
//   node bench/focal.js [--quick]
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const { cpus } = require('node:os');
const { join } = require('node:path');
const fb = require('../dist/index.js');
const { timeIt } = require('./time-per-element');

const quick = process.argv.includes('--quick');
const SMOOTHING = 0.05;
const ALPHA = 0.25;
const GAMMAS = [2, 1.5, 1.3];
const TARGET_GAMMAS = [2, 1.5]; // issue 23's targets: gamma 2 and a non-integer gamma (1.3 is printed, no target)
const SIZES = quick ? [65536] : [65536, 1 << 20];

// The careful hand-written loop: one pass, float64, a stable softplus and sigmoid, Math.pow for (1 - p_t)^gamma.
function handLoop(logits, labels, gamma, grad) {
  const n = logits.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    const t = labels[i] * (1 - 2 * SMOOTHING) + SMOOTHING;
    const e = Math.exp(-Math.abs(x));
    const p = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    const bce = Math.max(x, 0) - x * t + Math.log1p(e);
    const q = p * (1 - t) + (1 - p) * t;
    const alphaT = ALPHA * t + (1 - ALPHA) * (1 - t);
    const focal = Math.pow(q, gamma);
    sum += alphaT * focal * bce;
    grad[i] = (alphaT * (gamma * Math.pow(q, gamma - 1) * p * (1 - p) * (1 - 2 * t) * bce + focal * (p - t))) / n;
  }
  return sum / n;
}


function torchRow(n, gamma) {
  const script = `
import torch, time, torch.nn.functional as F
torch.set_num_threads(1)
torch.manual_seed(0)
x = (torch.randn(${n}) * 4).requires_grad_()
t = (torch.rand(${n}) < 0.1).float() * ${1 - 2 * SMOOTHING} + ${SMOOTHING}
def step():
    x.grad = None
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** ${gamma})
    loss = (${ALPHA} * t + ${1 - ALPHA} * (1 - t)) * loss
    loss.mean().backward()
for _ in range(3): step()
best = 1e9
reps = max(1, int(2e6 // ${n}))
for _ in range(5):
    s = time.perf_counter()
    for _ in range(reps): step()
    best = min(best, (time.perf_counter() - s) / reps)
print(best * 1e9 / ${n})
`;
  try {
    return Number(execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return null;
  }
}

function main() {
  const budget = quick ? 40 : 300;
  console.log(`focal loss, fused 'mean', Uint8 labels, labelSmoothing ${SMOOTHING}, alpha ${ALPHA}, one thread; ${cpus()[0].model}`);
  console.log("ns per element (lower is better); x = the hand-written focal loop's time / this row's");
  const backends = fb.availableBackends();
  const results = {};
  for (const n of SIZES) {
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const logits = new Float32Array(n).map(() => (rnd() + rnd() + rnd() - 1.5) * 6);
    const labels = new Uint8Array(n).map(() => (rnd() < 0.1 ? 1 : 0));
    const grad = new Float32Array(n);
    for (const gamma of GAMMAS) {
      const row = {};
      row.hand = timeIt(() => handLoop(logits, labels, gamma, grad), n, budget);
      const focal = { labelSmoothing: SMOOTHING, focal: { gamma, alpha: ALPHA }, threads: 1, gradOut: grad };
      const plain = { labelSmoothing: SMOOTHING, threads: 1, gradOut: grad };
      for (const b of backends) {
        fb.useBackend(b.name, b.isa ?? undefined);
        const name = b.name === 'native' ? b.isa : b.name;
        // alternated, so that both see the same machine state
        row[`${name} bce`] = timeIt(() => fb.bceWithLogitsFused(logits, labels, plain), n, budget);
        row[name] = timeIt(() => fb.bceWithLogitsFused(logits, labels, focal), n, budget);
      }
      fb.useBackend('auto');
      const torch = quick ? null : torchRow(n, gamma);
      if (torch !== null) row.pytorch = torch;
      results[`${n} gamma ${gamma}`] = row;
      const cells = Object.entries(row).map(([k, v]) => `${k} ${v.toFixed(3)} (${(row.hand / v).toFixed(1)}x)`);
      console.log(`n=${n}, gamma ${gamma}: ${cells.join(', ')}`);
    }
  }
  const best = backends[0].name === 'native' ? backends[0].isa : backends[0].name;
  const verdict = (ok) => (ok ? 'met' : 'NOT MET');
  console.log(`targets (n = 65536; ${best} for the native ones; wasm and js as for BCE: >= 4x and >= 1x the hand-written loop):`);
  for (const gamma of GAMMAS) {
    const r = results[`65536 gamma ${gamma}`];
    const ratio = r[best] / r[`${best} bce`];
    const x = r.hand / r[best];
    if (!TARGET_GAMMAS.includes(gamma)) {
      console.log(`  (no target) gamma ${gamma}: ${ratio.toFixed(2)}x the plain BCE call's time, ${x.toFixed(1)}x the hand-written focal loop`);
      continue;
    }
    console.log(`  gamma ${gamma}: <= 2x the plain BCE call's time: ${ratio.toFixed(2)}x ${verdict(ratio <= 2)}`);
    console.log(`  gamma ${gamma}: >= 20x the hand-written focal loop: ${x.toFixed(1)}x ${verdict(x >= 20)}`);
    if (r.wasm !== undefined) console.log(`  gamma ${gamma}: wasm >= 4x the hand-written focal loop: ${(r.hand / r.wasm).toFixed(1)}x ${verdict(r.hand >= 4 * r.wasm)}`);
    if (r.js !== undefined) console.log(`  gamma ${gamma}: js >= 1x the hand-written focal loop: ${(r.hand / r.js).toFixed(2)}x ${verdict(r.hand >= r.js)}`);
    if (r.pytorch !== undefined) console.log(`  gamma ${gamma}: PyTorch one thread / ${best}: ${(r.pytorch / r[best]).toFixed(1)}x`);
  }
  const dir = join(__dirname, 'results', 'local');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'focal.json'), JSON.stringify({ cpu: cpus()[0].model, node: process.version, quick, results }, null, 2) + '\n');
}

main();
