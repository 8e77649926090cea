// The demo's experiment at a small size: it trains (loss falls, held-out AUC well above chance) and label
// smoothing moves the predicted probabilities away from 0 towards a, as in the tutorial's figure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runExperiment } from '../demo/experiment';
import { renderDemoChart } from '../demo/chart';
import { renderMnistChart, runMnist } from '../demo/mnist';
import { packageDigits } from '../demo/mnist-node';
import { decodeDigits } from '../demo/mnist-data';

test('demo (small): training works and smoothing lifts predictions from 0 towards a; the focal run trains', () => {
  const [plain, smoothed, focal] = runExperiment({ trainSize: 3000, testSize: 1000, epochs: 6 });
  assert.deepEqual(focal.focal, { gamma: 2 });
  assert.equal(focal.labelSmoothing, 0.05);
  for (const r of [plain, smoothed, focal]) {
    const first = r.epochs[0];
    const last = r.epochs[r.epochs.length - 1];
    assert.ok(last.trainLoss < first.trainLoss, `a=${r.labelSmoothing}: train loss ${first.trainLoss} -> ${last.trainLoss}`);
    assert.ok(last.testAuc > 0.7, `a=${r.labelSmoothing}: macro AUC ${last.testAuc}`);
    assert.ok(last.testEce >= 0 && last.testEce < 0.2, `a=${r.labelSmoothing}: ECE ${last.testEce}`);
  }
  const fractionBelow = (p: Float32Array, t: number) => p.filter((v) => v < t).length / p.length;
  assert.equal(smoothed.labelSmoothing, 0.05);
  assert.ok(Math.min(...smoothed.probabilities) > Math.min(...plain.probabilities), 'the smallest prediction rises');
  assert.ok(fractionBelow(smoothed.probabilities, 0.01) < 0.5 * fractionBelow(plain.probabilities, 0.01), 'fewer predictions below 0.01');
  const svg = renderDemoChart([plain, smoothed, focal], 'demo');
  assert.match(svg, /^<svg[\s\S]*<\/svg>\n$/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 6, 'three histograms and three AUC curves');
});

test('demo (small): MNIST with label noise trains with CrossEntropyLoss, and smoothing lowers the top confidences', () => {
  const [plain, smoothed] = runMnist({ trainPerDigit: 100, epochs: 3 }, packageDigits());
  for (const r of [plain, smoothed]) {
    const first = r.epochs[0];
    const last = r.epochs[r.epochs.length - 1];
    assert.ok(last.trainLoss < first.trainLoss, `eps=${r.labelSmoothing}: train loss ${first.trainLoss} -> ${last.trainLoss}`);
    assert.ok(last.testAccuracy > 0.6, `eps=${r.labelSmoothing}: test accuracy ${last.testAccuracy}`);
    assert.equal(r.reliability.reduce((s, b) => s + b.count, 0), r.confidences.length, 'every test digit in a reliability bin');
  }
  assert.equal(smoothed.labelSmoothing, 0.1);
  // With eps = 0.1 the target itself is 0.91: no confidence needs to pass it, where eps = 0 pushes towards 1.
  assert.ok(Math.max(...smoothed.confidences) < Math.max(...plain.confidences), 'the largest confidence falls');
  const svg = renderMnistChart([plain, smoothed], 'mnist');
  assert.equal((svg.match(/<polyline/g) ?? []).length, 4, 'two histograms and two reliability curves');
});

test("the web demo's MNIST bytes decode to the package's digits", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { mnistBytes } = require('../../demo/web/server.js') as { mnistBytes(): Buffer };
  const bytes = mnistBytes();
  const decoded = decodeDigits(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const direct = packageDigits();
  for (let d = 0; d < 10; d++) {
    assert.equal(decoded.count(d), direct.count(d));
    for (const i of [0, 1, direct.count(d) - 1]) assert.deepEqual(Array.from(decoded.get(d, i)), Array.from(Float32Array.from(direct.get(d, i))));
  }
});
