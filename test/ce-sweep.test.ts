// The accuracy sweep of softmax cross-entropy on every backend: rows drawn over logit magnitudes (1e-3 to 1e30, and
// confident rows whose loss is far below an ulp of the logits), class counts from 1 to 256K, smoothing 0, 0.1 and 1,
// with and without class weights, class-index and probability targets, against an independent float64 reference:
// each row's loss within 4 ulp, each gradient element within 4 units (2^-24 times the magnitudes of its terms,
// times the scale). FUSED_BCE_CE_SWEEP_ROWS sets the rows per configuration (npm run sweep:ce runs many more).
import { test } from 'node:test';
import { crossEntropyFused } from '../src/index';
import type { ClassTargets } from '../src/index';
import { forEachBackend } from './helpers/backends';
import { rng, normal } from './helpers/reference';
import { assertGrad, assertLoss, worst } from './helpers/bounds';
import { ceRowReference } from './helpers/ce-reference';

const ROWS = Number(process.env.FUSED_BCE_CE_SWEEP_ROWS ?? 3);
const CLASSES = [1, 2, 3, 7, 10, 16, 31, 32, 33, 100, 1000, 32768, 262144];
const SCALES = [1e-3, 1, 8, 40, 1e4, 1e30];

// Rows of logits at a scale; every third row confident: one class ahead of the rest by 20 to 60 scale units.
function logitsFor(random: () => number, rows: number, classes: number, scale: number): Float32Array {
  const x = Float32Array.from({ length: rows * classes }, () => scale * normal(random));
  for (let r = 0; r < rows; r += 3) x[r * classes + Math.floor(random() * classes)] = scale * (20 + 40 * random());
  return x;
}

forEachBackend('softmax cross-entropy sweep', (b) => {
  test(`every row within 4 ulp, every gradient element within 4 units (${ROWS} rows per configuration)`, () => {
    const random = rng(20261201);
    for (const classes of CLASSES) {
      const rows = classes >= 32768 ? Math.max(1, Math.ceil(ROWS / 3)) : ROWS;
      for (const scale of classes >= 32768 ? [1, 40] : SCALES) {
        for (const eps of [0, 0.1, 1]) {
          for (const weighted of [false, true]) {
            for (const kind of ['indices', 'probabilities'] as const) {
              const logits = logitsFor(random, rows, classes, scale);
              const weight = weighted ? Float32Array.from({ length: classes }, () => 0.25 + 2 * random()) : null;
              let targets: ClassTargets;
              if (kind === 'indices') {
                targets = Int32Array.from({ length: rows }, () => Math.floor(random() * classes));
              } else {
                targets = Float32Array.from({ length: rows * classes }, () => random());
                for (let r = 0; r < rows; r++) {
                  let s = 0;
                  for (let c = 0; c < classes; c++) s += targets[r * classes + c];
                  for (let c = 0; c < classes; c++) targets[r * classes + c] = Math.fround(targets[r * classes + c] / s);
                }
              }
              const { loss, grad } = crossEntropyFused(logits, targets, {
                classes, labelSmoothing: eps, weight: weight ?? undefined, reduction: 'none',
              });
              const label = `${b.name}/${b.isa} C=${classes} scale=${scale} eps=${eps} ${weighted ? 'weighted' : ''} ${kind}`;
              for (let r = 0; r < rows; r++) {
                const ref = ceRowReference(logits.subarray(r * classes, (r + 1) * classes), classes,
                  kind === 'indices' ? targets[r] : null,
                  kind === 'probabilities' ? (targets as Float32Array).subarray(r * classes, (r + 1) * classes) : null, eps, weight);
                assertLoss(loss[r], ref.loss, ref.lossMagnitude, `${label} row ${r}`, `ce ${b.name}/${b.isa}`);
                for (let c = 0; c < classes; c++) {
                  assertGrad(grad[r * classes + c], ref.grad[c], ref.gradMagnitude[c], `${label} row ${r} class ${c}`, `ce ${b.name}/${b.isa}`);
                }
              }
            }
          }
        }
      }
    }
    const key = `ce ${b.name}/${b.isa}`;
    console.log(`${key}: worst loss ${(worst[`${key} loss ulp`] ?? 0).toFixed(2)} ulp, gradient ${(worst[`${key} grad`] ?? 0).toFixed(2)} units`);
  });
});
