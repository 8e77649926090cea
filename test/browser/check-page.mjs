// The browser test's check page (bundled by test/browser.test.ts): imports the package as an application would,
// runs the PyTorch reference cases served at /reference.json on the backend it gets after ready(), and, opened as
// check.html?speed (bench/anchors.js; ?speed=quick: 64K after a shorter warm-up), times the fused pass (the wasm backend it gets, and the js fallback) against
// a hand-written one-pass JS loop in the same page.
import { ready, bceWithLogitsFused, useBackend } from '../..';
import * as tf from '@tensorflow/tfjs';
import { sigmoidCrossEntropy } from '../../esm/tfjs.mjs';
import { handFused } from '../../bench/hand-fused.js';

// Per-call times in ms of several functions measured side by side: each is warmed for 3 s (1 s with ?speed=quick),
// then the functions take turns, one batch of calls filling 50 ms each per round (browsers coarsen
// performance.now(), Firefox to a millisecond), and each keeps its fastest batch over 9 rounds (5 quick). The
// warm-up lets the engine compile a hot wasm function with its optimising tier in the background, which takes more
// than a second for this module's kernel in Chromium on a 2-core machine (the calls meanwhile run in the baseline
// tier at half the speed or less); the turns put a slow spell of a shared machine on every function alike rather
// than on whichever ran in it.
function batch(fn) {
  const t0 = performance.now();
  let calls = 0;
  let elapsed = 0;
  do {
    fn();
    calls++;
    elapsed = performance.now() - t0;
  } while (elapsed < 50);
  return elapsed / calls;
}
const speedMode = new URLSearchParams(location.search).get('speed');  // null, '' (full) or 'quick'
function timeSideBySide(fns) {
  const best = {};
  for (const [name, fn] of Object.entries(fns)) {
    for (const start = performance.now(); performance.now() - start < (speedMode === 'quick' ? 1000 : 3000); ) fn();
    best[name] = Infinity;
  }
  for (let round = 0; round < (speedMode === 'quick' ? 5 : 9); round++) {
    for (const [name, fn] of Object.entries(fns)) best[name] = Math.min(best[name], batch(fn));
  }
  return best;
}

window.checkResult = (async () => {
  const backend = await ready();
  const cases = await (await fetch('/reference.json')).json();
  const outputs = cases.map((c) => {
    const options = {
      reduction: 'none', labelSmoothing: c.labelSmoothing ?? 0, smoothing: c.convention ?? 'symmetric',
      posWeight: c.posWeight ? Float32Array.from(c.posWeight) : undefined, weight: c.weight ? Float32Array.from(c.weight) : undefined,
    };
    const { loss, grad } = bceWithLogitsFused(Float32Array.from(c.logits), Float32Array.from(c.targets), options);
    return { name: c.name, loss: Array.from(new Uint32Array(loss.buffer)), grad: Array.from(new Uint32Array(grad.buffer)) };
  });
  // The timings only when the page is opened as check.html?speed (the benchmark; the browser test checks results),
  // at 64K alone with ?speed=quick.
  const speed = {};
  for (const n of speedMode === null ? [] : speedMode === 'quick' ? [65536] : [65536, 1048576]) {
    const logits = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7) * 4);
    const labels = Uint8Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const soft = Float32Array.from(labels);
    const grad = new Float32Array(n);
    const options = { labelSmoothing: 0.05, gradOut: grad };
    const ms = timeSideBySide({
      wasm: () => {
        useBackend('auto');
        bceWithLogitsFused(logits, labels, options);
      },
      hand: () => handFused(logits, soft, 0.05, grad),
      js: () => {
        useBackend('js');
        bceWithLogitsFused(logits, labels, options);
      },
    });
    speed[n] = { wasmMsPerCall: ms.wasm, handFusedMsPerCall: ms.hand, jsMsPerCall: ms.js, ratio: ms.hand / ms.wasm };
  }
  useBackend('auto');
  // fused-bce/tfjs in the page: a value and gradient through tf.customGrad, on tfjs's cpu backend.
  await tf.setBackend('cpu');
  const labels = tf.tensor2d([[1, 0, 0], [0, 1, 1]]);
  const logits = tf.tensor2d([[2.5, -1, 0.3], [-0.7, 4, -2]]);
  const { value, grad } = tf.valueAndGrad((x) => sigmoidCrossEntropy(labels, x, { labelSmoothing: 0.1 }))(logits);
  const tfjs = { loss: value.dataSync()[0], grad: Array.from(grad.dataSync()) };
  return { backend, outputs, speed, tfjs };
})().catch((err) => ({ error: String(err) }));
