// An independent float64 reference for the tests, written in a different form from the kernels:
// loss = w * ((1 - y') softplus(x) + p y' softplus(-x)), grad = w * ((1 - y') sigmoid(x) - p y' sigmoid(-x)).
// Infinite logits take their limits (a zero coefficient times an infinite softplus is 0).

export type Convention = 'symmetric' | 'uniform';

export function smoothed(y: number, a: number, convention: Convention): number {
  return convention === 'uniform' ? y * (1 - a) + a / 2 : y * (1 - 2 * a) + a;
}

export function softplus(z: number): number {
  if (z > 0) return z + Math.log1p(Math.exp(-z));
  return Math.log1p(Math.exp(z));
}

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export interface RefElement {
  loss: number;
  /** |first term| + |second term| of the loss, the scale of its rounding error (times |w|). */
  lossMagnitude: number;
  /** d loss / d x for an upstream gradient of 1 (before reduction). */
  grad: number;
  /** max(|sigmoid(x) (1 - y' + p y')|, |p y'|) * |w| for y' in [0, 1] (their sum outside), the scale of the gradient's rounding error. */
  gradMagnitude: number;
  /** |1 - y'| + |p y'|: what multiplies e^-|x| in the gradient (scales its subnormal rounding). */
  expFactor: number;
}

export function refElement(x: number, y: number, a: number, convention: Convention, p = 1, w = 1): RefElement {
  const ys = smoothed(y, a, convention);
  // 1 - y' equals the smoothed value of 1 - y in both conventions (they are symmetric about 1/2); this keeps
  // it exact where 1 - ys would round (tiny or subnormal smoothing rates).
  const neg = smoothed(1 - y, a, convention);
  const pos = p * ys;
  const t1 = neg === 0 ? 0 : neg * softplus(x);
  const t2 = pos === 0 ? 0 : pos * softplus(-x);
  const s = sigmoid(x);
  const g1 = neg * s;
  const g2 = pos * (1 - s);
  if (w === 0) return { loss: 0, lossMagnitude: 0, grad: 0, gradMagnitude: 0, expFactor: 0 };
  return {
    loss: w * (t1 + t2),
    lossMagnitude: Math.abs(w) * (Math.abs(t1) + Math.abs(t2)),
    grad: w * (g1 - g2),
    // For y' in [0, 1] the two gradient terms have the same sign and the result is at most their max; outside,
    // they add, and the bound scales with their sum (the same rule as the loss's).
    expFactor: Math.abs(neg) + Math.abs(pos),
    gradMagnitude: Math.abs(w) * (ys >= 0 && ys <= 1 ? Math.max(Math.abs(s * (neg + pos)), Math.abs(pos)) : Math.abs(s * (neg + pos)) + Math.abs(pos)),
  };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The spacing of float32 numbers at |t| (2^-149 for subnormals and zero). */
export function ulp32(t: number): number {
  const a = Math.abs(t);
  if (!(a >= 2 ** -126)) return 2 ** -149;
  if (a === Infinity) return Infinity;
  const e = Math.floor(Math.log2(a));
  // Math.log2 can be off by one right at a power of two; correct it.
  const exp = 2 ** e > a ? e - 1 : 2 ** (e + 1) <= a ? e + 1 : e;
  return 2 ** (Math.min(exp, 127) - 23);
}

/** Error of a float32 result against a float64 truth, in float32 ulps of the truth. Equal non-finite values: 0. */
// A float32 result of +-inf for a finite truth counts as +-2^128 (the next power of two past FLT_MAX), so that
// rounding to infinity at the edge of the range is measured in ulps like any other rounding.
export function ulpError(result: number, truth: number): number {
  if (result === truth) return 0;
  if (Number.isNaN(result) || Number.isNaN(truth) || !Number.isFinite(truth)) return Infinity;
  const r = result === Infinity ? 2 ** 128 : result === -Infinity ? -(2 ** 128) : result;
  return Math.abs(r - truth) / ulp32(truth);
}

/** Float32 bits of a number, for exact comparisons in messages. */
export function bits(x: number): string {
  f32[0] = x;
  return '0x' + u32[0].toString(16).padStart(8, '0');
}

/** Exact-ish float64 sum (Neumaier) for reduced-loss references. */
export function accurateSum(values: ArrayLike<number>): number {
  let sum = 0;
  let comp = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + comp;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
