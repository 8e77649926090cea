// Renders the benchmark's headline (fused forward+backward, ns/element against n, both axes logarithmic) as a
// self-contained SVG for the README and docs/benchmark.md.
'use strict';

// The series drawn, each with a colour of its own that does not change between runs; every other row (scalar,
// threads, async, n = 1 per call) is in the tables of docs/benchmark.md.
const SERIES = [
  { match: (impl) => / native .*\(best\)$/.test(impl), color: '#d62728' },
  { match: (impl) => impl === 'fused-bce native avx2', color: '#ff7f0e' },
  { match: (impl) => impl === 'fused-bce native sse2', color: '#bcbd22' },
  { match: (impl) => impl.startsWith('fused-bce wasm'), color: '#1f77b4' },
  { match: (impl) => impl === 'fused-bce js fallback', color: '#2ca02c' },
  { match: (impl) => impl.startsWith('hand-fused JS'), color: '#000000' },
  { match: (impl) => impl.startsWith('naive JS'), color: '#7f7f7f' },
  { match: (impl) => impl === 'tfjs wasm', color: '#9467bd' },
  { match: (impl) => impl === 'tfjs cpu', color: '#8c564b' },
  { match: (impl) => impl.startsWith('bandwidth baseline'), color: '#17becf', dash: true },
];
// Per element from this size on; below it a call's fixed cost dominates, which the tables give per call.
const MIN_N = 1024;

function escape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function renderChart(rows, env) {
  const all = rows.filter((r) => r.op.startsWith('fused forward+backward') && r.n >= MIN_N);
  const series = [];
  for (const spec of SERIES) {
    const impl = [...new Set(all.map((r) => r.impl))].find(spec.match);
    if (impl !== undefined && all.filter((r) => r.impl === impl).length > 1) series.push({ impl, ...spec });
  }
  const headline = all.filter((r) => series.some((x) => x.impl === r.impl));
  const width = 1060;
  const height = 480;
  const left = 70;
  const right = 330;
  const top = 50;
  const bottom = 60;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const ns = headline.map((r) => r.n);
  const values = headline.map((r) => r.nsPerElement);
  const xMin = Math.log10(Math.min(...ns));
  const xMax = Math.log10(Math.max(...ns));
  const yMin = Math.floor(Math.log10(Math.min(...values)));
  const yMax = Math.ceil(Math.log10(Math.max(...values)));
  const x = (n) => left + ((Math.log10(n) - xMin) / (xMax - xMin || 1)) * plotW;
  const y = (v) => top + (1 - (Math.log10(v) - yMin) / (yMax - yMin || 1)) * plotH;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">Fused BCE forward+backward (uint8 targets, smoothing 0.05): ns per element, lower is better</text>`);
  out.push(`<text x="${left}" y="40" fill="#555">${escape(env.cpu)}, Node ${escape(env.node)}, one thread; per-call figures (n = 1, 8) are in docs/benchmark.md</text>`);
  for (let e = yMin; e <= yMax; e++) {
    const yy = y(10 ** e);
    out.push(`<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 8}" y="${yy + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}</text>`);
  }
  for (const n of [...new Set(ns)].sort((p, q) => p - q)) {
    const xx = x(n);
    out.push(`<line x1="${xx}" y1="${top}" x2="${xx}" y2="${top + plotH}" stroke="#eee"/>`);
    const label = n >= 1048576 ? `${n / 1048576}M` : n >= 1024 ? `${n / 1024}K` : `${n}`;
    out.push(`<text x="${xx}" y="${top + plotH + 18}" text-anchor="middle">${label}</text>`);
  }
  out.push(`<text x="${left + plotW / 2}" y="${height - 15}" text-anchor="middle">n (elements)</text>`);
  out.push(`<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">ns / element</text>`);
  series.forEach(({ impl, color, dash: dashed }, k) => {
    const points = headline.filter((r) => r.impl === impl).sort((p, q) => p.n - q.n);
    const dash = dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${points.map((p) => `${x(p.n).toFixed(1)},${y(p.nsPerElement).toFixed(1)}`).join(' ')}"/>`);
    for (const p of points) out.push(`<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.nsPerElement).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = top + 10 + k * 20;
    out.push(`<line x1="${left + plotW + 15}" y1="${ly}" x2="${left + plotW + 40}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${left + plotW + 46}" y="${ly + 4}">${escape(impl)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

module.exports = { renderChart };
