// Bad-input fuzzing of softmax cross-entropy's public API on every backend and of the raw native binding: class
// indices out of range or negative, wrong index types, NaN probabilities, lengths that are not a multiple of the
// classes, overlapping outputs, detached / resizable / shared buffers, hostile getters, wrong option values.
// Every call must either succeed, agreeing with the js backend run on copies of the same arguments (8 units of its
// values' term magnitudes), or throw the same kind of fused-bce TypeError/RangeError as js does, with no output
// written. FUSED_BCE_FUZZ_RUNS sets the number of cases per backend (npm run fuzz runs many more).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as api from '../src/index';
import { availableBackends, useBackend } from '../src/index';
import { rng } from './helpers/reference';
import { GetterError, arrayArg, flatten, floats, fuzzAgainstJs, isOurError, pick } from './helpers/fuzz';
import type { Case, Random } from './helpers/fuzz';
import { ceRowReference } from './helpers/ce-reference';

const RUNS = Number(process.env.FUSED_BCE_FUZZ_RUNS ?? 3000);
const SEED = Number(process.env.FUSED_BCE_FUZZ_SEED ?? 20261130) + 7;

// Class targets for `rows` rows of `classes`: usually right, often wrong in one way.
function targetsArg(random: Random, rows: number, classes: number, ignoreIndex: number): unknown {
  const r = random();
  const index = () => (random() < 0.1 ? ignoreIndex : Math.floor(random() * classes));
  if (r < 0.3) return Int32Array.from({ length: rows }, index);
  if (r < 0.4) return Uint16Array.from({ length: rows }, () => Math.max(0, index()));
  if (r < 0.5) return Uint8Array.from({ length: rows }, () => Math.max(0, Math.min(255, index())));
  if (r < 0.65) {
    return Float32Array.from({ length: rows * classes }, () => (random() < 0.03 ? pick(random, [NaN, -1, 2, Infinity]) : random()));
  }
  const weird: (() => unknown)[] = [
    () => Int32Array.from({ length: rows }, () => pick(random, [-1, classes, classes + 100, -100, 2 ** 31 - 1, -(2 ** 31)])),
    () => Int32Array.from({ length: rows + 1 }, index),
    () => new Int32Array(Math.max(0, rows - 1)),
    () => new Float32Array(rows * classes + 1),
    () => new Float64Array(rows),
    () => new Int16Array(rows),
    () => Array.from({ length: rows }, index),
    () => arrayArg(random, rows, 'targets'),
  ];
  return pick(random, weird)();
}

function makeCase(random: Random): Case {
  const classes = pick(random, [1, 2, 3, 7, 10, 40, 100]);
  const rows = Math.floor(random() * 6);
  const n = classes * rows;
  const ignoreIndex = pick(random, [-100, -100, 255, 2]);
  const logits = random() < 0.9 ? floats(random, random() < 0.05 ? n + 1 : n) : arrayArg(random, n, 'f32');
  const targets = targetsArg(random, rows, classes, ignoreIndex);
  if (random() < 0.05) return { logits, targets, options: pick(random, [undefined, null, 'mean', 3, [], () => 0]), hostile: false };
  const options: Record<string, unknown> = {};
  if (random() < 0.95) options.classes = random() < 0.9 ? classes : pick(random, [0, -1, 2.5, NaN, '10', null, classes + 1]);
  if (ignoreIndex !== -100 || random() < 0.1) options.ignoreIndex = random() < 0.9 ? ignoreIndex : pick(random, [1.5, NaN, 'x', null]);
  if (random() < 0.5) options.labelSmoothing = pick(random, [0, 0.1, 0.1, 1, -0.1, 2, NaN, 'x']);
  if (random() < 0.3) options.weight = random() < 0.7 ? floats(random, classes).map(Math.abs) : arrayArg(random, classes, 'f32');
  if (random() < 0.5) options.reduction = pick(random, ['mean', 'sum', 'none', 'none', 'avg', 0]);
  if (random() < 0.3) options.gradOutput = random() < 0.5 ? pick(random, [1, 0.5, -2, NaN, Infinity]) : arrayArg(random, rows, 'f32');
  if (random() < 0.3) options.gradOut = pick(random, [() => new Float32Array(n), () => logits, () => targets, () => arrayArg(random, n, 'f32')])();
  if (random() < 0.2) options.lossOut = pick(random, [() => new Float32Array(rows), () => logits, () => options.gradOut, () => arrayArg(random, rows, 'f32')])();
  if (random() < 0.2) options.threads = pick(random, [1, 2, 'auto', 0, -1, 2.5, NaN]);
  if (random() < 0.05) options[pick(random, ['label_smoothing', 'ignore_index', 'smoothing', 'posWeight'])] = 1;
  let hostile = false;
  if (random() < 0.06) {
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

const ENTRIES = ['crossEntropy', 'crossEntropyBackward', 'crossEntropyFused', 'crossEntropyFusedAsync', 'module'] as const;
type Entry = (typeof ENTRIES)[number];

function without(options: unknown, ...keys: string[]): unknown {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return options;
  const o = { ...(options as Record<string, unknown>) };
  for (const k of keys) delete o[k];
  return o;
}

async function call(entry: Entry, c: Case): Promise<unknown> {
  const logits = c.logits as Float32Array;
  const targets = c.targets as api.ClassTargets;
  switch (entry) {
    case 'crossEntropy': return api.crossEntropy(logits, targets, without(c.options, 'gradOut', 'gradOutput') as api.CrossEntropyForwardOptions);
    case 'crossEntropyBackward': return api.crossEntropyBackward(logits, targets, without(c.options, 'lossOut') as api.CrossEntropyBackwardOptions);
    case 'crossEntropyFused': return api.crossEntropyFused(logits, targets, c.options as api.CrossEntropyFusedOptions);
    case 'crossEntropyFusedAsync': return await api.crossEntropyFusedAsync(logits, targets, c.options as api.CrossEntropyFusedOptions);
    case 'module': {
      const m = new api.CrossEntropyLoss(without(c.options, 'gradOut', 'lossOut', 'gradOutput') as api.CrossEntropyOptions);
      return { loss: m.forward(logits, targets), grad: m.backward() };
    }
  }
}

// The magnitude of the terms of each value of a successful call (flatten() order), from the float64 reference.
function magnitudes(entry: Entry, c: Case, result: unknown): number[] {
  const o = c.options as Record<string, unknown>;
  const logits = c.logits as Float32Array;
  const classes = o.classes as number;
  const rows = logits.length / classes;
  const probabilities = c.targets instanceof Float32Array ? c.targets : null;
  const indices = probabilities === null ? (c.targets as api.ClassIndices) : null;
  const eps = (o.labelSmoothing as number | undefined) ?? 0;
  const weight = (o.weight as Float32Array | undefined) ?? null;
  const ignoreIndex = (o.ignoreIndex as number | undefined) ?? -100;
  const reduction = (o.reduction as string | undefined) ?? 'mean';
  const upstream = entry === 'crossEntropy' || entry === 'module' ? undefined : (o.gradOutput as number | Float32Array | undefined);
  let divisor = 1;
  if (reduction === 'mean') {
    divisor = rows;
    if (indices !== null) {
      divisor = 0;
      for (const y of indices) if (y !== ignoreIndex) divisor += weight === null ? 1 : weight[y];
    }
  }
  const lossMagnitudes: number[] = [];
  const gradMagnitudes: number[] = [];
  for (let r = 0; r < rows; r++) {
    const ignored = indices !== null && indices[r] === ignoreIndex;
    const ref = ceRowReference(logits.subarray(r * classes, (r + 1) * classes), classes, indices === null ? null : indices[r],
      probabilities === null ? null : probabilities.subarray(r * classes, (r + 1) * classes), eps, weight);
    const u = upstream === undefined ? 1 : typeof upstream === 'number' ? upstream : upstream[r];
    lossMagnitudes.push(ignored ? 0 : ref.lossMagnitude);
    for (let k = 0; k < classes; k++) gradMagnitudes.push(ignored ? 0 : (ref.gradMagnitude[k] * Math.abs(u)) / Math.abs(divisor));
  }
  const loss = reduction === 'none' ? lossMagnitudes : [lossMagnitudes.reduce((s, v) => s + v, 0) / Math.abs(divisor)];
  const shaped = entry === 'crossEntropy' ? loss : entry === 'crossEntropyBackward' ? gradMagnitudes : [...loss, ...gradMagnitudes];
  assert.equal(shaped.length, flatten(result).length, 'one magnitude per value');
  return shaped;
}

// Two backends each within 4 units of the truth agree within 8 (units of the value's term magnitudes; the floor
// for subnormal results).
function agree(a: number, b: number, magnitude: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(magnitude)) return false;
  return Math.abs(a - b) <= 8 * Math.max(2 ** -24 * magnitude, 2 ** -149);
}

for (const b of availableBackends().filter((x) => x.name !== 'js')) {
  test(`fuzz: softmax cross-entropy on ${b.name}/${b.isa} agrees with js or throws a clear TypeError/RangeError (${RUNS} cases)`, () => fuzzAgainstJs({
    backend: b, runs: RUNS, seed: SEED + (b.isa?.length ?? 0), entries: ENTRIES, makeCase, call, magnitudes, agree,
    sameMessage: true, useBackend, rng,
  }));
}

test(`fuzz: the raw native cross-entropy binding throws TypeError/RangeError or succeeds (${RUNS * 2} calls)`, { skip: !availableBackends().some((x) => x.name === 'native') && 'no native build' }, async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require('node-gyp-build')(join(__dirname, '..', '..')) as {
    cePasses: Record<string, (...args: unknown[]) => undefined>;
    cePassesAsync: Record<string, (...args: unknown[]) => Promise<number>>;
    cePassesUnweighted: Record<string, (...args: unknown[]) => undefined>;
  };
  const random = rng(SEED + 1);
  const isas = Object.keys(binding.cePasses);
  for (let k = 0; k < RUNS * 2; k++) {
    const classes = pick(random, [1, 2, 3, 10, 40, 0, -1, 1.5, NaN, 2 ** 53, Infinity]);
    const c = Number.isInteger(classes) && classes >= 1 ? Math.min(classes, 40) : 1;
    const rows = Math.floor(random() * 5);
    const n = c * rows;
    const params = random() < 0.9
      ? Float64Array.of(classes, pick(random, [0, 0.1, 1, -0.1, 2, NaN]), pick(random, [-100, 255, 1.5, NaN, 1e300]),
        pick(random, [1, 1 / 3, NaN, -Infinity, 1e300]), pick(random, [0, 1, 2, 1024, 1025, -1, 0.5, NaN]),
        pick(random, [0, 1, 1, 2, NaN]), pick(random, [0, 1, 2]), 0, 0, -1)
      : pick(random, [null, new Float64Array(3), new Float32Array(10), 8]);
    const args: unknown[] = [
      random() < 0.8 ? floats(random, n) : arrayArg(random, n, 'f32'),
      targetsArg(random, rows, c, -100),
      random() < 0.6 ? null : arrayArg(random, c, 'f32'),
      random() < 0.5 ? null : arrayArg(random, rows, 'f32'),
      random() < 0.3 ? null : arrayArg(random, n, 'f32'),
      random() < 0.7 ? null : arrayArg(random, rows, 'f32'),
      params,
    ];
    // a quarter of the synchronous calls through the four-argument entry point (logits, targets, gradOut, params)
    const common = random() < 0.25;
    if (common) args.splice(2, 2), args.splice(3, 1);
    if (random() < 0.1) args.length = Math.floor(random() * (common ? 4 : 7));
    const isAsync = !common && random() < 0.25;
    const fn = (isAsync ? binding.cePassesAsync : common ? binding.cePassesUnweighted : binding.cePasses)[pick(random, isas)];
    try {
      const r = await fn(...args);
      assert.ok(isAsync ? typeof r === 'number' : r === undefined, `call ${k}: result ${String(r)}`);
    } catch (err) {
      assert.ok((err instanceof TypeError || err instanceof RangeError) && /^fused-bce/.test(err.message), `call ${k}: ${String(err)}`);
    }
  }
});
