// Writes docs/benchmark.md and the README's table from the published benchmark result files, so that they are
// regenerated from runs rather than copied by hand:
//   node bench/doc-tables.js            bench/results/latest.json (npm run bench:publish), then the runs of other
//                                       machines listed in RUNS, each under its CPU's name
//   node bench/doc-tables.js --check    exit 1 when docs/benchmark.md differs from what it would write
'use strict';
const { readFileSync, writeFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
// The published runs: this package's latest on the machine that publishes, and runs from other machines (kept
// with where they came from).
const RUNS = [
  { file: 'bench/results/latest.json', about: 'The current version.' },
  {
    file: 'bench/results/intel-xeon-avx512-ae0ee5d.json',
    about: 'Version 0.1.0 with the second-generation kernel and the wasm backend (commit ae0ee5d, before 0.2.0), on an ' +
      'Intel Xeon with AVX-512 (Sapphire Rapids class, 2 vCPUs).',
  },
];

const cell = (r) => (r === undefined ? '–' : r.n === 1 ? `${r.nsPerCall.toFixed(0)} ns` : r.nsPerElement.toFixed(3));
const label = (n) => (n >= 1048576 ? `${n / 1048576}M` : n >= 1024 ? `${n / 1024}K` : String(n));

function tables(result) {
  const rows = result.rows;
  const out = [];
  const table = (op, title) => {
    const subset = rows.filter((r) => r.op === op);
    if (subset.length === 0) return;
    const sizes = [...new Set(subset.map((r) => r.n))].sort((a, b) => a - b);
    out.push(`${title}\n`);
    out.push(`| implementation | ${sizes.map((n) => (n === 1 ? '1 (ns/call)' : label(n))).join(' | ')} |`);
    out.push(`|---|${sizes.map(() => '---').join('|')}|`);
    for (const impl of [...new Set(subset.map((r) => r.impl))]) {
      out.push(`| ${impl} | ${sizes.map((n) => cell(subset.find((r) => r.impl === impl && r.n === n))).join(' | ')} |`);
    }
    out.push('');
  };
  table('fused forward+backward (uint8 targets)', 'Fused forward+backward, uint8 targets, ns per element (per call at n = 1); one thread unless the row says otherwise:');
  const variantOps = [...new Set(rows.map((r) => r.op))].filter((op) => !/^(fused forward\+backward|kernel only|tfjs training|headless Chromium|headless Firefox|call boundary)/.test(op));
  for (const op of variantOps) table(op, `Variant: ${op}, ns per element:`);
  table('call boundary, n = 1 (own process)', 'The call boundary at n = 1 in a process of its own (bench/call-boundary.js: one backend, one options object, one target type, as in a trainer), ns per call:');
  table('kernel only (bench addon)', 'The kernels alone (the bench addon\'s thin call; fused mean, uint8 labels, one thread), ns per element:');
  for (const op of [...new Set(rows.map((r) => r.op))].filter((o) => o.startsWith('kernel only, variant: '))) {
    table(op, `The kernels alone, ${op.slice('kernel only, variant: '.length)} (fused mean, one thread), ns per element:`);
  }
  table('headless Chromium', 'In headless Chromium (the same page), ns per element:');
  table('headless Firefox', 'In headless Firefox ESR (the same page, driven over WebDriver BiDi), ns per element:');
  const training = rows.filter((r) => r.op.startsWith('tfjs training step'));
  if (training.length > 0) {
    out.push('tfjs training steps (Dense 64-32-C + Adam, optimizer.minimize), microseconds per step:\n');
    out.push('| tfjs backend | B x C | fused-bce/tfjs | fused-bce/tfjs, wasm kernel | tf.losses.sigmoidCrossEntropy |');
    out.push('|---|---|---|---|---|');
    for (const op of [...new Set(training.map((r) => r.op))]) {
      for (const shape of [...new Set(training.filter((r) => r.op === op).map((r) => r.shape))]) {
        const at = (impl) => training.find((r) => r.op === op && r.shape === shape && r.impl === impl);
        const us = (r) => (r ? (r.nsPerCall / 1000).toFixed(0) : '–');
        out.push(`| ${op.replace(/.*\((.*)\)/, '$1')} | ${shape} | ${us(at('fused-bce/tfjs'))} | ${us(at('fused-bce/tfjs, wasm kernel'))} | ${us(at('tf.losses.sigmoidCrossEntropy'))} |`);
      }
    }
    out.push('');
  }
  if (Array.isArray(result.eventLoop) && result.eventLoop.length > 0) {
    const runs = result.eventLoop[0].runs ?? 1;
    const each = runs > 1 ? `; each figure the median of ${runs} processes, the largest first-call figure of them in brackets` : '';
    out.push(`The event loop during \`bceWithLogitsFusedAsync\` (bench/event-loop.js: one thread, uint8 labels, caller gradOut; ms; the first call at a size touches fresh memory, the others are medians of warm calls${each}):\n`);
    out.push('| n | arrays on | sync | async, first call | longest pause, first call | async | longest pause |');
    out.push('|---|---|---|---|---|---|---|');
    const withMax = (median, max) => (runs > 1 ? `${median.toFixed(2)} (${max.toFixed(2)})` : median.toFixed(2));
    for (const e of result.eventLoop) {
      out.push(`| ${label(e.n)} | ${e.buffer} | ${e.syncMs.toFixed(2)} | ${withMax(e.firstTotalMs, e.firstTotalMsMax)} | ${withMax(e.firstPauseMs, e.firstPauseMsMax)} | ${e.totalMs.toFixed(2)} | ${e.pauseMs.toFixed(2)} |`);
    }
    out.push('');
  }
  if (result.allocation) {
    out.push('JavaScript heap allocated per call (n = 1024, caller-provided outputs, 1 MiB young generation):\n');
    out.push('| entry point | scavenges | bytes per call, at most |');
    out.push('|---|---|---|');
    for (const [k, v] of Object.entries(result.allocation)) {
      if (v && typeof v === 'object' && 'scavenges' in v) out.push(`| ${k} | ${v.scavenges} | ${v.bytesPerCallAtMost.toFixed(2)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function page() {
  const parts = [
    '# Benchmark',
    '',
    '`npm run bench` measures every backend and ISA of fused-bce beside the alternatives a JavaScript trainer has, in one',
    'process, as medians of interleaved rounds after warm-up, so that ratios within a run hold on a noisy machine. The',
    'rows:',
    '',
    '- **fused-bce native** per ISA (one thread; `threads auto` and `async` rows use the pool), **wasm** and the **js**',
    '  fallback, through the public API with a caller-provided `gradOut` (`bceWithLogitsFused`, reduction `mean`,',
    '  labelSmoothing 0.05, uint8 labels);',
    '- **hand-fused JS**: a careful one-pass loop as a user would write it; **naive JS**: three passes, allocating;',
    '- **tfjs** `tf.losses.sigmoidCrossEntropy` value and gradient on its cpu and wasm backends;',
    '- **the kernels alone** through the benchmark\'s own addon (`bench/native`), beside the 0.1.0 kernel, a careless',
    '  float sketch (fast polynomials, no corrections) and a bandwidth baseline that reads two arrays and writes one;',
    '- the call boundary at n = 1, tfjs training steps, headless Chromium and Firefox (where Debian\'s firefox-esr is',
    '  installed), and heap allocation per call.',
    '',
    'It prints its tables and the project\'s targets with this run\'s figure for each; `npm run bench` writes',
    '`bench/results/local/` (untracked), `npm run bench:publish` the published `bench/results/latest.json` and',
    '`chart.svg`, from which `node bench/doc-tables.js` writes this page. `npm run bench:quick` is the short run CI',
    'makes. Every figure below names the machine it was measured on.',
    '',
    '![fused forward+backward, ns per element](../bench/results/chart.svg)',
    '',
  ];
  for (const run of RUNS) {
    const path = join(root, run.file);
    if (!existsSync(path)) continue;
    const result = JSON.parse(readFileSync(path, 'utf8'));
    parts.push(`## ${result.cpu}, ${result.cores} cores`);
    parts.push('');
    parts.push(`${run.about} Node ${result.node}, tfjs ${result.tfjs ?? 'not installed'}; measured ${result.date.slice(0, 10)} (\`${run.file}\`).`);
    parts.push('');
    parts.push(tables(result));
  }
  return parts.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

// The README's table: the headline at 64K and 1M for the rows a user compares, from the latest run.
function readmeBlock() {
  const result = JSON.parse(readFileSync(join(root, RUNS[0].file), 'utf8'));
  const rows = result.rows.filter((r) => r.op === 'fused forward+backward (uint8 targets)');
  const pick = [
    [(i) => / native .*\(best\)$/.test(i), (i) => i.replace(' (best)', '')],
    [(i) => i === 'fused-bce native avx2', (i) => i],
    [(i) => i === 'fused-bce native sse2', (i) => i],
    [(i) => i.startsWith('fused-bce wasm'), (i) => i],
    [(i) => i === 'fused-bce js fallback', (i) => i],
    [(i) => i.startsWith('hand-fused JS'), () => 'a careful hand-written JS loop (one pass)'],
    [(i) => i.startsWith('naive JS'), () => 'naive JS (three passes, allocating)'],
    [(i) => i === 'tfjs wasm', () => 'tfjs 4 `sigmoidCrossEntropy` + gradient, wasm backend'],
    [(i) => i === 'tfjs cpu', () => 'tfjs 4 `sigmoidCrossEntropy` + gradient, cpu backend'],
  ];
  const impls = [...new Set(rows.map((r) => r.impl))];
  const at = (impl, n) => rows.find((r) => r.impl === impl && r.n === n);
  const lines = [
    `<!-- bench:start -->`,
    `${result.cpu}, Node ${result.node}, measured ${result.date.slice(0, 10)} (generated by \`node bench/doc-tables.js\`):`,
    '',
    '| implementation | n = 64K | n = 1M |',
    '|---|---|---|',
  ];
  for (const [match, name] of pick) {
    const impl = impls.find(match);
    if (impl === undefined) continue;
    lines.push(`| ${name(impl)} | ${cell(at(impl, 65536))} | ${cell(at(impl, 1048576))} |`);
  }
  lines.push('<!-- bench:end -->');
  return lines.join('\n');
}

function withReadmeBlock(readme) {
  const start = readme.indexOf('<!-- bench:start -->'), end = readme.indexOf('<!-- bench:end -->');
  if (start < 0 || end < 0) throw new Error('README.md has no <!-- bench:start --> ... <!-- bench:end --> block');
  return readme.slice(0, start) + readmeBlock() + readme.slice(end + '<!-- bench:end -->'.length);
}

const target = join(root, 'docs', 'benchmark.md');
const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
if (process.argv.includes('--check')) {
  if (!existsSync(target) || readFileSync(target, 'utf8') !== page() || withReadmeBlock(readme) !== readme) {
    console.error('docs/benchmark.md or the README\'s table differs from the published results: run node bench/doc-tables.js');
    process.exit(1);
  }
  console.log('docs/benchmark.md and the README table: up to date');
} else {
  writeFileSync(target, page());
  writeFileSync(readmePath, withReadmeBlock(readme));
  console.log(`wrote ${target} and the README's table`);
}
