// fused-bce/tfjs softmaxCrossEntropy against TensorFlow.js itself (cpu backend): value and gradient equal those of
// tf.losses.softmaxCrossEntropy for every reduction, with and without weights and smoothing; and it trains.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

import { softmaxCrossEntropy } from '../src/tfjs/softmax-cross-entropy';
import { rng, normal } from './helpers/reference';

before(async () => {
  await tf.setBackend('cpu');
});

const rows = 24;
const classes = 10;
const random = rng(2027);
const logitsData = Float32Array.from({ length: rows * classes }, () => 3 * normal(random));
const labelsData = new Float32Array(rows * classes);
for (let r = 0; r < rows; r++) labelsData[r * classes + Math.floor(random() * classes)] = 1;
const rowWeightData = Float32Array.from({ length: rows }, (_, r) => (r % 5 === 0 ? 0 : 0.5 + random()));

// tfjs computes in float32 with float32 sums; the bound allows for its rounding, not ours.
function close(actual: number, expected: number, label: string, scale = Math.abs(expected)): void {
  assert.ok(Math.abs(actual - expected) <= 4e-6 * Math.max(scale, 1e-6), `${label}: ${actual} vs tfjs ${expected}`);
}

const reductions: [string, tf.Reduction][] = [
  ['NONE', tf.Reduction.NONE], ['SUM', tf.Reduction.SUM], ['MEAN', tf.Reduction.MEAN], ['SUM_BY_NONZERO_WEIGHTS', tf.Reduction.SUM_BY_NONZERO_WEIGHTS],
];
const weightings: [string, Float32Array | number | undefined][] = [['no weights', undefined], ['per-row weights', rowWeightData], ['a scalar weight', 0.7]];

for (const [name, reduction] of reductions) {
  for (const [weighting, weights] of weightings) {
    for (const labelSmoothing of [0, 0.1]) {
      test(`${name}, ${weighting}, labelSmoothing ${labelSmoothing}: value and gradient equal tfjs's`, () => {
        const logits = tf.tensor2d(logitsData, [rows, classes]);
        const labels = tf.tensor2d(labelsData, [rows, classes]);
        const w = weights === undefined ? undefined : typeof weights === 'number' ? tf.scalar(weights) : tf.tensor1d(weights);
        const ours = (x: tf.Tensor) => softmaxCrossEntropy(labels, x, { labelSmoothing, weights, reduction });
        const theirs = (x: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, x, w, labelSmoothing, reduction);
        const dy = reduction === tf.Reduction.NONE ? tf.tensor1d(Float32Array.from({ length: rows }, () => normal(random))) : undefined;
        const [ourValue, theirValue] = [ours(logits).dataSync(), theirs(logits).dataSync()];
        const [ourGrad, theirGrad] = [tf.grad(ours)(logits, dy).dataSync(), tf.grad(theirs)(logits, dy).dataSync()];
        assert.equal(ourValue.length, theirValue.length);
        const valueScale = Math.max(...Array.from(theirValue, Math.abs));
        for (let i = 0; i < ourValue.length; i++) close(ourValue[i], theirValue[i], `value[${i}]`, reduction === tf.Reduction.NONE ? Math.abs(theirValue[i]) : valueScale);
        const gradScale = Math.max(...Array.from(theirGrad, Math.abs));
        for (let i = 0; i < ourGrad.length; i++) close(ourGrad[i], theirGrad[i], `grad[${i}]`, gradScale);
        tf.dispose([logits, labels, ...(w ? [w] : []), ...(dy ? [dy] : [])]);
      });
    }
  }
}

test('trains a tfjs softmax classifier with optimizer.minimize (loss falls, as with tf.losses)', () => {
  const features = 6;
  const xData = Float32Array.from({ length: rows * features }, () => normal(random));
  const x = tf.tensor2d(xData, [rows, features]);
  const labels = tf.tensor2d(labelsData, [rows, classes]);
  const run = (loss: (logits: tf.Tensor) => tf.Tensor) => {
    const w = tf.variable(tf.zeros([features, classes]));
    const optimizer = tf.train.sgd(0.5);
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const value = optimizer.minimize(() => loss(tf.matMul(x, w)) as tf.Scalar, true, [w]);
      losses.push(value!.dataSync()[0]);
      value!.dispose();
    }
    w.dispose();
    optimizer.dispose();
    return losses;
  };
  const ours = run((logits) => softmaxCrossEntropy(labels, logits, { labelSmoothing: 0.1 }));
  const theirs = run((logits) => tf.losses.softmaxCrossEntropy(labels, logits, undefined, 0.1));
  assert.ok(ours[29] < 0.85 * ours[0], `loss falls: ${ours[0]} -> ${ours[29]}`);
  for (let s = 0; s < 30; s++) close(ours[s], theirs[s], `step ${s} loss`, 1);
  tf.dispose([x, labels]);
});

test('bad arguments: clear errors', () => {
  const t = tf.tensor2d([0, 1, 1, 0], [2, 2]);
  assert.throws(() => softmaxCrossEntropy(t, tf.tensor1d([0, 1, 2])), /onehotLabels and logits must have the same shape/);
  assert.throws(() => softmaxCrossEntropy(t, t, { reduction: 'avg' as never }), RangeError);
  assert.throws(() => softmaxCrossEntropy(t, t, { weights: Float32Array.of(1, 2, 3) }), /options.weights must be a scalar or have one weight per row/);
  assert.throws(() => softmaxCrossEntropy(t, t, { labelSmoothing: 2 }), RangeError);
  t.dispose();
});
