// fused-bce/tfjs against TensorFlow.js itself (cpu backend): value and gradient equal those of
// tf.losses.sigmoidCrossEntropy for every reduction, with and without weights and smoothing; and it trains.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

import { sigmoidCrossEntropy } from '../src/tfjs/sigmoid-cross-entropy';
import { rng, normal } from './helpers/reference';

before(async () => {
  await tf.setBackend('cpu');
});

const rows = 32;
const classes = 14;
const random = rng(2026);
const logitsData = Float32Array.from({ length: rows * classes }, () => 4 * normal(random));
const labelsData = Float32Array.from({ length: rows * classes }, () => (random() < 0.15 ? 1 : 0));
const weightData = Float32Array.from({ length: rows * classes }, (_, i) => (i % 9 === 0 ? 0 : 0.5 + random()));
const classWeightData = Float32Array.from({ length: classes }, (_, i) => (i === 3 ? 0 : 0.25 + random()));

// tfjs computes in float32 with float32 sums; the bound allows for its rounding, not ours.
function close(actual: number, expected: number, label: string, scale = Math.abs(expected)): void {
  assert.ok(Math.abs(actual - expected) <= 2e-6 * Math.max(scale, 1e-6), `${label}: ${actual} vs tfjs ${expected}`);
}

const reductions: [string, tf.Reduction][] = [
  ['NONE', tf.Reduction.NONE], ['SUM', tf.Reduction.SUM], ['MEAN', tf.Reduction.MEAN], ['SUM_BY_NONZERO_WEIGHTS', tf.Reduction.SUM_BY_NONZERO_WEIGHTS],
];
const weightings: [string, Float32Array | undefined, number[]][] = [
  ['no weights', undefined, [rows, classes]], ['per-element weights', weightData, [rows, classes]], ['per-class weights', classWeightData, [1, classes]],
];

for (const [name, reduction] of reductions) {
  for (const [weighting, weights, weightShape] of weightings) {
    for (const labelSmoothing of [0, 0.1]) {
      test(`${name}, ${weighting}, labelSmoothing ${labelSmoothing}: value and gradient equal tfjs's`, () => {
        const logits = tf.tensor2d(logitsData, [rows, classes]);
        const labels = tf.tensor2d(labelsData, [rows, classes]);
        const w = weights === undefined ? undefined : tf.tensor(weights, weightShape);
        const ours = (x: tf.Tensor) => sigmoidCrossEntropy(labels, x, { labelSmoothing, weights, reduction });
        const theirs = (x: tf.Tensor) => tf.losses.sigmoidCrossEntropy(labels, x, w, labelSmoothing, reduction);
        const dy = reduction === tf.Reduction.NONE ? tf.tensor2d(Float32Array.from({ length: rows * classes }, () => normal(random)), [rows, classes]) : undefined;
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

test('symmetric smoothing and posWeight match the core API', () => {
  const logits = tf.tensor2d(logitsData, [rows, classes]);
  const labels = tf.tensor2d(labelsData, [rows, classes]);
  const posWeight = Float32Array.from({ length: classes }, (_, i) => 1 + i / 4);
  const value = sigmoidCrossEntropy(labels, logits, { labelSmoothing: 0.05, smoothing: 'symmetric', posWeight, reduction: 'mean' }).dataSync()[0];
  // The same by hand in float64: PyTorch's pos_weight form with y' = y (1 - 2a) + a.
  let sum = 0;
  for (let i = 0; i < rows * classes; i++) {
    const x = logitsData[i];
    const y = labelsData[i] * 0.9 + 0.05;
    const sp = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
    sum += (1 - y) * sp(x) + posWeight[i % classes] * y * sp(-x);
  }
  close(value, sum / (rows * classes), 'mean');
  tf.dispose([logits, labels]);
});

test('focal: value and gradient equal the focal formula written with tfjs operations (torchvision, smoothed labels)', () => {
  const logits = tf.tensor2d(logitsData, [rows, classes]);
  const labels = tf.tensor2d(labelsData, [rows, classes]);
  for (const [gamma, alpha] of [[2, 0.25], [1.5, -1], [0.5, 0.75]]) {
    const focal = alpha >= 0 ? { gamma, alpha } : { gamma };
    const ours = (x: tf.Tensor) => sigmoidCrossEntropy(labels, x, { labelSmoothing: 0.1, focal, reduction: tf.Reduction.MEAN });
    // tfjs's own smoothing (uniform: y (1 - a) + a / 2), then torchvision's sigmoid_focal_loss, mean.
    const theirs = (x: tf.Tensor) => tf.tidy(() => {
      const t = tf.add(tf.mul(labels, 0.9), 0.05);
      const p = tf.sigmoid(x);
      const ce = tf.losses.sigmoidCrossEntropy(t, x, undefined, 0, tf.Reduction.NONE);
      const pt = tf.add(tf.mul(p, t), tf.mul(tf.sub(1, p), tf.sub(1, t)));
      let loss = tf.mul(ce, tf.pow(tf.sub(1, pt), gamma));
      if (alpha >= 0) loss = tf.mul(loss, tf.add(tf.mul(t, alpha), tf.mul(tf.sub(1, t), 1 - alpha)));
      return tf.mean(loss);
    });
    const value = ours(logits).dataSync()[0];
    close(value, theirs(logits).dataSync()[0], `gamma ${gamma} value`);
    const ourGrad = tf.grad(ours)(logits).dataSync();
    const theirGrad = tf.grad(theirs)(logits).dataSync();
    const gradScale = Math.max(...Array.from(theirGrad, Math.abs));
    for (let i = 0; i < ourGrad.length; i++) close(ourGrad[i], theirGrad[i], `gamma ${gamma} grad[${i}]`, gradScale);
  }
  tf.dispose([logits, labels]);
});

test('trains a tfjs model with optimizer.minimize (loss falls, as with tf.losses)', () => {
  const features = 8;
  const xData = Float32Array.from({ length: rows * features }, () => normal(random));
  const trueW = Float32Array.from({ length: features * classes }, () => normal(random));
  const x = tf.tensor2d(xData, [rows, features]);
  const labels = tf.tidy(() => tf.cast(tf.greater(tf.matMul(x, tf.tensor2d(trueW, [features, classes])), 0), 'float32'));
  const run = (loss: (logits: tf.Tensor) => tf.Tensor) => {
    const w = tf.variable(tf.zeros([features, classes]));
    const optimizer = tf.train.sgd(0.5);
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const value = optimizer.minimize(() => loss(tf.matMul(x, w)) as tf.Scalar, true, [w]);
      losses.push(value!.dataSync()[0]);
      value!.dispose();
    }
    const final = w.dataSync().slice();
    w.dispose();
    optimizer.dispose();
    return { losses, final };
  };
  const ours = run((logits) => sigmoidCrossEntropy(labels, logits, { labelSmoothing: 0.1 }));
  const theirs = run((logits) => tf.losses.sigmoidCrossEntropy(labels, logits, undefined, 0.1));
  assert.ok(ours.losses[29] < 0.85 * ours.losses[0], `loss falls: ${ours.losses[0]} -> ${ours.losses[29]}`);
  for (let s = 0; s < 30; s++) close(ours.losses[s], theirs.losses[s], `step ${s} loss`, 1);
  for (let i = 0; i < ours.final.length; i++) close(ours.final[i], theirs.final[i], `weight ${i}`, 10);
  tf.dispose([x, labels]);
});

test('bad arguments: clear errors', () => {
  const t = tf.tensor1d([0, 1]);
  assert.throws(() => sigmoidCrossEntropy(t, tf.tensor1d([0, 1, 2])), /labels and logits must have the same size/);
  assert.throws(() => sigmoidCrossEntropy(t, t, { reduction: 'avg' as never }), RangeError);
  assert.throws(() => sigmoidCrossEntropy(t, t, { weights: [1, 2] as never }), /options.weights must be a tf.Tensor or Float32Array/);
  assert.throws(() => sigmoidCrossEntropy(t, t, { labelSmoothing: 2 }), RangeError);
  t.dispose();
});
