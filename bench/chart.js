// Renders the benchmark's headline (fused forward+backward, ns/element against n, both axes logarithmic) as a
// self-contained SVG for the README.
'use strict';

const COLORS = ['#d62728', '#ff7f0e', '#bcbd22', '#000000', '#1f77b4', '#8c564b', '#9467bd', '#e377c2', '#2ca02c', '#17becf', '#7f7f7f', '#aec7e8', '#98df8a'];

function escape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function renderChart(rows, env) {
  // Lines only: rows measured at a single size (the call-boundary rows at n = 1) are in the tables.
  const all = rows.filter((r) => r.op.startsWith('fused forward+backward'));
  const sizesOf = (impl) => all.filter((r) => r.impl === impl).length;
  const headline = all.filter((r) => sizesOf(r.impl) > 1);
  const impls = [...new Set(headline.map((r) => r.impl))];
  const width = 1060;
  const height = 480;
  const left = 70;
  const right = 370;
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
  out.push(`<text x="${left}" y="40" fill="#555">${escape(env.cpu)}, ${env.cores} cores, Node ${escape(env.node)}; one thread unless a row says threads; at n = 1, ns per call</text>`);
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
  impls.forEach((impl, k) => {
    const color = COLORS[k % COLORS.length];
    const points = headline.filter((r) => r.impl === impl).sort((p, q) => p.n - q.n);
    const dash = impl.startsWith('bandwidth') ? ' stroke-dasharray="6 4"' : '';
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
