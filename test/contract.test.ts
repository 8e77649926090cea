// The contract between the TypeScript side and the C++ side (native/contract): the generated files up to date,
// and each side's use of it held against the other, so that neither can drift alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Param } from '../src/backends/kernel';
import { loadNative } from '../src/backends/native-loader';
import { bcePass } from '../src/backends/js/bce-kernel';
import { bceWithLogitsFused, bceWithLogitsFusedAsync, availableBackends, useBackend } from '../src/index';

const native = loadNative().binding;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const generator = require('../../native/contract/generate.js') as { outputs(): [string, string][]; root: string };

test('the generated contract files are what native/contract/contract.js gives (npm run build:contract)', () => {
  for (const [path, text] of generator.outputs()) {
    assert.equal(readFileSync(join(generator.root, path), 'utf8'), text, `${path} is stale: run npm run build:contract`);
  }
});

test('the parameter block: the built binary numbers the slots as the contract does', { skip: native === null && 'no native build' }, () => {
  assert.deepEqual({ ...native!.paramSlots }, {
    classes: Param.Classes, smoothScale: Param.SmoothScale, smoothShift: Param.SmoothShift, gradScale: Param.GradScale,
    threads: Param.Threads, wantLossSum: Param.WantLossSum, focalGamma: Param.FocalGamma, focalAlpha: Param.FocalAlpha,
    lossSum: Param.LossSum, invalidLabelAt: Param.InvalidLabelAt, count: Param.Count,
  });
});

// A fresh parameter block: 1 class, no smoothing, gradScale 1, auto threads, the sum wanted, no focal term, no
// label refused.
const freshParams = () => Float64Array.of(1, 1, 0, 1, 0, 1, -1, -1, 0, -1);

test('an invalid Uint8 label: every kernel records its index and throws the contract\'s message', { skip: native === null && 'no native build' }, () => {
  const logits = new Float32Array(5);
  const labels = Uint8Array.of(0, 1, 1, 7, 0);
  const refusal = (pass: () => void, params: Float64Array) => {
    try {
      pass();
    } catch (err) {
      assert.ok(err instanceof RangeError, String(err));
      assert.equal(params[Param.InvalidLabelAt], 3);
      return err.message;
    }
    assert.fail('no error');
  };
  const message = (who: string) => `fused-bce: ${who}: targets is a Uint8Array of hard labels, each must be 0 or 1, got 7 at index 3`;
  const p = freshParams();
  assert.equal(refusal(() => bcePass(logits, labels, null, null, null, null, null, p), p), message('js'));
  for (const isa of native!.isas) {
    const q = freshParams();
    assert.equal(refusal(() => native!.passes[isa](logits, labels, null, null, null, null, null, q), q), message('native'), isa);
  }
});

test('an invalid Uint8 label through the public API names the function, on every backend, sync and async', async () => {
  const logits = new Float32Array(40000);
  const labels = new Uint8Array(40000);
  labels[31234] = 2;
  const expected = (fn: string) => new RangeError(`fused-bce: ${fn}: targets is a Uint8Array of hard labels, each must be 0 or 1, got 2 at index 31234`);
  try {
    for (const b of availableBackends()) {
      useBackend(b.name, b.isa ?? undefined);
      assert.throws(() => bceWithLogitsFused(logits, labels), expected('bceWithLogitsFused'), `${b.name}/${b.isa}`);
      await assert.rejects(bceWithLogitsFusedAsync(logits, labels), expected('bceWithLogitsFusedAsync'), `${b.name}/${b.isa} async`);
      // The refusal is not remembered: the next good call succeeds.
      labels[31234] = 1;
      assert.ok(Number.isFinite(bceWithLogitsFused(logits, labels).loss));
      labels[31234] = 2;
    }
  } finally {
    useBackend('auto');
  }
});

test('the float64 loss sum (native/kernel/loss_sum_f64.cc, taken where float32 losses overflow) agrees with the js kernel', { skip: native === null && 'no native build' }, () => {
  // Weights near 3e38 overflow every float32 element loss, so each span's sum comes from the float64 routine;
  // the js kernel evaluates the same formula in float64. Soft, negative-smoothed and hard targets, posWeight.
  const n = 3000;
  const classes = 3;
  const logits = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * (i % 7 === 0 ? 60 : 6));
  const targets = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : i % 5 === 1 ? 0 : (i % 11) / 10));
  const posWeight = Float32Array.of(0.5, 1, 3);
  const weight = Float32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? 0 : 3e38 * (0.5 + (i % 3) / 4)));
  // The focal loss (its own factor in the float64 routine) needs targets in [0, 1]: no negative smoothing there.
  for (const [scale, shift, gamma, alpha] of [[0.9, 0.05, -1, -1], [1.1, -0.05, -1, -1], [0.9, 0.05, 2, 0.25], [0.9, 0.05, 0.5, -1]]) {
    const params = () => Float64Array.of(classes, scale, shift, 1, 1, 1, gamma, alpha, 0, -1);
    const jsParams = params();
    bcePass(logits, targets, posWeight, weight, null, null, null, jsParams);
    for (const isa of native!.isas) {
      const p = params();
      native!.passes[isa](logits, targets, posWeight, weight, null, null, null, p);
      const relative = Math.abs(p[Param.LossSum] - jsParams[Param.LossSum]) / Math.abs(jsParams[Param.LossSum]);
      assert.ok(Number.isFinite(p[Param.LossSum]) && relative < 1e-12, `${isa}, shift ${shift}, gamma ${gamma}: ${p[Param.LossSum]} vs ${jsParams[Param.LossSum]}`);
    }
  }
});
