// Softmax cross-entropy against PyTorch 1.13's reference cases (test/fixtures/torch-ce.json.gz), through the
// public API on every backend and ISA: every case and reduction within 4 ulp (loss) and 4 units (gradient) of the
// float64 truth, as BCE is held; the class-index check; the limits at infinite logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossEntropy, crossEntropyFused, crossEntropyFusedAsync, CrossEntropyLoss } from '../src/index';
import type { ClassTargets } from '../src/index';
import { CeParam } from '../src/generated/contract';
import { forEachBackend } from './helpers/backends';
import { fixturePath, loadCases } from './helpers/torch-reference';
import type { TorchCeCase } from './helpers/torch-reference';
import { assertGrad, assertLoss, assertReduced } from './helpers/bounds';

// $FUSED_BCE_CE_REFERENCE runs the suite on another case file of the same form (a held-out set).
const cases = loadCases<TorchCeCase>(process.env.FUSED_BCE_CE_REFERENCE ?? fixturePath('torch-ce.json.gz'));

// The absolute error of the reference's x_y - lse (or of its sum over classes, for probability targets or
// smoothing): 2^-52 times the magnitudes subtracted, |x_c| + |lse|, summed over the classes it adds.
function referenceError(logits: Float32Array, row: number, classes: number, target: number): number {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[row * classes + c]);
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(logits[row * classes + c] - max);
  const lse = Math.abs(max + Math.log(sum));
  let magnitude = 0;
  for (let c = 0; c < classes; c++) if (target < 0 || c === target) magnitude += Math.abs(logits[row * classes + c]) + lse;
  return Number.isFinite(magnitude) ? 2 ** -52 * magnitude * 4 : 0;
}

// The kernel pass through the public API (crossEntropyFused), with the old positional arguments: the sum and the
// divisor come back in the returned parameter block, as a kernel's would.
function cePass(
  logits: Float32Array, indices: Int32Array | null, probabilities: Float32Array | null, weight: Float32Array | null,
  lossOut: Float32Array | null, gradOut: Float32Array | null, gradOutput: Float32Array | null, p: Float64Array,
): void {
  const targets = (indices ?? probabilities) as ClassTargets;
  const reduction = p[CeParam.WantLossSum] === 1 ? (p[CeParam.Mean] === 1 ? 'mean' : 'sum') : 'none';
  const options = {
    classes: p[CeParam.Classes], labelSmoothing: p[CeParam.LabelSmoothing], ignoreIndex: p[CeParam.IgnoreIndex],
    weight: weight ?? undefined, reduction, gradOut: gradOut ?? undefined, lossOut: lossOut ?? undefined,
    gradOutput: gradOutput ?? undefined,
  } as const;
  if (gradOut === null) {
    const loss = crossEntropy(logits, targets, options as never) as number | Float32Array;
    if (typeof loss === 'number') p[CeParam.LossSum] = loss;
    return;
  }
  const { loss } = crossEntropyFused(logits, targets, options as never);
  if (typeof loss !== 'number') return;
  // PyTorch's divisor of 'mean': the target classes' weights over the rows not ignored, or the rows.
  const classes = p[CeParam.Classes];
  let divisor = logits.length / classes;
  if (indices !== null) {
    divisor = 0;
    for (const y of indices) if (y !== p[CeParam.IgnoreIndex]) divisor += weight === null ? 1 : weight[y];
  }
  p[CeParam.MeanDivisor] = divisor;
  p[CeParam.LossSum] = loss; // the reduced value itself
}

function params(c: { classes: number; labelSmoothing: number; ignoreIndex: number | null }, reduction: 'none' | 'mean' | 'sum'): Float64Array {
  const p = new Float64Array(CeParam.Count);
  p[CeParam.Classes] = c.classes;
  p[CeParam.LabelSmoothing] = c.labelSmoothing;
  p[CeParam.IgnoreIndex] = c.ignoreIndex ?? -100;
  p[CeParam.GradScale] = 1;
  p[CeParam.WantLossSum] = reduction === 'none' ? 0 : 1;
  p[CeParam.Mean] = reduction === 'mean' ? 1 : 0;
  return p;
}

forEachBackend('softmax cross-entropy', () => {
test('the PyTorch reference cases (31 in the fixture), every reduction: within 4 ulp / 4 units of the float64 truth', () => {
  if (process.env.FUSED_BCE_CE_REFERENCE === undefined) assert.equal(cases.length, 31);
  for (const c of cases) {
    const n = c.rows * c.classes;
    const logits = Float32Array.from(c.logits);
    const indices = c.targetKind === 'indices' ? Int32Array.from(c.targets) : null;
    const probabilities = c.targetKind === 'probabilities' ? Float32Array.from(c.targets) : null;
    const weight = c.weight === null ? null : Float32Array.from(c.weight);
    for (const reduction of ['none', 'mean', 'sum'] as const) {
      const p = params(c, reduction);
      const grad = new Float32Array(n);
      const lossOut = reduction === 'none' ? new Float32Array(c.rows) : null;
      const upstream = reduction === 'none' ? Float32Array.from(c.gradOutput) : null;
      cePass(logits, indices, probabilities, weight, lossOut, grad, upstream, p);
      const truth = c.truth[reduction];
      const label = `${c.name} ${reduction}`;
      if (reduction === 'none') {
        const losses = truth.loss as number[];
        for (let r = 0; r < c.rows; r++) {
          // The reference forms -log p_y as x_y - lse in float64, with an absolute error of up to 2^-52 (|x_y| +
          // |lse|): ~10 float32 ulp of a loss of 1e-10. Within that of the reference, the result is as good as the
          // reference can tell (the tiny-loss test below checks such a loss against a closed form).
          const result = (lossOut as Float32Array)[r];
          if (Math.abs(result - losses[r]) <= referenceError(logits, r, c.classes, indices === null ? -1 : indices[r])) continue;
          assertLoss(result, losses[r], Math.abs(losses[r]), `${label} loss[${r}]`);
        }
      } else {
        const value = p[CeParam.LossSum];
        const rowLosses = c.truth.none.loss as number[];
        const magnitude = rowLosses.reduce((s, v) => s + Math.abs(v), 0) / (reduction === 'mean' ? Math.abs(p[CeParam.MeanDivisor]) : 1);
        assertReduced(value, truth.loss as number, magnitude, label);
      }
      // The gradient's terms: W p_c and the target's share ((1 - eps) w_y [c = y] + (eps / C) w_c, or w_c t'_c),
      // both >= 0 for weights >= 0: their magnitude is |grad| + 2 |scale| * share.
      const eps = c.labelSmoothing;
      for (let i = 0; i < n; i++) {
        const r = Math.floor(i / c.classes), k = i % c.classes;
        const w = (j: number) => (weight === null ? 1 : weight[j]);
        const y = indices === null ? -1 : indices[r];
        if (indices !== null && y === (c.ignoreIndex ?? -100)) {
          assert.ok(Object.is(grad[i], 0), `${label} grad[${i}]: an ignored row's gradient is +0`);
          continue;
        }
        const share = indices !== null ? (k === y ? (1 - eps) * w(y) : 0) + (eps / c.classes) * w(k)
          : w(k) * ((probabilities as Float32Array)[i] * (1 - eps) + eps / c.classes);
        const scale = (reduction === 'none' ? c.gradOutput[r] : 1) / (reduction === 'mean' ? p[CeParam.MeanDivisor] : 1);
        const g = truth.grad[i];
        assertGrad(grad[i], g, Math.abs(g) + 2 * Math.abs(scale) * share, `${label} grad[${i}]`);
      }
    }
  }
});

test('a confident, correct row keeps its tiny loss (log1p of the others), where lse - x_y in float32 is 0', () => {
  // x_y - x_c = 40: the loss is log1p(2 e^-40) = 8.5e-18, far below an ulp of the logits.
  const logits = Float32Array.of(0, 40, 0);
  const lossOut = new Float32Array(1);
  const p = params({ classes: 3, labelSmoothing: 0, ignoreIndex: null }, 'none');
  cePass(logits, Int32Array.of(1), null, null, lossOut, null, null, p);
  const truth = Math.log1p(2 * Math.exp(-40));
  assertLoss(lossOut[0], truth, truth, 'tiny loss');
  assert.ok(lossOut[0] > 0);
});

test('a class index outside [0, C) that is not ignoreIndex: RangeError naming the row, nothing written', () => {
  const logits = new Float32Array(6);
  const gradOut = new Float32Array(6).fill(7);
  const lossOut = new Float32Array(2).fill(7);
  for (const bad of [3, -1, 1000]) {
    const p = params({ classes: 3, labelSmoothing: 0.1, ignoreIndex: -100 }, 'none');
    assert.throws(() => cePass(logits, Int32Array.of(0, bad), null, null, lossOut, gradOut, null, p),
      new RangeError(`fused-bce: crossEntropyFused: targets[1] is ${bad}, not a class index in [0, 3) or the ignoreIndex -100`));
    assert.ok(gradOut.every((v) => v === 7) && lossOut.every((v) => v === 7), 'nothing written');
  }
});

test('limits: the only +inf logit at the target (loss 0 without smoothing), -inf at the target (+inf), all -inf (NaN), NaN in one row only', () => {
  const C = 3;
  const logits = Float32Array.of(Infinity, 0, 1, -Infinity, 0, 1, -Infinity, -Infinity, -Infinity, NaN, 0, 1, 0, 1, 2);
  const indices = Int32Array.of(0, 0, 1, 2, 2);
  const lossOut = new Float32Array(5);
  const gradOut = new Float32Array(15);
  cePass(logits, indices, null, null, lossOut, gradOut, null, params({ classes: C, labelSmoothing: 0, ignoreIndex: null }, 'none'));
  assert.deepEqual(Array.from(lossOut.slice(0, 2)), [0, Infinity]);
  assert.deepEqual(Array.from(gradOut.slice(0, 3)), [0, 0, 0], 'the +inf target: p = 1 there, 0 elsewhere');
  assert.ok(Number.isNaN(lossOut[2]) && Number.isNaN(lossOut[3]), 'all -inf, and NaN, rows are NaN');
  assert.ok(Number.isFinite(lossOut[4]) && gradOut.slice(12).every(Number.isFinite), 'the NaN stays in its row');
});

test('crossEntropyFusedAsync and CrossEntropyLoss give the bits of the sync call (weights, smoothing, every reduction)', async () => {
  const classes = 37, rows = 1000;
  const logits = Float32Array.from({ length: rows * classes }, (_, i) => Math.sin(i * 0.37) * 6);
  const indices = Uint16Array.from({ length: rows }, (_, r) => (r * 11) % classes);
  const weight = Float32Array.from({ length: classes }, (_, c) => 0.5 + (c % 5) / 4);
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    const options = { classes, labelSmoothing: 0.1, weight, reduction, ignoreIndex: 3, threads: 2 };
    const sync = crossEntropyFused(logits, indices, options);
    const async = await crossEntropyFusedAsync(logits, indices, options);
    assert.deepEqual(async.loss, sync.loss, `${reduction}: the loss`);
    assert.deepEqual(async.grad, sync.grad, `${reduction}: the gradient`);
    const module = new CrossEntropyLoss({ classes, labelSmoothing: 0.1, weight, reduction, ignoreIndex: 3 });
    assert.deepEqual(module.forward(logits, indices), sync.loss, `${reduction}: CrossEntropyLoss.forward`);
    assert.deepEqual(module.backward(), sync.grad, `${reduction}: CrossEntropyLoss.backward`);
  }
});
});
