// One reference case through every BCE entry point (the functions, each reduction, the loss object, the per-element
// upstream gradient), each result against the case's float64 truth within the accuracy bounds: the check shared
// by the BCE and the focal reference suites (their cases differ in options and reference, not in what is checked).
import assert from 'node:assert/strict';
import { bceWithLogits, bceWithLogitsBackward, bceWithLogitsFused, BCEWithLogitsLoss } from '../../src/index';
import type { LossOptions, Reduction, Targets } from '../../src/index';
import { assertGrad, assertLoss, assertReduced } from './bounds';

export interface EntryPointCase {
  name: string;
  n: number;
  truth: Record<'none' | 'mean' | 'sum', { loss: number | number[]; grad: number[] }>;
}

/** Magnitudes of each element's terms (the bounds' scale), from an independent reference. */
export interface ElementMagnitudes {
  lossMagnitude: number;
  gradMagnitude: number;
}

export function checkEntryPoints(
  c: EntryPointCase, logits: Float32Array, targets: Targets, options: LossOptions, gradOutput: Float32Array,
  ref: ElementMagnitudes[], key: string,
): void {
  const none = bceWithLogits(logits, targets, { ...options, reduction: 'none' });
  const truthNone = c.truth.none.loss as number[];
  for (let i = 0; i < c.n; i++) assertLoss(none[i], truthNone[i], ref[i].lossMagnitude, `${c.name}[${i}]`, key);

  const magnitudeSum = ref.reduce((s, r) => s + r.lossMagnitude, 0);
  for (const reduction of ['mean', 'sum'] as Reduction[]) {
    const scale = reduction === 'mean' ? 1 / c.n : 1;
    const truthLoss = c.truth[reduction].loss as number;
    assertReduced(bceWithLogits(logits, targets, { ...options, reduction }) as number, truthLoss, magnitudeSum * scale, `${c.name} ${reduction}`);
    const grad = bceWithLogitsBackward(logits, targets, { ...options, reduction });
    const fused = bceWithLogitsFused(logits, targets, { ...options, reduction });
    assertReduced(fused.loss as number, truthLoss, magnitudeSum * scale, `${c.name} fused ${reduction}`);
    const module = new BCEWithLogitsLoss({ ...options, reduction });
    assertReduced(module.forward(logits, targets) as number, truthLoss, magnitudeSum * scale, `${c.name} module ${reduction}`);
    const moduleGrad = module.backward();
    for (let i = 0; i < c.n; i++) {
      assertGrad(grad[i], c.truth[reduction].grad[i], ref[i].gradMagnitude * scale, `${c.name} ${reduction} grad[${i}]`, key);
      assert.equal(fused.grad[i], grad[i], `${c.name} ${reduction}: fused and backward gradients differ at ${i}`);
      assert.equal(moduleGrad[i], grad[i], `${c.name} ${reduction}: module and backward gradients differ at ${i}`);
    }
  }

  const gradNone = bceWithLogitsBackward(logits, targets, { ...options, reduction: 'none', gradOutput });
  const fusedNone = bceWithLogitsFused(logits, targets, { ...options, reduction: 'none', gradOutput });
  for (let i = 0; i < c.n; i++) {
    assertGrad(gradNone[i], c.truth.none.grad[i], ref[i].gradMagnitude * Math.abs(gradOutput[i]), `${c.name} none grad[${i}]`, key);
    assert.equal(fusedNone.grad[i], gradNone[i]);
    assert.equal(fusedNone.loss[i], none[i]);
  }
}
