// Bad-input fuzzing of the public API (every backend) and of the raw native binding: random wrong types,
// lengths, detached / resizable / shared buffers, hostile getters, NaN and huge option values, aliasing.
// Every call must either succeed, agreeing with the js backend run on copies of the same arguments, or throw
// a TypeError/RangeError that names fused-bce, with no output written. The process must not crash or hang.
// FUSED_BCE_FUZZ_RUNS sets the number of cases per backend (npm run fuzz runs many more).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as api from '../src/index';
import { availableBackends, useBackend } from '../src/index';
import { refElement, rng } from './helpers/reference';
import { focalElement } from './helpers/focal-reference';
import type { Convention } from './helpers/reference';
import { GetterError, arrayArg, flatten, floats, fuzzAgainstJs, isOurError, pick } from './helpers/fuzz';
import type { Case, Random } from './helpers/fuzz';

const RUNS = Number(process.env.FUSED_BCE_FUZZ_RUNS ?? 3000);
const SEED = Number(process.env.FUSED_BCE_FUZZ_SEED ?? 20261130);

function makeCase(random: Random): Case {
  const classes = pick(random, [1, 1, 2, 3, 7]);
  const n = classes * Math.floor(random() * 12);
  const logits = random() < 0.9 ? floats(random, n) : arrayArg(random, n, 'f32');
  const targets = arrayArg(random, n, 'targets');
  if (random() < 0.08) return { logits, targets, options: pick(random, [null, 'mean', 3, [], () => 0]), hostile: false };
  const options: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    options[key] = value;
  };
  if (random() < 0.5) set('labelSmoothing', pick(random, [0, 0.05, 0.1, -0.1, 0.5, 1, -8, NaN, Infinity, 'x', 2, 1e308, 2 ** -130, -9]));
  if (random() < 0.3) set('smoothing', pick(random, ['symmetric', 'uniform', 'keras', 1, null]));
  if (random() < 0.3) set('posWeight', random() < 0.7 ? floats(random, classes).map(Math.abs) : arrayArg(random, classes, 'f32'));
  if (random() < 0.3) set('weight', random() < 0.6 ? floats(random, random() < 0.5 ? n : classes) : arrayArg(random, n, 'f32'));
  if (random() < 0.5) set('reduction', pick(random, ['mean', 'sum', 'none', 'none', 'avg', 0, null]));
  if (random() < 0.3) set('gradOutput', random() < 0.5 ? pick(random, [1, 0.5, -2, NaN, Infinity]) : arrayArg(random, n, 'f32'));
  if (random() < 0.3) set('gradOut', pick(random, [() => new Float32Array(n), () => logits, () => targets, () => arrayArg(random, n, 'f32')])());
  if (random() < 0.2) set('lossOut', pick(random, [() => new Float32Array(n), () => logits, () => options.gradOut, () => arrayArg(random, n, 'f32')])());
  if (random() < 0.2) set('threads', pick(random, [1, 2, 'auto', 0, -1, 2.5, '2', 1e9, NaN]));
  if (random() < 0.25) {
    set('focal', pick(random, [{ gamma: 2 }, { gamma: 2, alpha: 0.25 }, { gamma: 0.5 }, { gamma: 0, alpha: 0.75 }, { gamma: 0 }, { gamma: 4.5, alpha: 1 },
      { gamma: -1 }, { gamma: NaN }, {}, { gamma: 2, alpha: 2 }, { gamma: 2, beta: 1 }, 'x', null, [2]]));
  }
  if (random() < 0.05) set(pick(random, ['labelsmoothing', 'pos_weight', 'out', 'dtype']), 1);
  let hostile = false;
  if (random() < 0.08) {
    hostile = true;
    const action = pick(random, ['throw', 'detach-logits', 'detach-targets']);
    Object.defineProperty(options, 'reduction', {
      enumerable: true,
      get() {
        if (action === 'throw') throw new GetterError('getter says no');
        const victim = (action === 'detach-logits' ? logits : targets) as ArrayBufferView;
        if (ArrayBuffer.isView(victim) && !(victim.buffer instanceof SharedArrayBuffer) && victim.buffer.byteLength > 0) {
          try {
            structuredClone(victim.buffer, { transfer: [victim.buffer as ArrayBuffer] });
          } catch {
            // a resizable buffer or one already detached
          }
        }
        return 'mean';
      },
    });
  }
  return { logits, targets, options, hostile };
}

const ENTRIES = ['bceWithLogits', 'bceWithLogitsBackward', 'bceWithLogitsFused', 'bceWithLogitsFusedAsync', 'module'] as const;
type Entry = (typeof ENTRIES)[number];

async function call(entry: Entry, c: Case): Promise<unknown> {
  const { logits, targets, options } = c as { logits: Float32Array; targets: Float32Array; options: api.FusedOptions };
  switch (entry) {
    case 'bceWithLogits': {
      const o = options !== null && typeof options === 'object' ? { ...options } : options;
      if (o && typeof o === 'object') { delete (o as Record<string, unknown>).gradOut; delete (o as Record<string, unknown>).gradOutput; }
      return api.bceWithLogits(logits, targets, o as api.ForwardOptions);
    }
    case 'bceWithLogitsBackward': {
      const o = options !== null && typeof options === 'object' ? { ...options } : options;
      if (o && typeof o === 'object') delete (o as Record<string, unknown>).lossOut;
      return api.bceWithLogitsBackward(logits, targets, o as api.BackwardOptions);
    }
    case 'bceWithLogitsFused':
      return api.bceWithLogitsFused(logits, targets, options);
    case 'bceWithLogitsFusedAsync':
      return await api.bceWithLogitsFusedAsync(logits, targets, options);
    case 'module': {
      const { gradOut: _g, lossOut: _l, gradOutput: _u, ...rest } = (options !== null && typeof options === 'object' ? options : {}) as Record<string, unknown>;
      const m = new api.BCEWithLogitsLoss(rest as api.LossOptions);
      return { loss: m.forward(logits, targets), grad: m.backward() };
    }
  }
}

// Two backends each within 4 units of the truth (the accuracy bound: 2^-24 times the magnitude of the terms, see
// test/helpers/bounds.ts) agree within 8 of those units. Measured in units of the terms, not of the result, since
// a gradient whose terms cancel (sigmoid(x) near y') is small beside the roundings of its terms.
function agree(a: number, b: number, scale: Scale): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  // (The floor, as in bounds.ts: a subnormal e^-|x| rounds to 2^-149 before the factors that follow scale it.)
  return Math.abs(a - b) <= 8 * Math.max(2 ** -24 * scale.magnitude, 2 ** -149 * Math.max(1, scale.floor));
}

interface Scale {
  /** The sum of the magnitudes of the value's terms. */
  magnitude: number;
  /** What scales a subnormal e^-|x|'s rounding: |w * upstream| * max(1, expFactor), summed for a reduction. */
  floor: number;
}

// The magnitude of the terms of each value a successful call returns, in the order flatten() lists them, from an
// independent float64 reference of each element (test/helpers/reference.ts) and the call's options.
function magnitudes(entry: Entry, c: Case, result: unknown): Scale[] {
  const logits = c.logits as Float32Array;
  const targets = c.targets as Float32Array | Uint8Array;
  const options = (c.options !== null && typeof c.options === 'object' ? c.options : {}) as Record<string, unknown>;
  const n = logits.length;
  const a = (options.labelSmoothing as number | undefined) ?? 0;
  const convention = (options.smoothing as Convention | undefined) ?? 'symmetric';
  const posWeight = options.posWeight as Float32Array | undefined;
  const weight = options.weight as Float32Array | undefined;
  const classes = posWeight !== undefined ? posWeight.length : weight !== undefined && weight.length !== n ? weight.length : 1;
  const reduction = (options.reduction as string | undefined) ?? 'mean';
  const upstream = entry === 'bceWithLogits' || entry === 'module' ? undefined : options.gradOutput as number | Float32Array | undefined;
  const lossScale: Scale[] = [];
  const gradScale: Scale[] = [];
  for (let i = 0; i < n; i++) {
    const p = posWeight === undefined ? 1 : posWeight[i % classes];
    const w = weight === undefined ? 1 : weight[weight.length === n ? i : i % classes];
    const focal = options.focal as { gamma: number; alpha?: number } | undefined;
    const focalActive = focal !== undefined && (focal.gamma > 0 || focal.alpha !== undefined);  // { gamma: 0 } is BCE
    const r = !focalActive ? refElement(logits[i], targets[i], a, convention, p, w)
      : { ...focalElement(logits[i], targets[i], a, convention, focal!.gamma, focal!.alpha ?? -1, p, w), expFactor: 1 };
    const u = upstream === undefined ? 1 : typeof upstream === 'number' ? upstream : upstream[i];
    const divisor = reduction === 'mean' ? n : 1;
    // (an element masked by alpha_t = 0 counts for nothing, even with a NaN weight)
    const masked = focalActive && r.lossMagnitude === 0 && r.gradMagnitude === 0 && r.loss === 0;
    lossScale.push({ magnitude: r.lossMagnitude, floor: masked ? 0 : Math.abs(w) * Math.max(1, r.expFactor) });
    gradScale.push({ magnitude: r.gradMagnitude * Math.abs(u) / divisor, floor: masked ? 0 : Math.abs(w * u) * Math.max(1, r.expFactor) / divisor });
  }
  const total = (key: keyof Scale) => lossScale.reduce((sum, x) => sum + x[key], 0) / (reduction === 'mean' ? n : 1);
  const loss = reduction === 'none' ? lossScale : [{ magnitude: total('magnitude'), floor: total('floor') }];
  const shaped = entry === 'bceWithLogits' ? loss : entry === 'bceWithLogitsBackward' ? gradScale : [...loss, ...gradScale];
  assert.equal(shaped.length, flatten(result).length, 'one scale per value');
  return shaped;
}

for (const b of availableBackends().filter((x) => x.name !== 'js')) {
  test(`fuzz: the public API on ${b.name}/${b.isa} agrees with js or throws a clear TypeError/RangeError (${RUNS} cases)`, () => fuzzAgainstJs({
    backend: b, runs: RUNS, seed: SEED + (b.isa?.length ?? 0), entries: ENTRIES, makeCase, call, magnitudes, agree,
    sameMessage: false, useBackend, rng,
  }));
}

test(`fuzz: the raw native binding throws TypeError/RangeError or succeeds (${RUNS * 4} calls)`, { skip: !availableBackends().some((x) => x.name === 'native') && 'no native build' }, async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require('node-gyp-build')(join(__dirname, '..', '..')) as {
    passes: Record<string, (...args: unknown[]) => number>;
    passesAsync: Record<string, (...args: unknown[]) => Promise<number>>;
    passesUnweighted: Record<string, (...args: unknown[]) => number>;
  };
  const random = rng(SEED + 1);
  const isas = Object.keys(binding.passes);
  for (let k = 0; k < RUNS * 4; k++) {
    const classes = pick(random, [1, 1, 2, 3, 0, -1, 1.5, NaN, 2 ** 53, Infinity]);
    const c = Number.isInteger(classes) && classes >= 1 ? Math.min(classes, 7) : 1;
    const n = c * Math.floor(random() * 10);
    const params = random() < 0.9
      ? Float64Array.of(classes, pick(random, [1, 0.9, -17, NaN, Infinity]), pick(random, [0, 0.05, -8, NaN]),
        pick(random, [1, 1 / 3, NaN, -Infinity, 1e300, 1e-300]), pick(random, [0, 1, 2, 3, 16, 1024, 1025, -1, 0.5, NaN]),
        pick(random, [0, 1, 1, 2, NaN]), pick(random, [-1, -1, -1, 0, 2, 0.5, NaN, -3, Infinity]), pick(random, [-1, 0.25, 1, 2, NaN]), 0, -1)
      : pick(random, [null, new Float64Array(3), new Float32Array(10), [1, 1, 0, 1, 0, 1, -1, -1, 0, -1], 10]);
    const args: unknown[] = [
      random() < 0.8 ? floats(random, n) : arrayArg(random, n, 'f32'),
      arrayArg(random, n, 'targets'),
      random() < 0.6 ? null : arrayArg(random, c, 'f32'),
      random() < 0.6 ? null : arrayArg(random, random() < 0.5 ? n : c, 'f32'),
      random() < 0.5 ? null : arrayArg(random, n, 'f32'),
      random() < 0.3 ? null : arrayArg(random, n, 'f32'),
      random() < 0.7 ? null : arrayArg(random, n, 'f32'),
      params,
    ];
    if (random() < 0.1) args.length = Math.floor(random() * 8);
    const isAsync = random() < 0.25;
    // A quarter of the sync calls go to the four-argument entry point (logits, targets, gradOut, params).
    const common = !isAsync && random() < 0.25;
    const fn = (isAsync ? binding.passesAsync : common ? binding.passesUnweighted : binding.passes)[pick(random, isas)];
    try {
      const r = await fn(...(common ? (args.length === 8 ? [args[0], args[1], args[5], args[7]] : args.slice(0, 4)) : args));
      assert.ok(isAsync ? typeof r === 'number' : r === undefined, `call ${k}: result ${String(r)}`);
    } catch (err) {
      assert.ok((err instanceof TypeError || err instanceof RangeError) && /^fused-bce/.test(err.message), `call ${k}: ${String(err)}`);
    }
  }
});
