// The contract between the TypeScript side and the native binding, held against each other so that neither can
// drift alone: the parameter block's slots, and the message for an invalid Uint8 label.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Param } from '../src/types';
import { loadNative } from '../src/native-loader';
import { runJs } from '../src/kernel-js';

const native = loadNative().binding;

test('the parameter block: src/types.ts Param and the addon number the slots alike', { skip: native === null && 'no native build' }, () => {
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
