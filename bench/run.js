// npm run bench [-- --quick]: fused-bce against the JavaScript anchors and the memory-bandwidth limit, side by
// side in one run (medians of repeated timed runs after warm-up; compare by ratios, these machines are noisy).
// Writes bench/results/local/ (untracked): latest.json (quick.json for --quick, sizes.json for --sizes=) and the
// chart chart.svg. With --publish (npm run bench:publish) a full run writes the published bench/results/latest.json
// and chart.svg instead, from which docs/benchmark.md is generated (bench/doc-tables.js). Progress goes to stderr.
'use strict';
const { writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const os = require('node:os');
const f = require('../dist/index.js');
const anchors = require('./anchors');
const { renderChart } = require('./chart');

const quick = process.argv.includes('--quick');
const publish = process.argv.includes('--publish');
// --sizes=1,1024 measures only those sizes (for development; the README's tables come from a full run).
const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
const sizes = sizesArg ? sizesArg.slice(8).split(',').map(Number) : quick ? [1, 8, 1024, 65536] : [1, 8, 1024, 65536, 1048576, 16777216];
const repeats = quick ? 5 : 9;
const sampleNs = quick ? 2e6 : 2e7; // each timed sample runs at least this long (or one call)
const labelSmoothing = 0.05;

function median(values) {
  const s = [...values].sort((p, q) => p - q);
  return s[s.length >> 1];
}

function runner(x) {
  return x.isAsync
    ? async (k) => { for (let i = 0; i < k; i++) await x.fn(); }
    : (k) => { for (let i = 0; i < k; i++) x.fn(); };
}

/** Warms an implementation up (at least warmNs of calls: optimised code, caches, pages) and sizes its samples. */
async function calibrate(x) {
  const run = runner(x);
  const warmNs = quick ? 5e7 : 2e8;
  let calls = 1;
  let spent = 0;
  let perCall = Infinity;
  while (spent < warmNs) {
    const t0 = process.hrtime.bigint();
    await run(calls);
    const ns = Number(process.hrtime.bigint() - t0);
    spent += ns;
    perCall = ns / calls;
    if (perCall > 1e9) break; // a slow implementation: one call is warm-up enough
    calls = Math.min(calls * 2, Math.ceil(warmNs / Math.max(perCall, 1)));
  }
  x.inner = Math.max(1, Math.ceil(sampleNs / Math.max(perCall, 1)));
  if (perCall > 3e8) x.inner = 1;
  x.samples = [];
  x.slow = perCall > 1e9;
}

async function sample(x) {
  await x.setup?.();
  const t0 = process.hrtime.bigint();
  await runner(x)(x.inner);
  x.samples.push(Number(process.hrtime.bigint() - t0) / x.inner);
  settle(x.allocates ? 150 : 10);
}

// Collect the garbage of the allocating implementations (naive JS, tfjs: hundreds of MB at 16M) now, outside
// the timed region, and give the collector's background threads a moment: otherwise they run on the second
// core while the next implementation is timed, and multi-threaded rows pay for them.
function settle(ms) {
  if (typeof global.gc !== 'function') return;
  global.gc();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin: a timer would let other work in
  }
}

function makeData(n, seed) {
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const logits = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    logits[i] = (random() - 0.5) * 8;
    labels[i] = random() < 0.1 ? 1 : 0;
  }
  const weight = Float32Array.from({ length: n }, (_, i) => 0.5 + (i % 11) / 10);
  return { logits, labels, soft: Float32Array.from(labels), grad: new Float32Array(n), posWeight: Float32Array.of(3), weight };
}

function nativeIsas() {
  return f.availableBackends().filter((b) => b.name === 'native').map((b) => b.isa);
}

function select(name, isa) {
  f.useBackend(name, isa);
}

// The implementations of the headline operation (fused forward + backward, uint8 targets, mean).
function headlineImpls(d) {
  const options = { labelSmoothing, gradOut: d.grad, threads: 1 }; // one core unless a row says otherwise
  const list = [];
  const isas = nativeIsas();
  for (const isa of isas) {
    list.push({ impl: `fused-bce native ${isa}${isa === isas[0] ? ' (best)' : ''}`, setup: () => select('native', isa), fn: () => f.bceWithLogitsFused(d.logits, d.labels, options).loss });
  }
  if (f.availableBackends().some((b) => b.name === 'wasm')) {
    list.push({ impl: 'fused-bce wasm (simd128)', setup: () => select('wasm'), fn: () => f.bceWithLogitsFused(d.logits, d.labels, options).loss });
  }
  list.push({ impl: 'fused-bce default (auto: tiny inputs in TS)', setup: () => f.useBackend('auto'), fn: () => f.bceWithLogitsFused(d.logits, d.labels, options).loss, maxN: 64 });
  if (isas.length > 0) {
    const cores = os.cpus().length;
    const auto = { labelSmoothing, gradOut: d.grad }; // threads 'auto', the default
    list.push({ impl: `fused-bce native ${isas[0]}, threads auto (${cores} cores)`, setup: () => select('native', isas[0]), fn: () => f.bceWithLogitsFused(d.logits, d.labels, auto).loss });
    list.push({ impl: `fused-bce native ${isas[0]}, async, threads auto`, setup: () => select('native', isas[0]), fn: () => f.bceWithLogitsFusedAsync(d.logits, d.labels, auto), isAsync: true });
  }
  list.push({ impl: 'fused-bce js fallback', setup: () => select('js'), fn: () => f.bceWithLogitsFused(d.logits, d.labels, options).loss, maxN: quick ? 65536 : Infinity });
  list.push({ impl: 'naive JS (3 passes, allocating)', fn: () => anchors.naive(d.logits, d.soft, labelSmoothing).loss, allocates: true });
  list.push({ impl: 'hand-fused JS (1 pass)', fn: () => anchors.handFused(d.logits, d.soft, labelSmoothing, d.grad) });
  for (const backend of anchors.tfjsBackends()) {
    list.push({ impl: `tfjs ${backend}`, setup: () => anchors.tfjsUse(backend), fn: () => anchors.tfjsStep(d.logits, d.soft, labelSmoothing), allocates: true, maxN: backend === 'cpu' && quick ? 1024 : Infinity });
  }
  if (anchors.bandwidthBaseline) {
    list.push({ impl: 'bandwidth baseline (read 2, write 1)', fn: () => anchors.bandwidthBaseline(d.logits, d.labels, d.grad), minN: 1024 });
  }
  // The call boundary at n = 1 (issue 12): the loss object's step, and what Node-API itself costs.
  if (isas.length > 0) {
    const module = new f.BCEWithLogitsLoss({ labelSmoothing, threads: 1 });
    list.push({ impl: `BCEWithLogitsLoss forward+backward, native ${isas[0]}`, setup: () => select('native', isas[0]), fn: () => { module.forward(d.logits, d.labels); return module.backward(); }, maxN: 1 });
  }
  const addon = anchors.benchAddon;
  if (addon) {
    const params = Float64Array.of(1, 0.9, 0.05, 1, 1, 1, 0, -1);
    list.push({ impl: 'no-op Node-API call reading the 8 arguments', fn: () => addon.noopRead8(d.logits, d.labels, null, null, null, d.grad, null, params), maxN: 1 });
    list.push({ impl: 'no-op Node-API call reading 4 arguments', fn: () => addon.noopRead4(d.logits, d.labels, d.grad, params), maxN: 1 });
    list.push({ impl: 'no-op Node-API async round trip', fn: () => addon.noopAsync(), isAsync: true, maxN: 1 });
  }
  return list;
}

// Variants of the operation, on the best native ISA and the js fallback.
function variantImpls(d) {
  const list = [];
  const best = nativeIsas()[0];
  const backends = best ? [['native', best], ['js', undefined]] : [['js', undefined]];
  for (const [name, isa] of backends) {
    const label = name === 'js' ? 'js fallback' : `native ${isa}`;
    const setup = () => select(name, isa);
    const fusedF32 = { labelSmoothing, gradOut: d.grad, threads: 1 };
    const withPos = { labelSmoothing, gradOut: d.grad, posWeight: d.posWeight, threads: 1 };
    const withWeight = { labelSmoothing, gradOut: d.grad, weight: d.weight, threads: 1 };
    const back = { labelSmoothing, gradOut: d.grad, threads: 1 };
    const fwd = { labelSmoothing, threads: 1 };
    const maxN = name === 'js' && quick ? 1024 : Infinity;
    list.push({ op: 'fused, float32 targets', impl: label, setup, maxN, fn: () => f.bceWithLogitsFused(d.logits, d.soft, fusedF32).loss });
    list.push({ op: 'fused, uint8 targets + posWeight', impl: label, setup, maxN, fn: () => f.bceWithLogitsFused(d.logits, d.labels, withPos).loss });
    list.push({ op: 'fused, uint8 targets + weight (per element)', impl: label, setup, maxN, fn: () => f.bceWithLogitsFused(d.logits, d.labels, withWeight).loss });
    list.push({ op: 'forward only (mean)', impl: label, setup, maxN, fn: () => f.bceWithLogits(d.logits, d.labels, fwd) });
    list.push({ op: 'backward only', impl: label, setup, maxN, fn: () => f.bceWithLogitsBackward(d.logits, d.labels, back) });
  }
  return list;
}

// The kernels alone through the bench addon's thin call (fused, uint8 labels, mean, one thread): this package's
// kernel per ISA, the 0.1.0 kernel, and a careless float sketch of the same formula (bench/native).
const KERNEL_OP = 'kernel only (bench addon)';
const KERNEL_VARIANT_OP = 'kernel only, variant: ';
function kernelImpls(d) {
  const list = [];
  const addon = anchors.benchAddon;
  if (!addon) return list;
  const names = { current: 'kernel', v010: 'kernel 0.1.0', sketch: 'careless float sketch' };
  for (const [kind, label] of Object.entries(names)) {
    for (const [isa, run] of Object.entries(addon.kernels[kind])) {
      list.push({ op: KERNEL_OP, impl: `${label} ${isa}`, fn: () => run(d.logits, d.labels, d.grad, labelSmoothing), minN: 1024, maxN: 1048576 });
    }
  }
  // Float32 targets, posWeight and weight against the 0.1.0 kernel (issue 11), on the best ISA both have.
  const best = ['avx512', 'avx2', 'scalar'].find((isa) => addon.variants.current[isa] && addon.variants.v010[isa]);
  if (best) {
    const variants = {
      'float32 targets': [d.soft, null, null],
      'uint8 targets + posWeight': [d.labels, d.posWeight, null],
      'uint8 targets + weight (per element)': [d.labels, null, d.weight],
    };
    for (const [variant, [targets, posWeight, weight]] of Object.entries(variants)) {
      for (const [kind, label] of [['current', 'kernel'], ['v010', 'kernel 0.1.0']]) {
        const run = addon.variants[kind][best];
        list.push({ op: `${KERNEL_VARIANT_OP}${variant}`, impl: `${label} ${best}`, fn: () => run(d.logits, targets, d.grad, labelSmoothing, posWeight, weight), minN: 65536, maxN: 1048576 });
      }
    }
  }
  return list;
}

const CALL_BOUNDARY_OP = 'call boundary, n = 1 (own process)';

/** The n = 1 call boundary measured in a child process (bench/call-boundary.js). */
function callBoundary() {
  const { execFileSync } = require('node:child_process');
  const out = execFileSync(process.execPath, [join(__dirname, 'call-boundary.js'), String(quick ? 7 : 15)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

/**
 * The event loop during async calls (bench/event-loop.js, in child processes): pauses and async/sync times. A first
 * call is one sample per process, and on a noisy VM one stall of a few ms anywhere in it sets its longest pause:
 * each row is the median over EVENT_LOOP_RUNS processes, with the largest first-call pause and total beside it.
 */
const EVENT_LOOP_RUNS = 3;
function eventLoopRows() {
  const { execFileSync } = require('node:child_process');
  const at = quick ? [1048576] : [1048576, 16777216, 33554432];
  const runs = quick ? 1 : EVENT_LOOP_RUNS;
  process.stderr.write(`  the event loop during async calls at ${at.join(', ')} elements (${runs} processes)\n`);
  const results = [];
  for (let k = 0; k < runs; k++) {
    const out = execFileSync(process.execPath, ['--expose-gc', join(__dirname, 'event-loop.js'), at.join(',')], { encoding: 'utf8' });
    results.push(JSON.parse(out.trim().split('\n').pop()));
  }
  const median = (values) => [...values].sort((p, q) => p - q)[values.length >> 1];
  return results[0].map((row, i) => {
    const same = results.map((r) => r[i]);
    const of = (key) => median(same.map((r) => r[key]));
    return {
      n: row.n, buffer: row.buffer, runs, syncMs: of('syncMs'), firstPauseMs: of('firstPauseMs'), firstTotalMs: of('firstTotalMs'),
      pauseMs: of('pauseMs'), totalMs: of('totalMs'),
      firstPauseMsMax: Math.max(...same.map((r) => r.firstPauseMs)), firstTotalMsMax: Math.max(...same.map((r) => r.firstTotalMs)),
    };
  });
}

/** Bytes allocated per call with caller-provided outputs, measured in a child process (bench/allocation.js). */
function allocation() {
  const { execFileSync } = require('node:child_process');
  const out = execFileSync(process.execPath, ['--max-semi-space-size=1', join(__dirname, 'allocation.js'), String(quick ? 300000 : 2000000)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

async function main() {
  process.stderr.write(`fused-bce benchmark${quick ? ' (quick)' : ''}: ${sizes.length} sizes, ${quick ? 'about a minute' : 'about 6 minutes'}; a line per measurement follows\n`);
  const rows = [];
  for (const n of sizes) {
    const d = makeData(n, 20261130 + n);
    const impls = headlineImpls(d).map((x) => ({ op: 'fused forward+backward (uint8 targets)', ...x })).concat(variantImpls(d), kernelImpls(d));
    const active = impls.filter((x) => n <= (x.maxN ?? Infinity) && n >= (x.minN ?? 0));
    for (const x of active) {
      await x.setup?.();
      await calibrate(x);
    }
    // Interleaved rounds: every implementation is sampled once per round, so slow drifts of the machine
    // (frequency, neighbours) touch all of them alike and the ratios hold.
    // Calls of a third of a second and more (16M elements in JS, tfjs): 3 samples are enough; seconds-long: 1.
    for (let r = 0; r < repeats; r++) {
      for (const x of active) {
        if (x.slow && x.samples.length > 0) continue;
        if (x.inner === 1 && x.samples.length >= 3) continue;
        await sample(x);
      }
    }
    for (const x of active) {
      const ns = median(x.samples);
      rows.push({ op: x.op, impl: x.impl, n, nsPerCall: ns, nsPerElement: ns / n });
      process.stderr.write(`  ${x.op} | ${x.impl} | n=${n}: ${(ns / n).toFixed(3)} ns/element\n`);
    }
  }
  f.useBackend('auto');

  // tfjs training steps (issue 12): fused-bce/tfjs against tf.losses.sigmoidCrossEntropy inside
  // optimizer.minimize, interleaved, per tfjs backend and batch shape.
  const shapes = quick ? [[128, 14]] : [[128, 14], [1024, 14], [256, 1000]];
  for (const backend of anchors.tfjsBackends()) {
    await anchors.tfjsUse(backend);
    for (const [B, C] of shapes) {
      const trainers = { 'fused-bce/tfjs': anchors.tfjsTrainer(B, C, 'fused', 7), 'tf.losses.sigmoidCrossEntropy': anchors.tfjsTrainer(B, C, 'tfjs', 7) };
      const hasWasm = f.availableBackends().some((b) => b.name === 'wasm');
      if (hasWasm) trainers['fused-bce/tfjs, wasm kernel'] = anchors.tfjsTrainer(B, C, 'fused', 7);
      const kernelFor = (name) => (name.endsWith('wasm kernel') ? 'wasm' : 'auto');
      const times = Object.fromEntries(Object.keys(trainers).map((k) => [k, []]));
      for (const [name, t] of Object.entries(trainers)) {
        f.useBackend(kernelFor(name));
        for (let k = 0; k < 5; k++) t.step(); // warm-up
      }
      const rounds = quick ? 5 : 15;
      const names = Object.keys(trainers);
      for (let r = 0; r < rounds; r++) {
        // Each round starts with another trainer: one timed after another's steps inherits its garbage and the
        // backend's state, and a fixed order biased the ratio (tfjs's wasm backend at 1024x14: fused-bce/tfjs
        // 0.88x the built-in loss in a fixed order, 1.08x alternated).
        for (const name of names.map((_, k) => names[(k + r) % names.length])) {
          const t = trainers[name];
          f.useBackend(kernelFor(name));
          const steps = 5;
          const t0 = process.hrtime.bigint();
          for (let k = 0; k < steps; k++) t.step();
          times[name].push(Number(process.hrtime.bigint() - t0) / steps);
        }
      }
      for (const [name, t] of Object.entries(trainers)) {
        t.dispose();
        const ns = median(times[name]);
        rows.push({ op: `tfjs training step (${backend})`, impl: name, n: B * C, shape: `${B}x${C}`, nsPerCall: ns, nsPerElement: ns / (B * C) });
      }
    }
  }
  f.useBackend('auto');

  // Headless Chromium and Firefox (issues 15, 24): the wasm backend and the js fallback against a hand-written
  // one-pass JS loop in the same page.
  // (The quick run times Chromium at 64K only, so that the path stays exercised in CI.)
  for (const [which, op] of quick ? [['chromium', 'headless Chromium']] : [['chromium', 'headless Chromium'], ['firefox', 'headless Firefox']]) {
    const result = await anchors.browserSpeed(which, quick);
    if (result.missing) {
      console.log(`  (no ${op} rows: ${result.missing})`);
      continue;
    }
    for (const [n, s] of Object.entries(result.speed)) {
      for (const [impl, ms] of [['fused-bce wasm (simd128)', s.wasmMsPerCall], ['fused-bce js fallback', s.jsMsPerCall], ['hand-fused JS (1 pass)', s.handFusedMsPerCall]]) {
        rows.push({ op, impl, n: Number(n), nsPerCall: ms * 1e6, nsPerElement: (ms * 1e6) / Number(n) });
      }
    }
  }

  // The call boundary at n = 1 in a process of its own (bench/call-boundary.js): one backend and options object.
  if (sizes.includes(1)) {
    for (const [impl, ns] of Object.entries(callBoundary().rows)) rows.push({ op: CALL_BOUNDARY_OP, impl, n: 1, nsPerCall: ns, nsPerElement: ns });
  }

  // Bytes allocated per call with caller-provided outputs (n = 1024, best backend): counted garbage collections.
  const alloc = allocation();
  const eventLoop = eventLoopRows();

  // Accuracy next to speed: the mean loss of each implementation at the largest size against a float64 sum.
  const nAcc = sizes[sizes.length - 1];
  const da = makeData(nAcc, 20261130 + nAcc);
  const truth = anchors.float64Mean(da.logits, da.labels, labelSmoothing);
  const accuracy = [];
  const measure = (impl, value) => accuracy.push({ impl, n: nAcc, mean: value, relativeError: Math.abs(value - truth) / Math.abs(truth) });
  for (const isa of nativeIsas()) {
    select('native', isa);
    measure(`fused-bce native ${isa}`, f.bceWithLogitsFused(da.logits, da.labels, { labelSmoothing, gradOut: da.grad }).loss);
  }
  select('js');
  measure('fused-bce js fallback', f.bceWithLogitsFused(da.logits, da.labels, { labelSmoothing, gradOut: da.grad }).loss);
  measure('naive JS (3 passes, allocating)', anchors.naive(da.logits, da.soft, labelSmoothing).loss);
  for (const backend of anchors.tfjsBackends()) {
    await anchors.tfjsUse(backend);
    measure(`tfjs ${backend}`, anchors.tfjsStep(da.logits, da.soft, labelSmoothing));
  }
  f.useBackend('auto');

  const cpu = cpuDescription();
  const env = { cpu, cores: os.cpus().length, node: process.version, tfjs: anchors.tfjsVersion, quick, date: new Date().toISOString(), backend: { ...f.backend } };
  report(rows, alloc, accuracy, truth, env, eventLoop);
  const dir = publish && !quick && !sizesArg ? join(__dirname, 'results') : join(__dirname, 'results', 'local');
  mkdirSync(dir, { recursive: true });
  const file = sizesArg ? 'sizes.json' : quick ? 'quick.json' : 'latest.json';
  writeFileSync(join(dir, file), JSON.stringify({ ...env, rows, allocation: alloc, eventLoop, accuracy: { truth, rows: accuracy }, targets: targetChecks(rows, alloc, eventLoop) }, null, 2) + '\n');
  if (!quick && !sizesArg) writeFileSync(join(dir, 'chart.svg'), renderChart(rows, env));
  process.stderr.write(`results: ${join(dir, file)}${publish && dir !== join(__dirname, 'results') ? ' (--publish takes a full run)' : ''}\n`);
}

function report(rows, allocation, accuracy, truth, env, eventLoop) {
  console.log(`fused-bce benchmark: labelSmoothing ${labelSmoothing}, caller-provided gradOut, reduction mean`);
  console.log(`${env.cpu}, ${env.cores} cores, Node ${env.node}, tfjs ${env.tfjs ?? 'not installed'}${env.quick ? ' (quick)' : ''}\n`);
  const headline = rows.filter((r) => r.op.startsWith('fused forward+backward'));
  console.log('Fused forward+backward, uint8 targets: ns/element (ns/call at n = 1)');
  const impls = [...new Set(headline.map((r) => r.impl))];
  const ns = [...new Set(headline.map((r) => r.n))];
  console.log(['implementation', ...ns.map((n) => `n=${n}`)].join('\t'));
  for (const impl of impls) {
    console.log([impl, ...ns.map((n) => {
      const r = headline.find((q) => q.impl === impl && q.n === n);
      return r ? (n === 1 ? `${r.nsPerCall.toFixed(0)} ns` : r.nsPerElement.toFixed(3)) : '-';
    })].join('\t'));
  }
  const at = (impl, n) => headline.find((r) => r.impl.startsWith(impl) && r.n === n);
  const ratioN = ns.includes(1048576) ? 1048576 : ns[ns.length - 1];
  const best = headline.find((r) => r.impl.endsWith('(best)') && r.n === ratioN);
  if (best) {
    console.log(`\nRatios at n=${ratioN} (same run):`);
    for (const impl of impls) {
      const r = at(impl, ratioN);
      if (r && r !== best) console.log(`  ${best.impl} is ${(r.nsPerCall / best.nsPerCall).toFixed(2)}x ${impl}`);
    }
  }
  console.log('\nVariants: ns/element');
  const variants = rows.filter((r) => !r.op.startsWith('fused forward+backward') && !r.op.startsWith('tfjs training step'));
  for (const op of [...new Set(variants.map((r) => r.op))]) {
    // (Each op at the sizes it was measured at: a kernel-only variant runs from 64K, a call-boundary row at 1.)
    const opSizes = [...new Set(variants.filter((r) => r.op === op).map((r) => r.n))].sort((p, q) => p - q);
    for (const impl of [...new Set(variants.filter((r) => r.op === op).map((r) => r.impl))]) {
      console.log([`${op} | ${impl}`, ...opSizes.map((n) => {
        const r = variants.find((q) => q.op === op && q.impl === impl && q.n === n);
        return r ? (n === 1 ? `${r.nsPerCall.toFixed(0)} ns` : r.nsPerElement.toFixed(3)) : '-';
      })].join('\t'));
    }
  }
  const training = rows.filter((r) => r.op.startsWith('tfjs training step'));
  if (training.length > 0) {
    console.log('\ntfjs training steps (Dense 64-32-C + Adam, optimizer.minimize): microseconds per step');
    for (const r of training) console.log(`  ${r.op} ${r.shape}: ${r.impl} ${(r.nsPerCall / 1000).toFixed(1)} us`);
  }
  console.log(`\nJavaScript heap allocation per call, n = 1024, caller-provided outputs (${allocation.calls} calls, 1 MiB young generation):`);
  for (const [k, v] of Object.entries(allocation.entries)) {
    console.log(`  ${k}: ${v.scavenges} scavenges, so at most ${v.bytesPerCallAtMost.toFixed(2)} bytes/call${v.scavenges === 0 ? ' (none measurable)' : ''}`);
  }
  console.log(`\nMean loss at n=${accuracy[0]?.n} against the float64 sum ${truth}:`);
  for (const a of accuracy) console.log(`  ${a.impl}: ${a.mean} (relative error ${a.relativeError.toExponential(2)})`);
  if (!anchors.benchAddon) console.log(`\n(no bench addon: ${anchors.benchAddonError}; run npm run build:bench for the kernel rows and the bandwidth baseline)`);
  console.log('\nThe event loop during bceWithLogitsFusedAsync (one thread, uint8 labels, caller gradOut; ms):');
  console.log(['n', 'arrays on', 'sync', 'async (first call)', 'longest pause (first call)', 'async', 'longest pause'].join('\t'));
  for (const e of eventLoop) {
    console.log([e.n, e.buffer, e.syncMs.toFixed(2), e.firstTotalMs.toFixed(2), e.firstPauseMs.toFixed(2), e.totalMs.toFixed(2), e.pauseMs.toFixed(2)].join('\t'));
  }
  console.log('\nTargets, from this run:');
  for (const t of targetChecks(rows, allocation, eventLoop)) console.log(`  ${t.informational ? 'info   ' : t.met ? 'met    ' : 'not met'} ${t.text}`);
}

// The CPU's name as the OS gives it, with its family and model where the name alone is vague ("AMD EPYC"), and
// the best native ISA the package runs on it.
function cpuDescription() {
  let name = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  try {
    const info = require('node:fs').readFileSync('/proc/cpuinfo', 'utf8');
    const field = (key) => info.match(new RegExp(`^${key}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
    if (field('cpu family') !== undefined) name += ` (family ${field('cpu family')}, model ${field('model')})`;
  } catch {
    // not Linux: the name alone
  }
  const best = f.availableBackends().find((b) => b.name === 'native');
  return best ? `${name}, ${best.isa}` : name;
}

// A figure printed with as many digits as it takes to fall on the same side of its target as the value itself
// (1.7996 is not "1.80" beside a target of 1.8).
function versus(value, target, digits = 2) {
  let d = digits;
  while (d < 8 && (Number(value.toFixed(d)) >= target) !== (value >= target)) d++;
  return value.toFixed(d);
}

/** The benchmark targets, each with the figure this run measured. */
function targetChecks(rows, allocation, eventLoop = []) {
  const find = (op, prefix, n) => rows.find((r) => r.op.startsWith(op) && r.impl.startsWith(prefix) && r.n === n);
  const head = 'fused forward+backward';
  const best = (n) => rows.find((r) => r.op.startsWith(head) && r.impl.endsWith('(best)') && r.n === n);
  const out = [];
  for (const n of [65536, 1048576]) {
    const b = best(n);
    if (b) out.push({ met: b.nsPerElement <= 0.4, text: `one core, n=${n}: ${b.nsPerElement.toFixed(3)} ns/element (target <= 0.4)` });
  }
  const b1m = best(1048576);
  const js = find(head, 'fused-bce js', 1048576);
  const naive = find(head, 'naive JS', 1048576);
  if (b1m && js) out.push({ met: js.nsPerCall / b1m.nsPerCall >= 50, text: `${versus(js.nsPerCall / b1m.nsPerCall, 50, 1)}x the pure-TS fallback at 1M (target >= 50x)` });
  if (b1m && naive) out.push({ met: naive.nsPerCall / b1m.nsPerCall >= 70, text: `${versus(naive.nsPerCall / b1m.nsPerCall, 70, 1)}x naive JS at 1M (target >= 70x)` });
  const auto16 = rows.find((r) => r.op.startsWith(head) && r.impl.includes('threads auto') && !r.impl.includes('async') && r.n === 16777216);
  const base16 = find(head, 'bandwidth baseline', 16777216);
  if (auto16 && base16) {
    const fraction = base16.nsPerElement / auto16.nsPerElement;
    out.push({ met: fraction >= 0.85, text: `n=16M, all cores: ${versus(100 * fraction, 85, 0)}% of the bandwidth baseline's rate (${auto16.nsPerElement.toFixed(3)} vs ${base16.nsPerElement.toFixed(3)} ns/element; target >= 85%)` });
  }
  const b1 = find(head, 'fused-bce default', 1);
  const n1 = best(1);
  if (b1) out.push({ met: b1.nsPerCall <= 300, text: `n=1 through the public API: ${b1.nsPerCall.toFixed(0)} ns/call by default (tiny inputs in TS; a forced native call costs ${n1 ? n1.nsPerCall.toFixed(0) : '?'} ns) (target <= 300)` });
  for (const [k, v] of Object.entries(allocation.entries)) {
    if (k.startsWith('control')) continue;
    out.push({ met: v.scavenges === 0, text: `${k}: ${v.scavenges === 0 ? `0 bytes/call measurable (< ${v.bytesPerCallAtMost.toFixed(2)})` : `up to ${v.bytesPerCallAtMost.toFixed(1)} bytes/call`} (target 0)` });
  }
  // Kernel II (issue 11): the kernel against the 0.1.0 kernel and the careless sketch, same run.
  const kernelRow = (impl, n) => rows.find((r) => r.op === KERNEL_OP && r.impl === impl && r.n === n);
  const kernelTargets = [['avx512', 1.8], ['avx2', 1.6]];
  for (const n of [65536, 1048576]) {
    for (const [isa, wanted] of kernelTargets) {
      const now = kernelRow(`kernel ${isa}`, n), old = kernelRow(`kernel 0.1.0 ${isa}`, n), sketch = kernelRow(`careless float sketch ${isa}`, n);
      if (now && old) out.push({ met: old.nsPerCall / now.nsPerCall >= wanted, text: `${isa}, n=${n}: ${versus(old.nsPerCall / now.nsPerCall, wanted)}x the 0.1.0 kernel's throughput (${now.nsPerElement.toFixed(3)} vs ${old.nsPerElement.toFixed(3)} ns/element; target >= ${wanted}x)` });
      if (now && sketch && isa === 'avx512') out.push({ met: now.nsPerCall <= sketch.nsPerCall, text: `${isa}, n=${n}: ${versus(sketch.nsPerCall / now.nsPerCall, 1)}x the careless float sketch's throughput (target >= 1.0x)` });
      if (now && sketch && isa !== 'avx512') out.push({ met: true, informational: true, text: `(no target) ${isa}, n=${n}: ${(sketch.nsPerCall / now.nsPerCall).toFixed(2)}x the careless float sketch's throughput` });
    }
    const sse2 = kernelRow('kernel sse2', n), oldScalar = kernelRow('kernel 0.1.0 scalar', n);
    if (sse2 && oldScalar) out.push({ met: oldScalar.nsPerCall / sse2.nsPerCall >= 3, text: `sse2 tier, n=${n}: ${versus(oldScalar.nsPerCall / sse2.nsPerCall, 3, 1)}x the 0.1.0 scalar path (target >= 3x)` });
  }
  // tfjs training steps (issue 12): fused-bce/tfjs at least as fast per step.
  for (const r of rows.filter((q) => q.op.startsWith('tfjs training step') && q.impl.startsWith('fused-bce/tfjs'))) {
    const base = rows.find((q) => q.op === r.op && q.n === r.n && q.impl === 'tf.losses.sigmoidCrossEntropy');
    if (base) out.push({ met: base.nsPerCall >= r.nsPerCall, text: `${r.op}, B x C = ${r.shape}, ${r.impl}: ${versus(base.nsPerCall / r.nsPerCall, 1)}x tf.losses.sigmoidCrossEntropy's steps per second (target >= 1.0x)` });
  }
  // The call boundary (issue 12): the targets from the own-process rows (one backend and options object, as in a
  // trainer); the same calls in the mixed table above are reported beside them.
  const own = (prefix) => rows.find((r) => r.op === CALL_BOUNDARY_OP && r.impl.startsWith(prefix));
  const noop = own('no-op Node-API call reading the 8'), noop4 = own('no-op Node-API call reading 4');
  const noopAsync = find(head, 'no-op Node-API async', 1);
  const native1 = own('bceWithLogitsFused'), mixed1 = best(1);
  const module1 = own('BCEWithLogitsLoss'), mixedModule1 = find(head, 'BCEWithLogitsLoss forward+backward', 1);
  const mixedNoop = find(head, 'no-op Node-API call reading the 8', 1);
  const async1 = rows.find((r) => r.op.startsWith(head) && r.impl.includes('async') && r.impl.startsWith('fused-bce') && r.n === 1);
  const mixed = (r) => (r && mixedNoop ? `; in the mixed table ${(r.nsPerCall / mixedNoop.nsPerCall).toFixed(2)}x` : '');
  if (noop && native1) out.push({ met: native1.nsPerCall <= 1.5 * noop.nsPerCall, text: `native fused call at n=1: ${versus(native1.nsPerCall / noop.nsPerCall, 1.5)}x a no-op Node-API call reading the same 8 arguments (${native1.nsPerCall.toFixed(0)} vs ${noop.nsPerCall.toFixed(0)} ns; ${noop4 ? `${(native1.nsPerCall / noop4.nsPerCall).toFixed(2)}x one reading the 4 it reads now; ` : ''}target <= 1.5x${mixed(mixed1)})` });
  if (noop && module1) out.push({ met: module1.nsPerCall <= 1.5 * noop.nsPerCall, text: `BCEWithLogitsLoss forward+backward at n=1: ${versus(module1.nsPerCall / noop.nsPerCall, 1.5)}x the no-op call (${module1.nsPerCall.toFixed(0)} ns; target <= 1.5x${mixed(mixedModule1)})` });
  if (noopAsync && async1) out.push({ met: async1.nsPerCall <= 0.2 * noopAsync.nsPerCall, text: `async at n=1: ${versus(async1.nsPerCall / noopAsync.nsPerCall, 0.2)}x a no-op async round trip (${async1.nsPerCall.toFixed(0)} vs ${noopAsync.nsPerCall.toFixed(0)} ns; target <= 0.2x: inline)` });
  // Above the inline threshold: what an async call adds to the sync call (threads auto both), against a no-op
  // async round trip (target: within 1.2x of it).
  for (const n of [65536, 1048576]) {
    const a = rows.find((r) => r.op.startsWith(head) && r.impl.includes('async') && r.impl.startsWith('fused-bce') && r.n === n);
    const sync = rows.find((r) => r.op.startsWith(head) && r.impl.includes('threads auto') && !r.impl.includes('async') && r.n === n);
    if (a && sync && noopAsync) {
      const added = a.nsPerCall - sync.nsPerCall;
      out.push({ met: added <= 1.2 * noopAsync.nsPerCall, text: `async at n=${n}: adds ${(added / 1000).toFixed(1)} us to the sync call, ${versus(added / noopAsync.nsPerCall, 1.2, 1)}x a no-op async round trip (target <= 1.2x; the copies of the ownership rule)` });
    }
  }
  for (const n of [65536, 1048576]) {
    const fallback = find(head, 'fused-bce js fallback', n), hand = find(head, 'hand-fused JS', n);
    if (fallback && hand) out.push({ met: fallback.nsPerCall <= hand.nsPerCall, text: `TS fallback at n=${n}: ${versus(hand.nsPerCall / fallback.nsPerCall, 1)}x the hand-written one-pass JS loop's speed (target >= 1.0x)` });
  }
  // WebAssembly (issue 24): at least 4x the hand-written one-pass JS loop in Node and 3x in headless Chromium
  // (whose V8 runs the hand loop about twice as fast), at 64K; the js fallback no slower than the loop in either.
  for (const n of [65536, 1048576]) {
    const w = find(head, 'fused-bce wasm', n), hand = find(head, 'hand-fused JS', n);
    if (w && hand) out.push({ met: hand.nsPerCall >= 4 * w.nsPerCall, text: `wasm backend in Node, n=${n}: ${versus(hand.nsPerCall / w.nsPerCall, 4)}x the hand-written one-pass JS loop (target >= 4x)` });
  }
  for (const op of ['headless Chromium', 'headless Firefox']) {
    for (const n of [65536, 1048576]) {
      const inPage = (prefix) => rows.find((r) => r.op === op && r.impl.startsWith(prefix) && r.n === n);
      const w = inPage('fused-bce wasm'), js = inPage('fused-bce js'), hand = inPage('hand-fused');
      // (Issue 24 sets the wasm target for Chromium; Firefox's ratio is reported beside it.)
      if (w && hand && op === 'headless Chromium') out.push({ met: hand.nsPerCall >= 3 * w.nsPerCall, text: `${op}, n=${n}: wasm ${versus(hand.nsPerCall / w.nsPerCall, 3)}x the hand-written one-pass JS loop in the same page (target >= 3x)` });
      if (w && hand && op !== 'headless Chromium') out.push({ met: true, informational: true, text: `(no target) ${op}, n=${n}: wasm ${(hand.nsPerCall / w.nsPerCall).toFixed(2)}x the hand-written one-pass JS loop in the same page` });
      if (js && hand) out.push({ met: js.nsPerCall <= hand.nsPerCall, text: `${op}, n=${n}: js fallback ${versus(hand.nsPerCall / js.nsPerCall, 1)}x the hand-written loop's speed (target >= 1.0x)` });
    }
  }
  // Float32 targets, posWeight and weight: no slower than the 0.1.0 kernel (issue 11; 5% noise allowed).
  for (const op of [...new Set(rows.map((r) => r.op))].filter((o) => o.startsWith(KERNEL_VARIANT_OP))) {
    for (const n of [65536, 1048576]) {
      const now = rows.find((r) => r.op === op && r.n === n && r.impl.startsWith('kernel ') && !r.impl.includes('0.1.0'));
      const old = rows.find((r) => r.op === op && r.n === n && r.impl.includes('0.1.0'));
      if (now && old) out.push({ met: now.nsPerCall <= 1.05 * old.nsPerCall, text: `${op.slice(KERNEL_VARIANT_OP.length)}, ${now.impl.split(' ').pop()}, n=${n}: ${versus(old.nsPerCall / now.nsPerCall, 1 / 1.05)}x the 0.1.0 kernel's throughput (${now.nsPerElement.toFixed(3)} vs ${old.nsPerElement.toFixed(3)} ns/element; target: no slower)` });
    }
  }
  const slower = [];
  for (const n of [...new Set(rows.map((r) => r.n))]) {
    const u8 = best(n);
    const f32 = find('fused, float32 targets', 'native', n);
    if (u8 && f32 && u8.nsPerCall > f32.nsPerCall * 1.05) slower.push(`n=${n}: ${u8.nsPerElement.toFixed(3)} vs ${f32.nsPerElement.toFixed(3)}`);
  }
  out.push({ met: slower.length === 0, text: `uint8 targets at least as fast as float32 (5% noise allowed)${slower.length ? ': slower at ' + slower.join(', ') : ''}` });
  // The event loop during async calls (issue 21), on ArrayBuffer arrays (the copies of the ownership rule):
  // the longest pause at 32M, first call included, at most a quarter of the sync call; async at most 1.25x sync.
  for (const e of eventLoop.filter((x) => x.buffer === 'ArrayBuffer')) {
    if (e.n === 33554432) {
      const pause = Math.max(e.firstPauseMs, e.pauseMs);
      const runs = e.runs > 1 ? `; medians of ${e.runs} processes, the largest first-call pause ${e.firstPauseMsMax.toFixed(1)} ms = ${(e.firstPauseMsMax / e.syncMs).toFixed(2)}x` : '';
      out.push({ met: pause <= 0.25 * e.syncMs, text: `async at n=${e.n}: the event loop's longest pause ${pause.toFixed(1)} ms (first call included) is ${versus(pause / e.syncMs, 0.25)}x the sync call's ${e.syncMs.toFixed(1)} ms (target <= 0.25x${runs})` });
    }
    out.push({ met: e.totalMs <= 1.25 * e.syncMs, text: `async at n=${e.n}: ${versus(e.totalMs / e.syncMs, 1.25)}x the sync call's time (${e.totalMs.toFixed(1)} vs ${e.syncMs.toFixed(1)} ms; target <= 1.25x)` });
  }
  for (const e of eventLoop.filter((x) => x.buffer === 'SharedArrayBuffer')) {
    out.push({ met: true, informational: true, text: `(no target) async on SharedArrayBuffer arrays at n=${e.n}: ${(e.totalMs / e.syncMs).toFixed(2)}x the sync call's time, longest pause ${Math.max(e.firstPauseMs, e.pauseMs).toFixed(1)} ms` });
  }
  return out;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
