// The focal loss (options.focal on the BCE entry points) on every backend and ISA: PyTorch 1.13's reference cases
// (torchvision's formula, test/fixtures/torch-focal.json.gz, or $FUSED_BCE_FOCAL_REFERENCE for a held-out set) and
// a sampled sweep over gamma, logit scale, smoothing, target kinds and weights, each loss within 4 ulp and each
// gradient element within 4 units of an independent float64 reference; gamma 0 without alpha is BCE's bits;
// special values; the options' checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bceWithLogits, bceWithLogitsFused, bceWithLogitsFusedAsync, BCEWithLogitsLoss,
} from '../src/index';
import type { LossOptions, Reduction, Smoothing, Targets } from '../src/index';
import { backendLabel, forEachBackend } from './helpers/backends';
import { fixturePath, loadCases } from './helpers/torch-reference';
import { focalElement } from './helpers/focal-reference';
import type { FocalElement, TorchFocalCase } from './helpers/focal-reference';
import { assertGrad, assertLoss } from './helpers/bounds';
import { checkEntryPoints } from './helpers/entry-points';
import { normal, rng } from './helpers/reference';

const referenceFile = process.env.FUSED_BCE_FOCAL_REFERENCE ?? fixturePath('torch-focal.json.gz');
const cases = loadCases<TorchFocalCase>(referenceFile);

function focalOf(c: TorchFocalCase): LossOptions['focal'] {
  return c.alpha >= 0 ? { gamma: c.gamma, alpha: c.alpha } : { gamma: c.gamma };
}

function inputs(c: TorchFocalCase, targetType: 'float32' | 'uint8') {
  const a = c.labelSmoothing ?? 0;
  const convention: Smoothing = c.convention ?? 'symmetric';
  const logits = Float32Array.from(c.logits);
  const targets: Targets = targetType === 'uint8' ? Uint8Array.from(c.targets) : Float32Array.from(c.targets);
  const ref: FocalElement[] = [];
  for (let i = 0; i < c.n; i++) ref.push(focalElement(logits[i], targets[i], a, convention, c.gamma, c.alpha));
  return { logits, targets, options: { labelSmoothing: a, smoothing: convention, focal: focalOf(c) }, gradOutput: Float32Array.from(c.gradOutput), ref };
}

test('the independent focal reference agrees with the reference file truth', () => {
  for (const c of cases) {
    const { ref } = inputs(c, 'float32');
    for (let i = 0; i < c.n; i++) {
      const t = (c.truth.none.loss as number[])[i];
      assert.ok(Math.abs(ref[i].loss - t) <= 1e-12 * Math.max(Math.abs(t), 1e-300), `${c.name}[${i}]: ${ref[i].loss} vs ${t}`);
      const g = c.truth.sum.grad[i];
      assert.ok(Math.abs(ref[i].grad - g) <= 1e-12 * Math.max(ref[i].gradMagnitude, 1e-300), `${c.name}[${i}] grad: ${ref[i].grad} vs ${g}`);
    }
  }
});

forEachBackend('PyTorch focal reference cases', (b) => {
  for (const c of cases) {
    const targetTypes: ('float32' | 'uint8')[] = c.targetsDtype === 'uint8' ? ['float32', 'uint8'] : ['float32'];
    for (const targetType of targetTypes) {
      test(`${c.name} (${targetType} targets)`, () => {
        const { logits, targets, options, gradOutput, ref } = inputs(c, targetType);
        checkEntryPoints(c, logits, targets, options, gradOutput, ref, `focal ${backendLabel(b)}`);
      });
    }
  }

  test('gamma 0 without alpha gives the bits of plain BCE', () => {
    for (const c of cases) {
      const { logits, targets, options } = inputs(c, c.targetsDtype === 'uint8' ? 'uint8' : 'float32');
      const plain = { labelSmoothing: options.labelSmoothing, smoothing: options.smoothing };
      for (const reduction of ['none', 'mean'] as Reduction[]) {
        const a = bceWithLogitsFused(logits, targets, { ...plain, reduction, focal: { gamma: 0 } });
        const bce = bceWithLogitsFused(logits, targets, { ...plain, reduction });
        assert.deepEqual(a.grad, bce.grad, `${c.name} ${reduction}`);
        assert.deepEqual(a.loss, bce.loss, `${c.name} ${reduction}`);
      }
    }
  });

  test('a sampled sweep: gamma 0.25-6, logits to +-150 and infinite, both conventions, soft targets, posWeight, weights', () => {
    const random = rng(0xf0ca1);
    const n = 301;
    const key = `focal sweep ${backendLabel(b)}`;
    for (const gamma of [0, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 6]) {
      for (let variant = 0; variant < 12; variant++) {
        const u8 = variant % 2 === 0;
        const alpha = variant % 3 === 0 ? 0.25 : variant % 3 === 1 ? -1 : 0.9;
        const convention: Smoothing = variant % 4 < 2 ? 'symmetric' : 'uniform';
        const a = [0, 0.05, 0.1, 1e-3][variant % 4] * (convention === 'uniform' ? 2 : 1);
        const posWeighted = variant >= 8;
        const logits = new Float32Array(n), targets = u8 ? new Uint8Array(n) : new Float32Array(n);
        const scales = [0.5, 3, 12, 40, 90, 150];
        for (let i = 0; i < n; i++) {
          logits[i] = scales[i % scales.length] * normal(random);
          targets[i] = u8 ? (random() < 0.2 ? 1 : 0) : random();
        }
        logits[0] = Infinity;
        logits[1] = -Infinity;
        const posWeight = posWeighted ? Float32Array.of(2.5) : undefined;
        const weight = variant % 5 === 0 ? Float32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? 0 : 0.5 + random())) : undefined;
        const focal = alpha >= 0 ? { gamma, alpha } : { gamma };
        const options = { labelSmoothing: a, smoothing: convention, focal, posWeight, weight, reduction: 'none' as const };
        const r = bceWithLogitsFused(logits, targets, options);
        for (let i = 0; i < n; i++) {
          const ref = focalElement(logits[i], targets[i], a, convention, gamma, alpha, posWeighted ? 2.5 : 1, weight ? weight[i] : 1);
          const label = `gamma ${gamma} variant ${variant} [${i}] x=${logits[i]} y=${targets[i]}`;
          assertLoss((r.loss as Float32Array)[i], ref.loss, ref.lossMagnitude, label, key);
          assertGrad(r.grad[i], ref.grad, ref.gradMagnitude, label, key);
        }
      }
    }
  });

  test('special values: infinite and NaN logits, weight 0, alpha_t 0, a float target outside [0, 1]', () => {
    const logits = Float32Array.of(Infinity, -Infinity, Infinity, -Infinity, NaN, 1, 2, -3);
    const targets = Float32Array.of(1, 1, 0, 0, 1, 1, 1.5, 0);
    const weight = Float32Array.of(1, 1, 1, 1, 1, 0, 1, 1);
    const r = bceWithLogitsFused(logits, targets, { focal: { gamma: 2 }, weight, reduction: 'none' });
    const loss = r.loss as Float32Array;
    // +inf with target 1 and -inf with target 0: loss 0, gradient 0; the wrong side: loss +inf, gradient -1 / +1.
    assert.deepEqual([loss[0], loss[1], loss[2], loss[3]], [0, Infinity, Infinity, 0]);
    assert.deepEqual([r.grad[0], r.grad[1], r.grad[2], r.grad[3]], [0, -1, 1, 0]);
    assert.ok(Number.isNaN(loss[4]) && Number.isNaN(r.grad[4]), 'NaN logit: NaN in its element');
    assert.ok(Object.is(loss[5], 0) && Object.is(r.grad[5], 0), 'weight 0 masks (+0)');
    assert.ok(Number.isNaN(loss[6]) && Number.isNaN(r.grad[6]), 'a target outside [0, 1]: NaN');
    assert.ok(loss[7] > 0 && Number.isFinite(loss[7]), 'other elements unaffected');
    // -0 is a target like 0
    const signed = bceWithLogitsFused(Float32Array.of(0.7, 0.7), Float32Array.of(-0, 0), { focal: { gamma: 1.5 }, labelSmoothing: 0.05, reduction: 'none' });
    assert.equal((signed.loss as Float32Array)[0], (signed.loss as Float32Array)[1]);
    assert.equal(signed.grad[0], signed.grad[1]);
    // gamma < 1 at saturated logits: finite gradients (no inf * 0)
    const g = bceWithLogitsFused(Float32Array.of(30, -30, 100, -100, 1e30), Float32Array.of(1, 0, 1, 0, 1), { focal: { gamma: 0.5 }, reduction: 'none' });
    for (const v of g.grad) assert.ok(Number.isFinite(v), `gamma 0.5: gradient ${v}`);
    // alpha 0 weighs the positive targets by 0: masked even where their BCE is infinite
    const m = bceWithLogitsFused(Float32Array.of(-Infinity, 2), Uint8Array.of(1, 0), { focal: { gamma: 2, alpha: 0 }, reduction: 'none' });
    assert.ok(Object.is((m.loss as Float32Array)[0], 0) && Object.is(m.grad[0], 0));
  });

  test('a weight and an upstream gradient of ones give the bits of the call without them', () => {
    // Without them the kernels take their fast path (js: focalChunks; native: no products with the weight), with
    // them the general one: the same values, as both multiply by 1 exactly.
    const random = rng(0x1dea);
    const n = 1037;
    const logits = Float32Array.from({ length: n }, (_, i) => [0.5, 4, 30, 120][i % 4] * normal(random));
    logits[3] = Infinity;
    logits[8] = -Infinity;
    const ones = new Float32Array(n).fill(1);
    for (const u8 of [true, false]) {
      const targets = u8 ? Uint8Array.from({ length: n }, () => (random() < 0.2 ? 1 : 0)) : Float32Array.from({ length: n }, () => random());
      logits[5] = NaN;
      if (!u8) [targets[6], targets[7], targets[9]] = [1.5, -0.25, NaN]; // outside [0, 1]: NaN in their elements
      for (const focal of [{ gamma: 1 }, { gamma: 2 }, { gamma: 2, alpha: 0.25 }, { gamma: 3, alpha: 1 }, { gamma: 1.5 }, { gamma: 4.5, alpha: 0.9 }]) {
        const options = { labelSmoothing: 0.05, focal, reduction: 'none' as const };
        const plain = bceWithLogitsFused(logits, targets, options);
        const weighted = bceWithLogitsFused(logits, targets, { ...options, weight: ones, gradOutput: ones });
        const label = `${u8 ? 'uint8' : 'float32'} ${JSON.stringify(focal)}`;
        // (the same values: Object.is, as a NaN's payload bits are not part of a result)
        const plainLoss = plain.loss as Float32Array, weightedLoss = weighted.loss as Float32Array;
        for (let i = 0; i < n; i++) {
          assert.ok(Object.is(weightedLoss[i], plainLoss[i]), `${label} loss[${i}]: ${weightedLoss[i]} vs ${plainLoss[i]}`);
          assert.ok(Object.is(weighted.grad[i], plain.grad[i]), `${label} grad[${i}]: ${weighted.grad[i]} vs ${plain.grad[i]}`);
        }
        const mean = { labelSmoothing: 0.05, focal };
        assert.equal(bceWithLogitsFused(logits, targets, { ...mean, weight: ones }).loss, bceWithLogitsFused(logits, targets, mean).loss, label);
      }
    }
  });

  test('async gives the bits of the synchronous call', async () => {
    const random = rng(7);
    const n = 70_001;
    const logits = Float32Array.from({ length: n }, () => 6 * normal(random));
    const targets = Uint8Array.from({ length: n }, () => (random() < 0.1 ? 1 : 0));
    for (const focal of [{ gamma: 2, alpha: 0.25 }, { gamma: 1.5 }]) {
      const options = { labelSmoothing: 0.05, focal };
      const sync = bceWithLogitsFused(logits, targets, options);
      const async = await bceWithLogitsFusedAsync(logits, targets, options);
      assert.equal(async.loss, sync.loss);
      assert.deepEqual(async.grad, sync.grad);
    }
  });
});

test('options.focal is checked: shape, gamma >= 0 and finite, alpha in [0, 1], no negative smoothing', () => {
  const logits = new Float32Array(4), targets = new Uint8Array(4);
  const bad: [unknown, ErrorConstructor, RegExp][] = [
    [2, TypeError, /options.focal must be an object \{ gamma, alpha\? \}, got number/],
    [null, TypeError, /options.focal must be an object/],
    [{}, TypeError, /options.focal.gamma must be a number >= 0, got undefined/],
    [{ gamma: '2' }, TypeError, /options.focal.gamma must be a number/],
    [{ gamma: -1 }, RangeError, /options.focal.gamma must be a finite number >= 0, got -1/],
    [{ gamma: NaN }, RangeError, /options.focal.gamma must be a finite number >= 0, got NaN/],
    [{ gamma: Infinity }, RangeError, /options.focal.gamma must be a finite number >= 0/],
    [{ gamma: 2, alpha: 1.5 }, RangeError, /options.focal.alpha must be in \[0, 1\], got 1.5/],
    [{ gamma: 2, alpha: -0.5 }, RangeError, /options.focal.alpha must be in \[0, 1\]/],
    [{ gamma: 2, alpha: 'x' }, TypeError, /options.focal.alpha must be a number in \[0, 1\] or undefined/],
    [{ gamma: 2, beta: 1 }, TypeError, /options.focal has an unknown key "beta"; its keys are gamma, alpha/],
  ];
  for (const [focal, type, message] of bad) {
    assert.throws(() => bceWithLogits(logits, targets, { focal } as never), (e: Error) => e instanceof type && message.test(e.message), String(focal));
    assert.throws(() => new BCEWithLogitsLoss({ focal } as never), (e: Error) => e instanceof type && message.test(e.message));
  }
  assert.throws(() => bceWithLogits(logits, targets, { focal: { gamma: 2 }, labelSmoothing: -0.1 }), /options.labelSmoothing must be >= 0 with options.focal/);
});

test('the options cache sees a changed focal.gamma on the same options object', () => {
  const logits = Float32Array.of(0.5, -1, 2, 3), targets = Uint8Array.of(1, 0, 1, 0);
  const options = { focal: { gamma: 2 } };
  const first = bceWithLogits(logits, targets, options) as number;
  options.focal.gamma = 0.5;
  const second = bceWithLogits(logits, targets, options) as number;
  assert.notEqual(first, second);
  assert.equal(second, bceWithLogits(logits, targets, { focal: { gamma: 0.5 } }));
});

test('BCEWithLogitsLoss keeps its own copy of focal', () => {
  const focal = { gamma: 2 };
  const loss = new BCEWithLogitsLoss({ focal });
  focal.gamma = 0;
  assert.deepEqual(loss.options.focal, { gamma: 2 });
  const logits = Float32Array.of(0.5, -1), targets = Uint8Array.of(1, 0);
  assert.equal(loss.forward(logits, targets), bceWithLogits(logits, targets, { focal: { gamma: 2 } }));
});
