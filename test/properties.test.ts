// Property tests (fast-check): random shapes, options, offsets, target types and special values against the
// independent float64 reference, on every backend, plus a dense deterministic sweep of logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bceWithLogits, bceWithLogitsBackward, bceWithLogitsFused } from '../src/index';
import type { Reduction, Smoothing } from '../src/index';
import { backendLabel, forEachBackend } from './helpers/backends';
import { refElement, rng, normal } from './helpers/reference';
import { assertGrad, assertLoss, assertReduced, worst } from './helpers/bounds';

const NUM_RUNS = Number(process.env.FUSED_BCE_PROPERTY_RUNS ?? 150);

const logitArb = fc.oneof(
  { weight: 6, arbitrary: fc.float({ min: -30, max: 30, noNaN: true }) },
  { weight: 2, arbitrary: fc.float() }, // any float32, including NaN, +-inf, subnormals, +-0
  { weight: 1, arbitrary: fc.constantFrom(Infinity, -Infinity, NaN, 0, -0, 88.72, -103.9, 104, 3.4e38) },
);
const softTargetArb = fc.oneof(
  { weight: 8, arbitrary: fc.float({ min: 0, max: 1, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, NaN, 0.5) },
);

const caseArb = fc
  .record({
    classes: fc.integer({ min: 1, max: 20 }),
    rows: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 24 }) }, { weight: 1, arbitrary: fc.integer({ min: 25, max: 250 }) }), // n up to 5000
    offset: fc.integer({ min: 0, max: 3 }),
    smoothing: fc.constantFrom<Smoothing>('symmetric', 'uniform'),
    labelSmoothing: fc.oneof(fc.constantFrom(0, 0.05, 0.1, -0.1, 2 ** -126, -(2 ** -126)), fc.double({ min: -1, max: 0.5, noNaN: true }).filter((a) => a === 0 || Math.abs(a) >= 2 ** -126)),
    reduction: fc.constantFrom<Reduction>('mean', 'sum', 'none'),
    hard: fc.boolean(),
    posWeight: fc.boolean(),
    weight: fc.constantFrom('none', 'class', 'element'),
    seed: fc.integer(),
  })
  .chain((c) => {
    const n = c.classes * c.rows;
    return fc.record({
      c: fc.constant(c),
      logits: fc.array(logitArb, { minLength: n, maxLength: n }),
      soft: fc.array(softTargetArb, { minLength: n, maxLength: n }),
      bits: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      posWeight: fc.array(fc.float({ min: 0, max: 10, noNaN: true }), { minLength: c.classes, maxLength: c.classes }),
      weight: fc.array(fc.oneof(fc.float({ min: -4, max: 4, noNaN: true }), fc.constant(0)), { minLength: n, maxLength: n }),
      gradOutput: fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: n, maxLength: n }),
    });
  });

function at<T extends Float32Array | Uint8Array>(make: (len: number) => T, values: ArrayLike<number>, offset: number): T {
  const store = make(values.length + offset + 2);
  store.set(values, offset);
  return store.subarray(offset, offset + values.length) as T;
}

forEachBackend('properties', (b) => {
  test('every element within the accuracy bound, every reduction consistent', () => {
    fc.assert(
      fc.property(caseArb, ({ c, logits, soft, bits, posWeight, weight, gradOutput }) => {
        const n = c.classes * c.rows;
        const x = at((k) => new Float32Array(k), logits, c.offset);
        const y = c.hard ? at((k) => new Uint8Array(k), bits.map(Number), c.offset + 1) : at((k) => new Float32Array(k), soft, c.offset + 1);
        const pw = c.posWeight ? Float32Array.from(posWeight) : undefined;
        const w = c.weight === 'none' ? undefined : c.weight === 'class' ? Float32Array.from(weight.slice(0, c.classes)) : Float32Array.from(weight);
        if (!pw && c.weight === 'class' && w && w.length === n) return; // n == C: per class is per element
        const go = Float32Array.from(gradOutput);
        const options = { labelSmoothing: c.labelSmoothing, smoothing: c.smoothing, posWeight: pw, weight: w, reduction: c.reduction };
        const scale = c.reduction === 'mean' ? 1 / n : 1;
        const perElementGradOutput = c.reduction === 'none';
        const fused = bceWithLogitsFused(x, y, { ...options, gradOutput: perElementGradOutput ? go : 1.5 });
        const forward = bceWithLogits(x, y, options);
        const backward = bceWithLogitsBackward(x, y, { ...options, gradOutput: perElementGradOutput ? go : 1.5 });
        let magnitudeSum = 0;
        let subnormalFloor = 0;
        let skipReduced = false;
        let truthSum = 0;
        const key = backendLabel(b);
        for (let i = 0; i < n; i++) {
          const cls = i % c.classes;
          const r = refElement(x[i], y[i], c.labelSmoothing, c.smoothing, pw ? pw[cls] : 1, w ? w[w.length === n ? i : cls] : 1);
          const upstream = perElementGradOutput ? go[i] : 1.5 * scale;
          const wi = w ? w[w.length === n ? i : cls] : 1;
          assertGrad(fused.grad[i], r.grad * upstream, r.gradMagnitude * Math.abs(upstream), `grad[${i}]`, key, Math.abs(wi * upstream) * Math.max(1, r.expFactor));
          assert.ok(Object.is(backward[i], fused.grad[i]), `backward and fused grad differ at ${i}`);
          // Documented limit (README, Accuracy): the unweighted loss is formed in float32, so where it exceeds
          // FLT_MAX the element is +-inf even if a small weight would bring it back into range.
          const unweightedOverflows = wi !== 0 && r.lossMagnitude / Math.abs(wi) > 3.4028234663852886e38;
          if (c.reduction === 'none' && !unweightedOverflows) {
            assertLoss((fused.loss as Float32Array)[i], r.loss, r.lossMagnitude, `loss[${i}] x=${x[i]} y=${y[i]}`, key, Math.abs(wi) * r.expFactor);
            assert.ok(Object.is((forward as Float32Array)[i], (fused.loss as Float32Array)[i]));
          }
          if (unweightedOverflows) skipReduced = true;
          magnitudeSum += r.lossMagnitude;
          if (r.lossMagnitude !== 0) subnormalFloor += 4 * 2 ** -149 * Math.max(1, Math.abs(wi) * r.expFactor);
          truthSum += r.loss;
        }
        if (c.reduction !== 'none' && !skipReduced) {
          assert.ok(Object.is(forward, fused.loss), 'forward and fused reduced losses are identical');
          if (Number.isFinite(truthSum) && n > 0) assertReduced(forward as number, truthSum * scale, magnitudeSum * scale, 'reduced', subnormalFloor * scale);
          else if (Number.isNaN(truthSum)) assert.ok(Number.isNaN(forward as number));
        }
      }),
      { numRuns: NUM_RUNS, seed: 20261130, includeErrorInReport: true },
    );
  });

  test('a few large inputs (65,537 and 300,007 elements, 7 classes): every element within the bound', () => {
    const random = rng(77);
    for (const n of [65537 * 7, 300007 * 7].map((k) => k - (k % 7))) {
      const classes = 7;
      const specials = [Infinity, -Infinity, NaN, 0, -0, 3.4e38, -3.4e38, 1e-40];
      const logits = Float32Array.from({ length: n }, () => (random() < 0.01 ? specials[Math.floor(random() * specials.length)] : 8 * normal(random)));
      const hard = n % 2 === 0;
      const targets = hard ? Uint8Array.from({ length: n }, () => (random() < 0.2 ? 1 : 0)) : Float32Array.from({ length: n }, () => random());
      const posWeight = Float32Array.from({ length: classes }, () => 0.25 + 4 * random());
      const weight = Float32Array.from({ length: classes }, (_, c) => (c === 3 ? 0 : 0.5 + random()));
      const labelSmoothing = 0.05;
      const r = bceWithLogitsFused(logits, targets, { labelSmoothing, posWeight, weight, reduction: 'none' });
      for (let i = 0; i < n; i++) {
        const c = i % classes;
        const ref = refElement(logits[i], targets[i], labelSmoothing, 'symmetric', posWeight[c], weight[c]);
        const label = `n=${n} [${i}] x=${logits[i]} y=${targets[i]}`;
        if (Number.isNaN(ref.loss)) {
          assert.ok(Number.isNaN(r.loss[i]) && Number.isNaN(r.grad[i]), `${label}: NaN expected`);
          continue;
        }
        assertLoss(r.loss[i], ref.loss, ref.lossMagnitude, label, undefined, weight[c] * ref.expFactor);
        assertGrad(r.grad[i], ref.grad, ref.gradMagnitude, label, undefined, weight[c] * Math.max(1, ref.expFactor));
      }
    }
  });

  test('strong negative smoothing, soft targets whose smoothed value stays in [0, 1]: every element within the bound', () => {
    // y' = y (1 - 2a) + a is in [0, 1] only for y in [a / (2a - 1), (a - 1) / (2a - 1)], a window about 1/2; below
    // 1/2 a float32 1 - y rounds, and a kernel that formed 1 - y' from it multiplied that rounding by |1 - 2a|.
    const random = rng(2026);
    for (const labelSmoothing of [-9, -100, -1000, -1e5]) {
      const lo = labelSmoothing / (2 * labelSmoothing - 1), hi = (labelSmoothing - 1) / (2 * labelSmoothing - 1);
      const n = 4099;
      const targets = Float32Array.from({ length: n }, () => Math.min(hi, Math.max(lo, lo + (hi - lo) * random())));
      const logits = Float32Array.from({ length: n }, () => 8 * normal(random));
      const r = bceWithLogitsFused(logits, targets, { labelSmoothing, reduction: 'none' });
      for (let i = 0; i < n; i++) {
        const ref = refElement(logits[i], targets[i], labelSmoothing, 'symmetric');
        const label = `a=${labelSmoothing} x=${logits[i]} y=${targets[i]}`;
        assertLoss(r.loss[i], ref.loss, ref.lossMagnitude, label, undefined, ref.expFactor);
        assertGrad(r.grad[i], ref.grad, ref.gradMagnitude, label, undefined, Math.max(1, ref.expFactor));
      }
    }
  });

  test('dense sweep of logits over [-110, 110] and subnormals, targets 0, 1, soft, several smoothings', (t) => {
    const xs: number[] = [];
    for (let v = -110; v <= 110; v += 1 / 64) xs.push(v);
    for (let e = -149; e <= -120; e++) xs.push(2 ** e, -(2 ** e));
    const logits = Float32Array.from(xs);
    const key = backendLabel(b);
    for (const [labelSmoothing, smoothing] of [[0, 'symmetric'], [0.05, 'symmetric'], [0.1, 'uniform'], [-0.1, 'symmetric']] as [number, Smoothing][]) {
      for (const target of [0, 1, 0.3, 0.999]) {
        const y = new Float32Array(logits.length).fill(target);
        const r = bceWithLogitsFused(logits, y, { labelSmoothing, smoothing, reduction: 'none' });
        for (let i = 0; i < logits.length; i++) {
          const ref = refElement(logits[i], y[i], labelSmoothing, smoothing);
          assertLoss(r.loss[i], ref.loss, ref.lossMagnitude, `x=${logits[i]} y=${target} a=${labelSmoothing}`, key);
          assertGrad(r.grad[i], ref.grad, ref.gradMagnitude, `x=${logits[i]} y=${target} a=${labelSmoothing}`, key, ref.expFactor);
        }
      }
    }
    for (const [k, v] of Object.entries(worst)) if (k.startsWith(key + ' ')) t.diagnostic(`worst ${k}: ${v.toFixed(3)}`);
  });
});
