// The TypeScript kernel's float64 exp and log1p (src/backends/js/math.ts) against V8's Math.exp and Math.log1p (each
// within 1 ulp of the truth): within 2 ulp of them over their whole domain here, exact at the special values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expNonPositiveByTable as expNonPositive, log1pUnitByTable as log1pUnit } from '../src/backends/js/math';
import * as kernelMath from '../src/backends/js/math';
import { rng } from './helpers/reference';

function ulpsApart(a: number, b: number): number {
  if (Object.is(a, b)) return 0;
  const spacing = Math.max(Math.abs(b) * 2 ** -52, 2 ** -1074);
  return Math.abs(a - b) / spacing;
}

test('expNonPositive: within 2 ulp of Math.exp on [-745, 0], exact at the special values', () => {
  const random = rng(11);
  let worst = 0;
  for (let i = 0; i < 400_000; i++) {
    const scale = [1e-12, 1e-3, 1, 20, 104, 708, 745][i % 7];
    const t = -random() * scale;
    worst = Math.max(worst, ulpsApart(expNonPositive(t), Math.exp(t)));
  }
  assert.ok(worst <= 2, `worst ${worst} ulp`);
  for (const t of [0, -0, -Infinity, -708, -707.9999999999, -709, -745.1, -746, -1e300]) {
    assert.ok(ulpsApart(expNonPositive(t), Math.exp(t)) <= 2, `t = ${t}: ${expNonPositive(t)} vs ${Math.exp(t)}`);
  }
  assert.equal(expNonPositive(0), 1);
  assert.equal(expNonPositive(-Infinity), 0);
  assert.ok(Number.isNaN(expNonPositive(NaN)));
});

test('log1pUnit: within 2 ulp of Math.log1p on [0, 1], tiny arguments to full relative accuracy', () => {
  const random = rng(12);
  let worst = 0;
  for (let i = 0; i < 400_000; i++) {
    const e = i % 3 === 0 ? random() : Math.exp(-random() * [5, 40, 700][i % 3]);
    worst = Math.max(worst, ulpsApart(log1pUnit(e), Math.log1p(e)));
  }
  assert.ok(worst <= 2, `worst ${worst} ulp`);
  for (const e of [0, 5e-324, 1e-300, 2 ** -53, 2 ** -52, 1 / 256, 1 - 2 ** -53, 1, 0.5, 0.25]) {
    assert.ok(ulpsApart(log1pUnit(e), Math.log1p(e)) <= 2, `e = ${e}: ${log1pUnit(e)} vs ${Math.log1p(e)}`);
  }
  assert.equal(log1pUnit(0), 0);
  assert.equal(log1pUnit(1), Math.LN2);
  assert.ok(Number.isNaN(log1pUnit(NaN)));
});

test('in Node (V8) the kernel calls the tables, not the library functions (math.ts: those only in SpiderMonkey)', () => {
  assert.equal(kernelMath.expNonPositive, kernelMath.expNonPositiveByTable);
  assert.equal(kernelMath.log1pUnit, kernelMath.log1pUnitByTable);
});
