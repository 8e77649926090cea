// The package in a real browser (fused-bce/tfjs included): headless Chromium (Debian's, FUSED_BCE_CHROMIUM to point elsewhere) driven by
// puppeteer-core, pages bundled with esbuild (browser platform, default settings) and served on 127.0.0.1.
// The check page must run on wasm after ready() and give the bits of Node's wasm backend on every PyTorch
// reference case; the web demo (npm run demo:web, ?small) must train its three runs and draw them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bceWithLogitsFused, useBackend } from '../src/index';
import { loadTorchCases } from './helpers/torch-reference';

const root = join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const optional = (name: string): any => { try { return require(name); } catch { return null; } };
const { chromiumMissing, launchChromium } = optional(join(root, 'test', 'browser', 'chromium.js'));
const esbuild = optional('esbuild');
const skip = chromiumMissing() ?? (esbuild === null && 'esbuild not installed');

interface CheckResult {
  error?: string;
  backend: { name: string; isa: string };
  outputs: { name: string; loss: number[]; grad: number[] }[];
  tfjs: { loss: number; grad: number[] };
}

test('in headless Chromium: wasm after ready(), the reference cases bit for bit, and the web demo trains and draws', { skip, timeout: 300_000 }, async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const server = require(join(root, 'demo', 'web', 'server.js'));
  const cases = loadTorchCases();
  const files = {
    ...server.demoFiles(),
    '/check.html': ['text/html; charset=utf-8', '<!doctype html><meta charset="utf-8"><script src="check.js"></script>'],
    '/check.js': ['text/javascript; charset=utf-8', server.bundle(join(root, 'test', 'browser', 'check-page.mjs'))],
    '/reference.json': ['application/json', JSON.stringify(cases.map((c) => ({
      name: c.name, logits: c.logits, targets: c.targets, labelSmoothing: c.labelSmoothing, convention: c.convention,
      posWeight: c.posWeight, weight: c.weight,
    })))],
  };
  const { server: http, url } = await server.startServer(files);
  const chromium = await launchChromium();
  const browser = chromium.browser;
  try {
    const page = await browser.newPage();
    await page.goto(`${url}check.html`);
    const result = (await page.evaluate('window.checkResult')) as CheckResult;
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual(result.backend, { name: 'wasm', isa: 'simd128' });
    useBackend('wasm');
    try {
      for (const [k, c] of cases.entries()) {
        const { loss, grad } = bceWithLogitsFused(Float32Array.from(c.logits), Float32Array.from(c.targets), {
          reduction: 'none', labelSmoothing: c.labelSmoothing ?? 0, smoothing: c.convention ?? 'symmetric',
          posWeight: c.posWeight ? Float32Array.from(c.posWeight) : undefined, weight: c.weight ? Float32Array.from(c.weight) : undefined,
        });
        assert.deepEqual(result.outputs[k].loss, Array.from(new Uint32Array(loss.buffer)), `${c.name}: losses`);
        assert.deepEqual(result.outputs[k].grad, Array.from(new Uint32Array(grad.buffer)), `${c.name}: gradients`);
      }
    } finally {
      useBackend('auto');
    }
    // fused-bce/tfjs in the page gives Node's value and gradient (tfjs cpu backend on both sides; the TS kernel on
    // both sides too: the page routes these six elements to it, and the suite may run with a backend forced).
    const tfNode = optional('@tensorflow/tfjs');
    const distIndex = optional(join(root, 'dist', 'index.js'));
    const { sigmoidCrossEntropy } = optional(join(root, 'dist', 'tfjs.js'));
    await tfNode.setBackend('cpu');
    distIndex.useBackend('js');
    let value: { dataSync(): Float32Array };
    let grad: { dataSync(): Float32Array };
    try {
      ({ value, grad } = tfNode.valueAndGrad((x: unknown) => sigmoidCrossEntropy(tfNode.tensor2d([[1, 0, 0], [0, 1, 1]]), x, { labelSmoothing: 0.1 }))(
        tfNode.tensor2d([[2.5, -1, 0.3], [-0.7, 4, -2]]),
      ));
    } finally {
      distIndex.useBackend('auto');
    }
    assert.equal(result.tfjs.loss, value.dataSync()[0], 'fused-bce/tfjs loss in the browser');
    assert.deepEqual(result.tfjs.grad, Array.from(grad.dataSync() as Float32Array), 'fused-bce/tfjs gradient in the browser');

    const demo = await browser.newPage();
    await demo.goto(`${url}?small`);
    await demo.waitForFunction('window.demoResult !== undefined || window.demoError !== undefined', { timeout: 240_000 });
    const error = await demo.evaluate('window.demoError');
    assert.equal(error, undefined, String(error));
    const done = (await demo.evaluate('window.demoResult')) as {
      backend: { name: string }; runs: { epochs: number; testAuc: number; trainLoss: number }[]; polylines: number;
      mnist: { labelSmoothing: number; epochs: number; testAccuracy: number }[]; mnistPolylines: number;
    };
    assert.equal(done.backend.name, 'wasm');
    assert.equal(done.runs.length, 3, 'labelSmoothing 0 and 0.05, focal at 0.05');
    for (const r of done.runs) {
      assert.equal(r.epochs, 6);
      assert.ok(r.testAuc > 0.7 && Number.isFinite(r.trainLoss), JSON.stringify(r)); // as test/demo.test.ts
    }
    assert.equal(done.polylines, 6, 'three histograms and three AUC curves drawn');
    assert.deepEqual(done.mnist.map((r) => r.labelSmoothing), [0, 0.1], 'MNIST at eps 0 and 0.1');
    for (const r of done.mnist) {
      assert.equal(r.epochs, 3);
      assert.ok(r.testAccuracy > 0.6, JSON.stringify(r)); // as test/demo.test.ts
    }
    assert.equal(done.mnistPolylines, 4, 'two confidence histograms and two reliability curves drawn');
  } finally {
    await chromium.close();
    http.close();
  }
});
