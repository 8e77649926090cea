// Every PyTorch reference case, through the public API, on every backend, with float32 and uint8 targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bceWithLogits } from '../src/index';
import type { Smoothing } from '../src/index';
import { forEachBackend, backendLabel } from './helpers/backends';
import { loadTorchCases, type TorchCase } from './helpers/torch-reference';
import { refElement, type RefElement } from './helpers/reference';
import { checkEntryPoints } from './helpers/entry-points';

const cases = loadTorchCases();

function inputs(c: TorchCase, targetType: 'float32' | 'uint8') {
  const classes = c.classes;
  const a = c.labelSmoothing ?? 0;
  const convention: Smoothing = c.convention ?? 'symmetric';
  const logits = Float32Array.from(c.logits);
  const targets = targetType === 'uint8' ? Uint8Array.from(c.targets) : Float32Array.from(c.targets);
  const posWeight = c.posWeight ? Float32Array.from(c.posWeight) : undefined;
  const weight = c.weight ? Float32Array.from(c.weight) : undefined;
  const gradOutput = Float32Array.from(c.gradOutput);
  // Magnitudes for the error bounds, from the independent reference on the same float32 inputs.
  const ref: RefElement[] = [];
  for (let i = 0; i < c.n; i++) {
    const p = posWeight ? posWeight[i % classes] : 1;
    const w = weight ? weight[weight.length === c.n ? i : i % classes] : 1;
    ref.push(refElement(logits[i], targets[i], a, convention, p, w));
  }
  return { logits, targets, options: { labelSmoothing: a, smoothing: convention, posWeight, weight }, gradOutput, ref };
}

test('the independent float64 reference agrees with the reference file truth', () => {
  for (const c of cases) {
    const { ref } = inputs(c, 'float32');
    const truth = c.truth.none.loss as number[];
    for (let i = 0; i < c.n; i++) {
      const t = truth[i];
      const r = ref[i].loss;
      assert.ok(Math.abs(r - t) <= 1e-12 * Math.max(Math.abs(t), ref[i].lossMagnitude, 1e-300), `${c.name}[${i}]: ${r} vs ${t}`);
      const g = c.truth.sum.grad[i];
      assert.ok(Math.abs(ref[i].grad - g) <= 1e-12 * Math.max(ref[i].gradMagnitude, 1e-300), `${c.name}[${i}] grad: ${ref[i].grad} vs ${g}`);
    }
  }
});

forEachBackend('PyTorch reference cases', (b) => {
  for (const c of cases) {
    const targetTypes: ('float32' | 'uint8')[] = c.targetsDtype === 'uint8' ? ['float32', 'uint8'] : ['float32'];
    for (const targetType of targetTypes) {
      test(`${c.name} (${targetType} targets)`, () => {
        const { logits, targets, options, gradOutput, ref } = inputs(c, targetType);
        checkEntryPoints(c, logits, targets, options, gradOutput, ref, backendLabel(b));
      });
    }
  }

  test('edge-logits: a float64-accumulated mean stays finite where PyTorch float32 overflows', () => {
    const c = cases.find((k) => k.name === 'edge-logits-y01-None');
    if (!c) throw new Error('edge-logits case missing from the reference');
    assert.equal(c.torchFloat32.mean.loss, Infinity, 'the reference records the PyTorch float32 overflow');
    const { logits, targets } = inputs(c, 'uint8');
    const mean = bceWithLogits(logits, targets) as number;
    assert.ok(Number.isFinite(mean) && mean < 3.4e38, `mean ${mean} is finite`);
  });
});
