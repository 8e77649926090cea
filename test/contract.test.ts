// The contract between the TypeScript side and the native binding, held against each other so that neither can
// drift alone: the parameter block's slots, and the message for an invalid Uint8 label.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Param } from '../src/backends/kernel';
import { loadNative } from '../src/backends/native-loader';
import { runJs } from '../src/backends/js/bce-kernel';

const native = loadNative().binding;

test('the parameter block: src/backends/kernel.ts Param and the addon number the slots alike', { skip: native === null && 'no native build' }, () => {
  assert.deepEqual({ ...native!.paramSlots }, {
    classes: Param.Classes, smoothScale: Param.SmoothScale, smoothShift: Param.SmoothShift, gradScale: Param.GradScale,
    threads: Param.Threads, wantLossSum: Param.WantLossSum, lossSum: Param.LossSum, count: Param.Count,
  });
});

test('an invalid Uint8 label gets the same message from the js kernel and every native ISA', { skip: native === null && 'no native build' }, () => {
  const logits = new Float32Array(5);
  const labels = Uint8Array.of(0, 1, 1, 7, 0);
  const params = () => Float64Array.of(1, 1, 0, 1, 0, 1, 0);
  const messageOf = (run: () => void) => {
    try {
      run();
    } catch (err) {
      assert.ok(err instanceof RangeError, String(err));
      return err.message;
    }
    assert.fail('no error');
  };
  const js = messageOf(() => runJs(logits, labels, null, null, null, null, null, params()));
  assert.match(js, /got 7 at index 3/);
  for (const isa of native!.isas) {
    assert.equal(messageOf(() => native!.kernels[isa](logits, labels, null, null, null, null, null, params())), js, isa);
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
  for (const [scale, shift] of [[0.9, 0.05], [1.1, -0.05]]) {
    const params = () => Float64Array.of(classes, scale, shift, 1, 1, 1, 0);
    const jsParams = params();
    runJs(logits, targets, posWeight, weight, null, null, null, jsParams);
    for (const isa of native!.isas) {
      const p = params();
      native!.kernels[isa](logits, targets, posWeight, weight, null, null, null, p);
      const relative = Math.abs(p[Param.LossSum] - jsParams[Param.LossSum]) / Math.abs(jsParams[Param.LossSum]);
      assert.ok(Number.isFinite(p[Param.LossSum]) && relative < 1e-12, `${isa}, shift ${shift}: ${p[Param.LossSum]} vs ${jsParams[Param.LossSum]}`);
    }
  }
});
