// Argument checks at the public boundary: every message names the argument and what was expected.
// Nothing here writes to a caller's array, so a call that throws leaves its outputs untouched.
import type { Reduction, Smoothing, Targets } from '../api/types';
import { MAX_THREADS, Param, invalidLabelMessage } from '../generated/contract';

const PREFIX = 'fused-bce: ';
/** The smallest non-zero |labelSmoothing|: 2^-126, the smallest normal float32. */
export const MIN_LABEL_SMOOTHING = 2 ** -126;
/** The most negative label smoothing rate: beyond it the smoothed targets leave what float32 coefficients carry exactly (research uses rates down to -8). */
export const MIN_NEGATIVE_SMOOTHING = -1e6;

/** A short description of a value for error messages: "Float32Array(12)", "number NaN", "null". */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) {
    const tag = (value as unknown as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] ?? 'DataView';
    let length: number | string;
    try {
      length = (value as { length?: number }).length ?? value.byteLength;
    } catch {
      length = 'detached'; // a DataView on a detached buffer throws on byteLength
    }
    return `${tag}(${length})`;
  }
  if (Array.isArray(value)) return `Array(${value.length})`;
  switch (typeof value) {
    case 'number':
      return `number ${value}`;
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)}`;
    case 'bigint':
      return `bigint ${value}`;
    case 'object': {
      const name = (value as object).constructor?.name;
      return name && name !== 'Object' ? `${name} object` : 'object';
    }
    default:
      return typeof value;
  }
}

export function typeError(fn: string, arg: string, expected: string, got: unknown): TypeError {
  return new TypeError(`${PREFIX}${fn}: ${arg} must be ${expected}, got ${describe(got)}`);
}

function rangeError(fn: string, message: string): RangeError {
  return new RangeError(`${PREFIX}${fn === '' ? '' : fn + ': '}${message}`);
}

// `instanceof` first (the fast path); ArrayBuffer.isView + the TypedArray tag for arrays made in another
// realm (vm contexts). The tag alone could be faked by a plain object; isView cannot.
export function isFloat32Array(value: unknown): value is Float32Array {
  return value instanceof Float32Array || (ArrayBuffer.isView(value) && (value as Float32Array)[Symbol.toStringTag] === 'Float32Array');
}

function isUint8Array(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && (value as Uint8Array)[Symbol.toStringTag] === 'Uint8Array');
}

// A detached (transferred) or out-of-bounds buffer shows as length 0; only then is the check paid for. Both
// length and byteLength are read: Node 20's optimising compiler (V8 11.3) can return a detached array's old
// `length` from code optimised before any buffer was detached (its byteLength reads 0), and the fuzz tests met
// such arrays passing as live.
export function isDetached(array: ArrayBufferView & { length: number }): boolean {
  if (array.length !== 0 && array.byteLength !== 0) return false;
  const buffer = array.buffer as ArrayBuffer & { detached?: boolean };
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  if (buffer.byteLength !== 0) return false;
  // A call into a builtin that refuses detached buffers (a call with a result, which no optimiser can drop).
  try {
    buffer.slice(0);
    return false;
  } catch {
    return true;
  }
}

export function checkFloat32(fn: string, value: unknown, arg: string, expected: string): asserts value is Float32Array {
  if (!isFloat32Array(value)) throw typeError(fn, arg, expected, value);
  if (isDetached(value)) throw new TypeError(`${PREFIX}${fn}: ${arg} is on a detached ArrayBuffer`);
}

export function checkLogits(fn: string, logits: unknown): asserts logits is Float32Array {
  checkFloat32(fn, logits, 'logits', 'a Float32Array');
}

export function checkTargets(fn: string, targets: unknown, n: number, lengthOf: string | null): asserts targets is Targets {
  if (!isFloat32Array(targets) && !isUint8Array(targets)) {
    throw typeError(fn, 'targets', 'a Float32Array (soft targets) or Uint8Array (0/1 labels)', targets);
  }
  if (isDetached(targets)) throw new TypeError(`${PREFIX}${fn}: targets is on a detached ArrayBuffer`);
  if (lengthOf !== null && targets.length !== n) {
    throw rangeError(fn, `targets must have the length of ${lengthOf} (${n}), got ${describe(targets)}`);
  }
}

/**
 * Hard labels must be exactly 0 or 1; checked before anything is written. Returns the first bad index or -1.
 * Blocks of 64 labels are OR-ed together without a branch per label, and only a block that holds a bad one is
 * scanned label by label (in V8, 0.39 instead of 0.85 ns per label: the js fallback's whole call is about 13).
 */
export function firstInvalidLabel(targets: Uint8Array): number {
  const n = targets.length;
  let i = 0;
  for (; i + 64 <= n; i += 64) {
    let any = 0;
    for (let j = i; j < i + 64; j++) any |= targets[j];
    if (any > 1) break;
  }
  for (; i < n; i++) if (targets[i] > 1) return i;
  return -1;
}

export function invalidLabelError(fn: string, targets: Uint8Array, index: number): RangeError {
  return new RangeError(invalidLabelMessage(fn, targets[index], index));
}

/**
 * What a kernel pass throws on a bad label (named by its backend), after recording the index in
 * params[InvalidLabelAt], from where the public API takes it to throw the error under its own function's name.
 */
export function refuseLabel(backendName: string, targets: Uint8Array, index: number, params: Float64Array): RangeError {
  params[Param.InvalidLabelAt] = index;
  return invalidLabelError(backendName, targets, index);
}

/**
 * The error to give the caller of public function `fn` for one thrown by a kernel pass: a refused label (recorded
 * in params[InvalidLabelAt], which is reset) under `fn`'s name, anything else as it was.
 */
export function publicError(fn: string, targets: Targets, params: Float64Array, err: unknown): unknown {
  const at = params[Param.InvalidLabelAt];
  if (!(at >= 0)) return err;
  params[Param.InvalidLabelAt] = -1;
  return invalidLabelError(fn, targets as Uint8Array, at);
}

export function checkSmoothing(fn: string, smoothing: unknown, arg: string): asserts smoothing is Smoothing {
  if (smoothing === 'symmetric' || smoothing === 'uniform') return;
  if (typeof smoothing !== 'string') throw typeError(fn, arg, "'symmetric' or 'uniform'", smoothing);
  throw rangeError(fn, `${arg} must be 'symmetric' or 'uniform', got ${describe(smoothing)}`);
}

export function checkLabelSmoothing(fn: string, a: unknown, smoothing: Smoothing, arg: string): asserts a is number {
  if (typeof a !== 'number') throw typeError(fn, arg, 'a number', a);
  const max = smoothing === 'uniform' ? 1 : 0.5;
  if (!Number.isFinite(a) || a > max || a < MIN_NEGATIVE_SMOOTHING) {
    throw rangeError(fn, `${arg} must be from ${MIN_NEGATIVE_SMOOTHING} (negative smoothing) to ${max} for smoothing '${smoothing}', got ${a}`);
  }
  // A rate below the float32 normal range would vanish in a float32 kernel and change the limits at infinite
  // logits; it has no use, so it is refused rather than silently rounded.
  if (a !== 0 && Math.abs(a) < MIN_LABEL_SMOOTHING) {
    throw rangeError(fn, `${arg} must be 0 or at least ${MIN_LABEL_SMOOTHING} in magnitude (the float32 normal range), got ${a}`);
  }
}

/** The focal term's numbers: gamma, and alpha (-1 without alpha weighting); gamma -1 when focal is absent. */
export interface FocalNumbers {
  gamma: number;
  alpha: number;
}

/**
 * options.focal: undefined, or { gamma: a finite number >= 0, alpha?: a number in [0, 1] } with no other key;
 * with it, labelSmoothing must be >= 0 (the focal loss is defined for targets in [0, 1]).
 */
export function checkFocal(fn: string, focal: unknown, labelSmoothing: number, arg: string): FocalNumbers {
  if (focal === undefined) return { gamma: -1, alpha: -1 };
  if (focal === null || typeof focal !== 'object') throw typeError(fn, arg, 'an object { gamma, alpha? }', focal);
  const { gamma, alpha } = focal as { gamma?: unknown; alpha?: unknown };
  for (const key in focal) {
    if (key !== 'gamma' && key !== 'alpha') throw new TypeError(`${PREFIX}${fn}: ${arg} has an unknown key ${JSON.stringify(key)}; its keys are gamma, alpha`);
  }
  if (typeof gamma !== 'number') throw typeError(fn, `${arg}.gamma`, 'a number >= 0', gamma);
  if (!(gamma >= 0 && gamma <= 1e300)) throw rangeError(fn, `${arg}.gamma must be a finite number >= 0, got ${gamma}`);
  if (alpha !== undefined && typeof alpha !== 'number') throw typeError(fn, `${arg}.alpha`, 'a number in [0, 1] or undefined', alpha);
  if (alpha !== undefined && !(alpha >= 0 && alpha <= 1)) throw rangeError(fn, `${arg}.alpha must be in [0, 1], got ${alpha}`);
  if (labelSmoothing < 0) {
    throw rangeError(fn, `options.labelSmoothing must be >= 0 with ${arg} (the focal loss needs targets in [0, 1]), got ${labelSmoothing}`);
  }
  return { gamma, alpha: alpha === undefined ? -1 : alpha };
}

export function checkReduction(fn: string, reduction: unknown, arg: string): asserts reduction is Reduction {
  if (reduction === 'mean' || reduction === 'sum' || reduction === 'none') return;
  if (typeof reduction !== 'string') throw typeError(fn, arg, "'mean', 'sum' or 'none'", reduction);
  throw rangeError(fn, `${arg} must be 'mean', 'sum' or 'none', got ${describe(reduction)}`);
}

/** options.threads: 'auto' (0) or an integer from 1 to MAX_THREADS. Returns the kernel's count (0 = auto). */
export function checkThreads(fn: string, threads: unknown, arg: string): number {
  if (threads === undefined || threads === 'auto') return 0;
  if (typeof threads !== 'number') throw typeError(fn, arg, "an integer >= 1 or 'auto'", threads);
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw rangeError(fn, `${arg} must be an integer from 1 to ${MAX_THREADS} or 'auto', got ${describe(threads)}`);
  }
  return threads;
}

export function checkOutput(fn: string, out: unknown, n: number, arg: string): asserts out is Float32Array {
  // The expected-type text is built only on the error path: a template string here would allocate every call.
  if (!isFloat32Array(out)) throw typeError(fn, arg, `a Float32Array of length ${n}`, out);
  checkFloat32(fn, out, arg, '');
  if (out.length !== n) throw rangeError(fn, `${arg} must have length ${n} (the length of logits), got ${describe(out)}`);
}

/** True when the byte ranges of two views share memory. Views on different buffer objects never do. */
export function overlaps(a: ArrayBufferView | null, b: ArrayBufferView | null): boolean {
  if (a === null || b === null || a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

export function sameView(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
}

export function overlapError(fn: string, output: string, input: string, allowed: string): RangeError {
  return rangeError(fn, `${output} overlaps ${input}; outputs must not share memory with inputs${allowed}`);
}

// The brand-checked getters themselves, so that a buffer whose prototype was changed reads as what it is.
const resizableOf = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable')?.get;
const growableOf = typeof SharedArrayBuffer === 'function' ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'growable')?.get : undefined;

// Whether a buffer can change length (a resizable ArrayBuffer, a growable SharedArrayBuffer): plain property reads,
// and where one throws (a getter of the other kind's, from a changed prototype, failing its brand check) each kind's
// own getter. (A prototype that lies without throwing does no harm: the native call re-reads every array, length
// and all, before each chunk it copies or computes, and its worker reads only memory the call owns.)
function isResizable(buffer: ArrayBufferLike): boolean {
  try {
    const b = buffer as { resizable?: unknown; growable?: unknown };
    return b.resizable === true || b.growable === true;
  } catch {
    return brandChecked(resizableOf, buffer) || brandChecked(growableOf, buffer);
  }
}

function brandChecked(getter: (() => unknown) | undefined, buffer: ArrayBufferLike): boolean {
  try {
    return getter?.call(buffer) === true;
  } catch {
    return false; // not this kind of buffer
  }
}

/**
 * Refuses arrays on a resizable or growable buffer for an asynchronous call (JavaScript runs beside it, and such a
 * buffer could shrink under it), naming the first one.
 */
export function checkFixedLengthArrays(fn: string, named: readonly (readonly [string, ArrayBufferView | null])[]): void {
  for (const [name, array] of named) {
    if (array !== null && isResizable(array.buffer)) {
      throw new TypeError(`${PREFIX}${fn}: ${name} is on a resizable or growable buffer; asynchronous calls need fixed-length arrays`);
    }
  }
}
