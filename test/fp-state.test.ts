// The caller's floating-point state does not change the bits, through the public API: with flush-to-zero,
// denormals-are-zero and round-toward-zero set (by the test-only helper in test/native) on the main thread, sync
// calls give the default state's bits; with it set on every libuv pool thread, async calls (and the kernel
// threads they start) do too; and the main thread's state is left as it was. Every native ISA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { availableBackends, bceWithLogitsFused, bceWithLogitsFusedAsync, useBackend } from '../src/index';

interface FpState {
  setState(hostile: boolean): void;
  state(): number;
  setPoolState(hostile: boolean, ms: number): Promise<void>;
}
const helperPath = join(__dirname, '..', '..', 'test', 'native', 'build', 'Release', 'fp_state.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper: FpState | null = existsSync(helperPath) ? (require(helperPath) as FpState) : null;
const natives = availableBackends().filter((b) => b.name === 'native');
const skip = (helper === null && 'test helpers not built (no compiler)') || (natives.length === 0 && 'no native build');

const n = 4099;
const logits = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? Math.sin(i) * 104 : Math.sin(i) * 12));
const labels = Uint8Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 1 : 0));
const soft = Float32Array.from({ length: n }, (_, i) => (i % 10) / 9);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
const setPool = (hostile: boolean) => Promise.all(Array.from({ length: poolSize }, () => helper!.setPoolState(hostile, 100)));

for (const b of natives) {
  test(`native/${b.isa}: FTZ, DAZ and round-toward-zero on the calling thread or the pool change no bit`, { skip }, async () => {
    useBackend('native', b.isa ?? undefined);
    try {
      const configs = [
        { targets: labels, options: { labelSmoothing: 0.05, reduction: 'none' as const } },
        { targets: soft, options: { reduction: 'none' as const, gradOutput: soft } },
      ];
      for (const { targets, options } of configs) {
        const reference = bceWithLogitsFused(logits, targets, options);
        const referenceSum = bceWithLogitsFused(logits, targets, { ...options, reduction: 'sum', gradOutput: undefined }).loss;
        helper!.setState(true);
        const hostile = helper!.state();
        let sync;
        let syncSum;
        try {
          sync = bceWithLogitsFused(logits, targets, options);
          syncSum = bceWithLogitsFused(logits, targets, { ...options, reduction: 'sum', gradOutput: undefined }).loss;
          assert.equal(helper!.state(), hostile, "the caller's state is restored");
        } finally {
          helper!.setState(false);
        }
        assert.deepEqual(bits(sync.loss), bits(reference.loss), 'sync losses');
        assert.deepEqual(bits(sync.grad), bits(reference.grad), 'sync gradients');
        // The sum, not the mean: JavaScript's own arithmetic (sum / n) on this thread follows the hostile rounding.
        assert.equal(syncSum, referenceSum, 'the float64 sum');
        await setPool(true);
        try {
          for (const threads of [1, 2]) {
            const viaPool = await bceWithLogitsFusedAsync(logits, targets, { ...options, threads });
            assert.deepEqual(bits(viaPool.loss), bits(reference.loss), `async losses, threads ${threads}`);
            assert.deepEqual(bits(viaPool.grad), bits(reference.grad), `async gradients, threads ${threads}`);
          }
        } finally {
          await setPool(false);
        }
      }
    } finally {
      useBackend('auto');
    }
  });
}
