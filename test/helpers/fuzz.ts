// What the bad-input fuzz suites share (test/fuzz-inputs.test.ts for BCE, test/fuzz-ce.test.ts for softmax
// cross-entropy): random typed arrays right and wrong, copies that keep aliasing, snapshots of every array a case
// reaches, the test of an error's kind, and the loop that holds a backend to js (fuzzAgainstJs).
import assert from 'node:assert/strict';

export class GetterError extends Error {}

export type Random = () => number;
export const pick = <T>(random: Random, xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];

export function detachedFloat32(): Float32Array {
  const a = new Float32Array(4);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

export function floats(random: Random, n: number): Float32Array {
  const special = [NaN, Infinity, -Infinity, 0, -0, 3.4e38, -3.4e38, 1e-45];
  return Float32Array.from({ length: n }, () => (random() < 0.05 ? pick(random, special) : (random() - 0.5) * 20));
}

/** A value for an array argument of expected length n: usually right, often wrong in one way. */
export function arrayArg(random: Random, n: number, kind: 'f32' | 'targets'): unknown {
  const r = random();
  if (r < 0.55) {
    if (kind === 'targets' && random() < 0.5) return Uint8Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    return floats(random, n);
  }
  const weird: (() => unknown)[] = [
    () => new Float32Array(n + 1),
    () => new Float32Array(Math.max(0, n - 1)),
    () => Uint8Array.from({ length: n }, () => (random() < 0.1 ? 2 + Math.floor(random() * 250) : 1)),
    () => new Float64Array(n),
    () => new Int8Array(n),
    () => new DataView(new ArrayBuffer(4 * n)),
    () => new BigInt64Array(n),
    () => Array.from({ length: n }, () => 0.5),
    () => 'logits',
    () => 42,
    () => NaN,
    () => null,
    () => undefined,
    () => ({ length: n }),
    () => Symbol('x'),
    () => () => 1,
    () => detachedFloat32(),
    () => new Float32Array(new (ArrayBuffer as unknown as new (size: number, options: object) => ArrayBuffer)(4 * n, { maxByteLength: 8 * n + 8 })),
    () => new Float32Array(new SharedArrayBuffer(4 * n)),
    () => {
      const big = floats(random, n + 3);
      return big.subarray(1, 1 + n); // misaligned view, valid
    },
  ];
  return pick(random, weird)();
}

/** One fuzz case: the arguments, and whether a hostile getter acts during the call. */
export interface Case {
  logits: unknown;
  targets: unknown;
  options: Record<string, unknown> | unknown;
  hostile: boolean;
}

// Copies of the arguments for the js run, keeping aliasing (gradOut === logits stays so).
export function cloneCase(c: Case): Case {
  const seen = new Map<unknown, unknown>();
  const copy = (v: unknown): unknown => {
    if (!ArrayBuffer.isView(v) || v instanceof DataView) return v;
    if (!seen.has(v)) {
      const t = v as Float32Array;
      let clone: unknown;
      try {
        const buffer = t.buffer as ArrayBuffer & { resizable?: boolean; maxByteLength?: number };
        if (buffer.resizable === true) {
          // Keep the kind of buffer: it decides what an asynchronous call accepts.
          const copyBuffer = new (ArrayBuffer as unknown as new (size: number, options: object) => ArrayBuffer)(t.byteLength, { maxByteLength: buffer.maxByteLength });
          const typed = new (t.constructor as Float32ArrayConstructor)(copyBuffer);
          typed.set(t);
          clone = typed;
        } else {
          clone = t.buffer.byteLength === 0 && t.length === 0 ? v : t.slice();
        }
      } catch {
        clone = v;
      }
      seen.set(v, clone);
    }
    return seen.get(v);
  };
  const options = c.options !== null && typeof c.options === 'object' && !Array.isArray(c.options)
    ? Object.fromEntries(Object.entries(c.options as Record<string, unknown>).map(([k, v]) => [k, copy(v)]))
    : c.options;
  return { logits: copy(c.logits), targets: copy(c.targets), options, hostile: c.hostile };
}

// Every typed array reachable from a case, with a copy of its bytes, to check that an error wrote nothing.
export function snapshot(c: Case): [ArrayBufferView, Uint8Array][] {
  const views = new Set<ArrayBufferView>();
  // Data properties only: reading a hostile getter here would act before the call under test.
  const optionValues = c.options && typeof c.options === 'object' ? Object.values(Object.getOwnPropertyDescriptors(c.options)).map((d) => d.value) : [];
  for (const v of [c.logits, c.targets, ...optionValues]) {
    if (ArrayBuffer.isView(v)) views.add(v);
  }
  const bytes = (v: ArrayBufferView) => (v.buffer.byteLength === 0 ? new Uint8Array(0) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice());
  return [...views].map((v) => [v, bytes(v)]);
}

export function unchanged(shot: [ArrayBufferView, Uint8Array][]): boolean {
  return shot.every(([v, bytes]) => {
    if (v.buffer.byteLength === 0) return true; // detached by a hostile getter: nothing to compare
    const now = new Uint8Array(v.buffer, v.byteOffset, Math.min(v.byteLength, bytes.length));
    return now.every((b, i) => b === bytes[i]);
  });
}

export function flatten(result: unknown): number[] {
  if (typeof result === 'number') return [result];
  if (result instanceof Float32Array) return Array.from(result);
  if (result && typeof result === 'object') return Object.values(result as object).flatMap(flatten);
  return [];
}

export function describeCase(c: Case): string {
  const show = (v: unknown) => {
    if (!ArrayBuffer.isView(v)) return String(v);
    const buffer = v.buffer as ArrayBuffer & { resizable?: boolean };
    const kind = `${v.constructor.name}${buffer.byteLength === 0 ? ' (detached or empty)' : ''}${buffer.resizable ? ' (resizable)' : ''}`;
    return v instanceof DataView || buffer.byteLength === 0 ? kind : `${kind}(${Array.from(v as Float32Array).join(', ')})`;
  };
  const options = c.options && typeof c.options === 'object' ? Object.entries(c.options as object).map(([key, v]) => `${key}: ${show(v)}`).join('; ') : show(c.options);
  return `  logits ${show(c.logits)}\n  targets ${show(c.targets)}\n  options ${options}`;
}

export function isOurError(err: unknown): boolean {
  return (err instanceof TypeError || err instanceof RangeError) && /^fused-bce: /.test(err.message);
}

/** What one fuzz suite supplies to fuzzAgainstJs. */
export interface FuzzSuite<E, M> {
  /** The backend under test (selected with useBackend for its calls, js for the reference). */
  backend: { name: 'js' | 'native' | 'wasm'; isa: string | null };
  runs: number;
  seed: number;
  entries: readonly E[];
  makeCase(random: Random): Case;
  call(entry: E, c: Case): Promise<unknown>;
  /** The scale of each value of a successful call (flatten() order), and whether two values agree at it. */
  magnitudes(entry: E, c: Case, result: unknown): M[];
  agree(a: number, b: number, scale: M): boolean;
  /** Whether a rejection must carry js's message too (not only its kind). */
  sameMessage: boolean;
  useBackend(name: 'js' | 'native' | 'wasm' | 'auto', isa?: string): unknown;
  rng(seed: number): Random;
}

/**
 * The bad-input fuzz loop: each case runs on js (on copies) and on the backend; the backend must agree with js or
 * throw a fused-bce TypeError/RangeError where js throws, with no output written. Both outcomes must be exercised.
 */
export async function fuzzAgainstJs<E, M>(s: FuzzSuite<E, M>): Promise<void> {
  const random = s.rng(s.seed);
  const b = s.backend;
  let succeeded = 0;
  let rejected = 0;
  try {
    for (let k = 0; k < s.runs; k++) {
      const entry = pick(random, s.entries);
      const c = s.makeCase(random);
      let jsResult: unknown;
      let jsError: unknown;
      if (!c.hostile) {
        // Hostile getters act on the originals: those cases are only checked for the kind of outcome.
        s.useBackend('js');
        try {
          jsResult = await s.call(entry, cloneCase(c));
        } catch (err) {
          jsError = err;
        }
      }
      s.useBackend(b.name, b.isa ?? undefined);
      const inputs = c.hostile ? c : cloneCase(c); // (an in-place gradient overwrites the logits)
      const shot = snapshot(c);
      const before = c.hostile ? '' : describeCase(c); // outputs may alias inputs: describe them before the call
      let result: unknown;
      let error: unknown;
      try {
        result = await s.call(entry, c);
      } catch (err) {
        error = err;
      }
      const where = `case ${k} (${String(entry)}, seed ${s.seed})`;
      if (error !== undefined) {
        rejected++;
        if (!(error instanceof GetterError)) assert.ok(isOurError(error), `${where}: ${String(error)} is not a fused-bce TypeError/RangeError`);
        assert.ok(unchanged(shot), `${where}: an output was written before the error ${String(error)}`);
        if (!c.hostile) {
          if (jsError === undefined) assert.fail(`${where}: ${b.name} threw ${String(error)}, js did not\n${before}`);
          if (s.sameMessage) assert.equal((error as Error).message, (jsError as Error).message, `${where}: the same message as js`);
        }
        continue;
      }
      succeeded++;
      if (c.hostile) continue;
      if (jsError !== undefined) assert.fail(`${where}: js threw ${String(jsError)}, ${b.name} did not\n${before}`);
      const [got, expected] = [flatten(result), flatten(jsResult)];
      assert.equal(got.length, expected.length, `${where}: result shapes differ`);
      const scale = s.magnitudes(entry, inputs, result);
      for (let i = 0; i < got.length; i++) {
        if (!s.agree(got[i], expected[i], scale[i])) assert.fail(`${where}: value ${i}: ${b.name} ${got[i]} vs js ${expected[i]}\n${before}`);
      }
    }
  } finally {
    s.useBackend('auto');
  }
  assert.ok(succeeded > s.runs / 10 && rejected > s.runs / 10, `both outcomes are exercised: ${succeeded} succeeded, ${rejected} rejected`);
}
