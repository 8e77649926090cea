// Float64 e^t and log1p for the TypeScript kernel, table-driven like the C++ kernel's (native/kernel/bce_math.inl):
// in V8, Math.exp and Math.log1p call out to library code, and these cost about half as much. Each is within
// 2 ulp (float64) of V8's Math.exp / Math.log1p (test/math-js.test.ts), far below the float32 rounding that
// follows: the kernel's float32 results are those of the library functions except where a value lies within
// about 2^-51 (relative) of a float32 rounding boundary. Tables: src/generated/math-tables.ts (native/tools/gen_js_tables.py).
// In SpiderMonkey (Firefox) it is the other way round, and the kernel calls the library there (see the end).
import { EXP2_STEPS, INVERSE_POINTS, LOG_POINTS, POINTS } from '../../generated/math-tables';

// ln 2 / 256 as hi + lo: hi has 32 significant bits, so k * hi is exact for |k| < 2^21 (fdlibm's split of ln 2).
const LN2_STEP_HI = 6.93147180369123816490e-01 / 256;
const LN2_STEP_LO = 1.90821492927058770002e-10 / 256;
const STEPS_OVER_LN2 = 256 / Math.LN2;
// Adding and subtracting 1.5 * 2^52 rounds a double of magnitude below 2^51 to an integer (ties to even).
const ROUND_MAGIC = 6755399441055744;

// 2^m for m = -1022..0, exact (powers of two in the normal range).
const POW2 = new Float64Array(1023);
POW2[1022] = 1;
for (let m = 1021; m >= 0; m--) POW2[m] = POW2[m + 1] / 2;

/**
 * e^t for t <= 0 (and NaN, -inf). t = k ln2/256 + r with |r| <= ln2/512: e^t = 2^(k >> 8) * 2^((k & 255)/256) * e^r,
 * e^r - 1 by its Taylor polynomial to r^4 (truncation below 3.8e-17 relative, 0.2 ulp; to r^5 the call took 0.4 ns
 * more per element in V8). Below -708 (results near or in the subnormal range) and for NaN, Math.exp.
 */
export function expNonPositiveByTable(t: number): number {
  if (!(t >= -708)) return Math.exp(t);
  const k = t * STEPS_OVER_LN2 + ROUND_MAGIC - ROUND_MAGIC;
  const r = t - k * LN2_STEP_HI - k * LN2_STEP_LO;
  const expm1 = r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24))));
  const table = EXP2_STEPS[k & 255];
  return (table + table * expm1) * POW2[(k >> 8) + 1022];
}

/**
 * log1p(e) for e in [0, 1] (NaN propagates). u = 1 + e rounded, with its rounding error e - (u - 1) exactly;
 * log(u) = log(c_j) + log1p(r) with c_j = 1 + j/512 <= u < c_j + 1/512 and r = (u - c_j) / c_j in [0, 1/512),
 * log1p(r) by its Taylor polynomial to r^6 (truncation below 8e-18 relative, under 0.1 ulp); then + (rounding error) /
 * u. For small e (j = 0) c_j is 1 and r is u - 1 exactly, so tiny arguments keep their relative accuracy. (Against
 * 256 points to r^7 with c_j formed by a division: 1.3 ns less per element in V8, about a tenth of the js fallback.)
 */
export function log1pUnitByTable(e: number): number {
  const u = 1 + e;
  const j = ((u - 1) * 512) | 0;
  const lost = e - (u - 1);
  const inverse = INVERSE_POINTS[j];
  const r = (u - POINTS[j]) * inverse;
  const series = r * (1 + r * (-1 / 2 + r * (1 / 3 + r * (-1 / 4 + r * (1 / 5 + r * (-1 / 6))))));
  return LOG_POINTS[j] + series + lost * inverse;
}

/**
 * What the kernel calls: the tables above, or the engine's Math.exp and Math.log1p where those are the faster. Per
 * element, 64K values (AMD EPYC Zen 5): in Node 20's V8 the table exp takes 3.6 ns against Math.exp's 7.9 and log1p
 * ties (4.7); in Firefox 153 ESR's SpiderMonkey Math.exp takes 6.0 ns against the table's 13.4 and Math.log1p 5.7
 * against 15.0, enough to put the js fallback at 0.7x a hand-written loop there. Chosen once per engine, by a rule
 * (SpiderMonkey is the engine with the non-standard global InternalError) rather than a timing, so that an engine
 * always gives the same bits.
 */
const LIBRARY_IS_FASTER = typeof (globalThis as { InternalError?: unknown }).InternalError === 'function';
export const expNonPositive: (t: number) => number = LIBRARY_IS_FASTER ? Math.exp : expNonPositiveByTable;
export const log1pUnit: (e: number) => number = LIBRARY_IS_FASTER ? Math.log1p : log1pUnitByTable;

// The loops' first pass over a chunk (as the C++ kernel's runSpan with kExpFirst): e^-|x| of logits[begin, end) into
// expFirst, then the rest from it. One element's work is a long chain of dependent operations; split in two, the
// loops overlap more of them.
export const EXP_CHUNK = 1024;
export const expFirst = new Float64Array(EXP_CHUNK);

export function expFirstPass(logits: Float32Array, begin: number, end: number): void {
  for (let i = begin; i < end; i++) expFirst[i - begin] = expNonPositive(-Math.abs(logits[i]));
}
