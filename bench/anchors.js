// What fused-bce is measured against: JavaScript as users write it today, TensorFlow.js (cpu and wasm, when
// installed), the memory-bandwidth baseline from the native binding, and a float64 reference for accuracy.
'use strict';
const { join } = require('node:path');

/** Naive JS as a user writes it today: smooth into a new array, then a loss loop, then a gradient loop. */
function naive(logits, targets, a) {
  const n = logits.length;
  const smoothed = new Float32Array(n);
  for (let i = 0; i < n; i++) smoothed[i] = targets[i] * (1 - 2 * a) + a;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    sum += Math.max(x, 0) - x * smoothed[i] + Math.log1p(Math.exp(-Math.abs(x)));
  }
  const grad = new Float32Array(n);
  for (let i = 0; i < n; i++) grad[i] = (1 / (1 + Math.exp(-logits[i])) - smoothed[i]) / n;
  return { loss: sum / n, grad };
}

/** The best a user writes by hand: one pass, one exp, into a caller's gradient array. */
const { handFused } = require('./hand-fused');

// TensorFlow.js, a dev dependency: absent in an install without dev dependencies.
let tf = null;
let tfjsVersion = null;
const tfjsAvailable = [];
try {
  const { log, warn } = console;
  console.log = console.warn = () => {}; // tfjs greets Node users with an advert for tfjs-node
  try {
    tf = require('@tensorflow/tfjs');
  } finally {
    Object.assign(console, { log, warn });
  }
  tfjsVersion = tf.version.tfjs;
  tfjsAvailable.push('cpu');
  require('@tensorflow/tfjs-backend-wasm');
  tfjsAvailable.push('wasm');
} catch {
  // not installed: the benchmark runs without the tfjs rows
}

function tfjsBackends() {
  return tfjsAvailable.slice();
}

async function tfjsUse(backend) {
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not initialise`);
  await tf.ready();
}

/**
 * One training step as a tfjs trainer pays it: tensors from the Float32Arrays, tf.losses.sigmoidCrossEntropy and
 * its gradient (tfjs smooths as y (1 - s) + s / 2, so s = 2a gives the same targets), the gradient read back.
 */
function tfjsStep(logits, targets, a) {
  return tf.tidy(() => {
    const x = tf.tensor1d(logits);
    const y = tf.tensor1d(targets);
    const { value, grad } = tf.valueAndGrad((l) => tf.losses.sigmoidCrossEntropy(y, l, undefined, 2 * a))(x);
    grad.dataSync();
    return value.dataSync()[0];
  });
}

// The benchmark's own addon (bench/native, `npm run build:bench`): the read-two-write-one pass over the
// kernel's byte volume, the kernel rows (current, 0.1.0, careless sketch) and no-op Node-API functions.
let benchAddon = null;
let benchAddonError = null;
try {
  benchAddon = require(join(__dirname, 'native', 'build', 'Release', 'fused_bce_bench.node'));
} catch (err) {
  benchAddonError = err.message.split('\n')[0];
}
const bandwidthBaseline = benchAddon ? benchAddon.bandwidthBaseline : null;

/**
 * A tfjs training step as a trainer writes it: a Dense 64-32-C model (ReLU, logits out), Adam, and
 * optimizer.minimize over the loss, on a fixed batch of B rows: lossKind 'tfjs' (tf.losses.sigmoidCrossEntropy)
 * or 'fused' (fused-bce/tfjs's drop-in), 'tfjs-softmax' or 'fused-softmax' (the softmax ones, one-hot labels). Both models start from the same weights. Returns { step(), dispose() }.
 */
function tfjsTrainer(B, C, lossKind, seed) {
  const fusedTfjs = require('../dist/tfjs.js');
  let s = seed >>> 0;
  const random = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const xData = Float32Array.from({ length: B * 64 }, () => random() * 2 - 1);
  const softmax = lossKind === 'fused-softmax' || lossKind === 'tfjs-softmax';
  const yData = Float32Array.from({ length: B * C }, () => (random() < 0.1 ? 1 : 0));
  if (softmax) {  // one-hot rows
    yData.fill(0);
    for (let r = 0; r < B; r++) yData[r * C + Math.floor(random() * C)] = 1;
  }
  const x = tf.tensor2d(xData, [B, 64]);
  const labels = tf.tensor2d(yData, [B, C]);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [64], units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: C, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  const optimizer = tf.train.adam(1e-3);
  const losses = {
    fused: () => fusedTfjs.sigmoidCrossEntropy(labels, model.predict(x), { labelSmoothing: 0.1 }),
    tfjs: () => tf.losses.sigmoidCrossEntropy(labels, model.predict(x), undefined, 0.1),
    'fused-softmax': () => fusedTfjs.softmaxCrossEntropy(labels, model.predict(x), { labelSmoothing: 0.1 }),
    'tfjs-softmax': () => tf.losses.softmaxCrossEntropy(labels, model.predict(x), undefined, 0.1),
  };
  const loss = losses[lossKind];
  return {
    step: () => {
      const value = optimizer.minimize(loss, true);
      const v = value.dataSync()[0];
      value.dispose();
      return v;
    },
    dispose: () => {
      model.dispose();
      optimizer.dispose();
      x.dispose();
      labels.dispose();
    },
  };
}

/**
 * The wasm backend against a hand-written one-pass loop inside headless Chromium (Debian's, driven by
 * puppeteer-core; the browser test's check page): { [n]: { wasmMsPerCall, handFusedMsPerCall, ratio } }, or null
 * where Chromium, puppeteer-core or esbuild is missing.
 */
// The check page's timings (test/browser/check-page.mjs: wasm, the js fallback and the hand-written loop in one
// page) in a headless browser: 'chromium' or 'firefox'; quick: 64K only, after a shorter warm-up (the CI run).
// { missing } where the browser cannot run here.
async function browserSpeed(which, quick = false) {
  const launcher = which === 'firefox' ? require('../test/browser/firefox') : require('../test/browser/chromium');
  const missing = which === 'firefox' ? launcher.firefoxMissing() : launcher.chromiumMissing();
  if (missing !== null) return { missing };
  try {
    require('esbuild');
  } catch {
    return { missing: 'esbuild not installed' };
  }
  const server = require('../demo/web/server.js');
  const files = {
    '/check.html': ['text/html; charset=utf-8', '<!doctype html><meta charset="utf-8"><script src="check.js"></script>'],
    '/check.js': ['text/javascript; charset=utf-8', server.bundle(join(__dirname, '..', 'test', 'browser', 'check-page.mjs'))],
    '/reference.json': ['application/json', '[]'], // no reference cases: the timing alone
  };
  const { server: http, url } = await server.startServer(files);
  const browser = which === 'firefox' ? await launcher.launchFirefox() : await launcher.launchChromium();
  try {
    const page = await browser.browser.newPage();
    await page.goto(`${url}check.html?speed${quick ? '=quick' : ''}`);
    const result = await page.evaluate('window.checkResult');
    return result.error ? { missing: `the page failed: ${result.error}` } : { speed: result.speed };
  } finally {
    await browser.close();
    http.close();
  }
}

/** The mean loss in float64 throughout (an independent form of the loss), with a compensated sum. */
function float64Mean(logits, labels, a) {
  const softplus = (z) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
  let sum = 0;
  let comp = 0;
  for (let i = 0; i < logits.length; i++) {
    const y = labels[i] * (1 - 2 * a) + a;
    const v = (1 - y) * softplus(logits[i]) + y * softplus(-logits[i]);
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return (sum + comp) / logits.length;
}

module.exports = { naive, handFused, tfjsBackends, tfjsUse, tfjsStep, tfjsTrainer, browserSpeed, tfjsVersion, bandwidthBaseline, benchAddon, benchAddonError, float64Mean };
