// The demo's figure: histograms of the predicted probabilities (log counts) of each run (with and without label
// smoothing, focal),
// and the held-out macro AUC per epoch.
import { runLabel } from './experiment';
import type { RunResult } from './experiment';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

export function renderDemoChart(results: RunResult[], title: string): string {
  const width = 980;
  const height = 420;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push('<rect width="100%" height="100%" fill="white"/>');
  out.push(`<text x="20" y="24" font-size="15" font-weight="bold">${title}</text>`);

  // Left: histograms, log10(1 + count).
  const hx = 60, hy = 50, hw = 520, hh = 300;
  const bins = results[0].histogram.length;
  const maxLog = Math.max(...results.flatMap((r) => r.histogram.map((c) => Math.log10(1 + c))));
  out.push(`<text x="${hx + hw / 2}" y="${hy - 8}" text-anchor="middle">Predicted probabilities on the test set (all labels), log count</text>`);
  out.push(`<line x1="${hx}" y1="${hy + hh}" x2="${hx + hw}" y2="${hy + hh}" stroke="#333"/><line x1="${hx}" y1="${hy}" x2="${hx}" y2="${hy + hh}" stroke="#333"/>`);
  for (let t = 0; t <= 10; t += 2) {
    const x = hx + (t / 10) * hw;
    out.push(`<text x="${x}" y="${hy + hh + 16}" text-anchor="middle">${(t / 10).toFixed(1)}</text>`);
  }
  for (let e = 0; e <= Math.ceil(maxLog); e++) {
    const y = hy + hh - (e / maxLog) * hh;
    if (y < hy - 1) break;
    out.push(`<text x="${hx - 6}" y="${y + 4}" text-anchor="end">${10 ** e}</text><line x1="${hx}" y1="${y}" x2="${hx + hw}" y2="${y}" stroke="#eee"/>`);
  }
  results.forEach((r, k) => {
    const color = COLORS[k % COLORS.length];
    const points = r.histogram.map((c, b) => {
      const x0 = hx + (b / bins) * hw;
      const x1 = hx + ((b + 1) / bins) * hw;
      const y = hy + hh - (Math.log10(1 + c) / maxLog) * hh;
      return `${x0.toFixed(1)},${y.toFixed(1)} ${x1.toFixed(1)},${y.toFixed(1)}`;
    });
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${hx},${hy + hh} ${points.join(' ')} ${hx + hw},${hy + hh}"/>`);
    out.push(`<rect x="${hx + hw - 250}" y="${hy + 10 + 20 * k}" width="14" height="4" fill="${color}"/><text x="${hx + hw - 230}" y="${hy + 16 + 20 * k}">${runLabel(r)}</text>`);
  });

  // Right: macro AUC per epoch.
  const ax = 660, ay = 50, aw = 290, ah = 300;
  const aucs = results.flatMap((r) => r.epochs.map((e) => e.testAuc));
  const lo = Math.floor(Math.min(...aucs) * 50) / 50;
  const hi = Math.ceil(Math.max(...aucs) * 50) / 50;
  const epochs = results[0].epochs.length;
  out.push(`<text x="${ax + aw / 2}" y="${ay - 8}" text-anchor="middle">Test macro AUC per epoch</text>`);
  out.push(`<line x1="${ax}" y1="${ay + ah}" x2="${ax + aw}" y2="${ay + ah}" stroke="#333"/><line x1="${ax}" y1="${ay}" x2="${ax}" y2="${ay + ah}" stroke="#333"/>`);
  for (let v = lo; v <= hi + 1e-9; v += 0.02) {
    const y = ay + ah - ((v - lo) / (hi - lo || 1)) * ah;
    out.push(`<text x="${ax - 6}" y="${y + 4}" text-anchor="end">${v.toFixed(2)}</text><line x1="${ax}" y1="${y}" x2="${ax + aw}" y2="${y}" stroke="#eee"/>`);
  }
  for (let e = 1; e <= epochs; e++) {
    if (epochs > 10 && e % 2 === 0) continue;
    out.push(`<text x="${ax + ((e - 1) / Math.max(1, epochs - 1)) * aw}" y="${ay + ah + 16}" text-anchor="middle">${e}</text>`);
  }
  results.forEach((r, k) => {
    const color = COLORS[k % COLORS.length];
    const pts = r.epochs.map((e) => `${(ax + ((e.epoch - 1) / Math.max(1, epochs - 1)) * aw).toFixed(1)},${(ay + ah - ((e.testAuc - lo) / (hi - lo || 1)) * ah).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
  });
  out.push(`<text x="${ax + aw / 2}" y="${ay + ah + 34}" text-anchor="middle">epoch</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
