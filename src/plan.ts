// Turns (logits, targets, options) into the kernel's positional arguments, validating everything first.
// The plan object is reused between calls so that a training step allocates nothing here.
import { Param } from './types';
import { LOSS_OPTION_KEYS } from './types';
import type { Reduction, Targets } from './types';
import {
  checkFloat32, checkLabelSmoothing, checkLogits, checkOutput, checkReduction, checkSmoothing, checkTargets, checkThreads,
  describe, isFloat32Array, overlapError, overlaps, sameView, typeError,
} from './validate';
import { smoothingScale, smoothingShift } from './smoothing';

/** Which entry point is being validated: decides which options apply. */
export const enum Op {
  Forward = 1,
  Backward = 2,
  /** Both: the options of either apply. */
  Fused = Forward | Backward,
}

export interface Plan {
  logits: Float32Array;
  targets: Targets;
  n: number;
  classes: number;
  posWeight: Float32Array | null;
  weight: Float32Array | null;
  reduction: Reduction;
  gradOutput: Float32Array | null;
  lossOut: Float32Array | null;
  gradOut: Float32Array | null;
  /** The kernel's numbers: classes, smoothing coefficients, gradient scale (already / n for 'mean'), threads. */
  params: Float64Array;
  /** The arrays whose overlap this plan last checked. */
  checkedArrays: CheckedArrays;
}

// The functional API's plan: one object shared by every call, refilled by prepareSharedPlan (so a step
// allocates nothing). A caller that keeps it across an await must copy what it needs first.
const sharedPlan: Plan = {
  logits: new Float32Array(0), targets: new Float32Array(0), n: 0, classes: 1, posWeight: null, weight: null,
  reduction: 'mean', gradOutput: null, lossOut: null, gradOut: null, params: new Float64Array(Param.Count),
  checkedArrays: newCheckedArrays(),
};

const hasOwn = Object.prototype.hasOwnProperty;

function unknownOption(fn: string, key: string, op: Op): TypeError {
  const known: string[] = [...LOSS_OPTION_KEYS];
  if (op & Op.Forward) known.push('lossOut');
  if (op & Op.Backward) known.push('gradOutput', 'gradOut');
  const applies = ['lossOut', 'gradOutput', 'gradOut'].includes(key);
  return new TypeError(
    `fused-bce: ${fn}: ${applies ? `option ${key} does not apply here` : `unknown option ${JSON.stringify(key)}`}; ` +
      `the options are ${known.join(', ')}`,
  );
}

// The options as read and checked by the last call of the functional API, kept so that a training loop that
// passes the same options object every step does not validate it again: while the object is the same, for the
// same entry point, with the same number of enumerable keys, and every option reads the same value as before,
// the checks that do not depend on the arrays (labelSmoothing, smoothing, reduction, threads, unknown keys) hold
// as they did. The arrays among the options are checked on every call (detached, lengths, overlaps).
// Options with a key set to undefined are not kept (a key deleted and an unknown one added could then look
// the same).
const READ_KEYS: readonly string[] = [...LOSS_OPTION_KEYS, 'lossOut', 'gradOutput', 'gradOut'];

/** The value of every option a call reads (undefined where absent), in fixed named fields. */
class OptionValues {
  labelSmoothing: unknown = undefined;
  smoothing: unknown = undefined;
  posWeight: unknown = undefined;
  weight: unknown = undefined;
  reduction: unknown = undefined;
  threads: unknown = undefined;
  lossOut: unknown = undefined;
  gradOutput: unknown = undefined;
  gradOut: unknown = undefined;

  clear(): void {
    this.labelSmoothing = this.smoothing = this.posWeight = this.weight = this.reduction = undefined;
    this.threads = this.lossOut = this.gradOutput = this.gradOut = undefined;
  }

  // By name: a keyed read in a loop would be a megamorphic lookup per key.
  readFrom(opts: Record<string, unknown>): void {
    this.labelSmoothing = opts.labelSmoothing;
    this.smoothing = opts.smoothing;
    this.posWeight = opts.posWeight;
    this.weight = opts.weight;
    this.reduction = opts.reduction;
    this.threads = opts.threads;
    this.lossOut = opts.lossOut;
    this.gradOutput = opts.gradOutput;
    this.gradOut = opts.gradOut;
  }

  set(key: string, value: unknown): void {
    (this as unknown as Record<string, unknown>)[key] = value;
  }

  copyFrom(o: OptionValues): void {
    this.labelSmoothing = o.labelSmoothing;
    this.smoothing = o.smoothing;
    this.posWeight = o.posWeight;
    this.weight = o.weight;
    this.reduction = o.reduction;
    this.threads = o.threads;
    this.lossOut = o.lossOut;
    this.gradOutput = o.gradOutput;
    this.gradOut = o.gradOut;
  }

  equals(o: OptionValues): boolean {
    return this.labelSmoothing === o.labelSmoothing && this.smoothing === o.smoothing && this.posWeight === o.posWeight &&
      this.weight === o.weight && this.reduction === o.reduction && this.threads === o.threads && this.lossOut === o.lossOut &&
      this.gradOutput === o.gradOutput && this.gradOut === o.gradOut;
  }

  definedCount(): number {
    return (this.labelSmoothing !== undefined ? 1 : 0) + (this.smoothing !== undefined ? 1 : 0) + (this.posWeight !== undefined ? 1 : 0) +
      (this.weight !== undefined ? 1 : 0) + (this.reduction !== undefined ? 1 : 0) + (this.threads !== undefined ? 1 : 0) +
      (this.lossOut !== undefined ? 1 : 0) + (this.gradOutput !== undefined ? 1 : 0) + (this.gradOut !== undefined ? 1 : 0);
  }
}

const read = new OptionValues();
const NO_OPTIONS = Object.freeze({});
const checked = {
  options: null as object | null, op: 0 as Op, keyCount: 0, values: new OptionValues(),
  smoothScale: 1, smoothShift: 0, reduction: 'mean' as Reduction, threads: 0,
};

/**
 * Validate a call and fill the shared plan. Throws TypeError/RangeError naming the argument; writes nothing.
 * The Uint8 0/1 label check is left to the kernel's pre-pass (it reads the labels anyway).
 */
export function prepareSharedPlan(fn: string, op: Op, logits: unknown, targets: unknown, options: unknown): Plan {
  checkLogits(fn, logits);
  const n = logits.length;
  checkTargets(fn, targets, n, 'logits');

  read.clear();
  let keyCount = 0;
  let allKnown = true;
  let known = false; // the same options as the last call's, already checked
  if (options === undefined || options === null) {
    known = checked.options === NO_OPTIONS && op === checked.op;
  } else {
    if (typeof options !== 'object') {
      throw new TypeError(`fused-bce: ${fn}: options must be an object, got ${describe(options)}`);
    }
    const opts = options as Record<string, unknown>;
    for (const key in opts) if (key !== '') keyCount++;
    if (opts === checked.options && op === checked.op && keyCount === checked.keyCount) {
      read.readFrom(opts);
      known = read.equals(checked.values);
    }
    if (!known) {
      // Allocation-free when every enumerable key is one of ours: read by name. (A for-in loop that reads
      // opts[key] allocates on every call.) Otherwise the loop below finds the unknown or inherited key.
      let ownKnown = 0;
      for (let k = 0; k < READ_KEYS.length; k++) if (hasOwn.call(opts, READ_KEYS[k])) ownKnown++;
      allKnown = keyCount === ownKnown;
      if (allKnown) {
        read.readFrom(opts);
      } else {
        read.clear();
        for (const key in opts) {
          const value = opts[key];
          if (value === undefined) continue;
          if (!READ_KEYS.includes(key)) throw unknownOption(fn, key, op);
          read.set(key, value);
        }
      }
      if (read.lossOut !== undefined && !(op & Op.Forward)) throw unknownOption(fn, 'lossOut', op);
      if (read.gradOutput !== undefined && !(op & Op.Backward)) throw unknownOption(fn, 'gradOutput', op);
      if (read.gradOut !== undefined && !(op & Op.Backward)) throw unknownOption(fn, 'gradOut', op);
    }
  }

  // Reading the options may have run getters; they must not have detached or resized logits or targets. (By
  // byteLength too: see isDetached in validate.ts for a `length` that optimised code can read stale.)
  if (logits.length !== n || targets.length !== n || logits.byteLength !== 4 * n || targets.byteLength !== n * targets.BYTES_PER_ELEMENT) {
    throw new TypeError(`fused-bce: ${fn}: logits or targets was detached or resized while the options were read (by a getter)`);
  }

  if (!known) checkScalarOptions(fn, op, options, keyCount, allKnown);
  const reduction = checked.reduction;
  const posWeight = read.posWeight;
  const weight = read.weight;
  const gradOutput = read.gradOutput;
  const lossOut = read.lossOut;
  const gradOut = read.gradOut;

  const classes = resolveClasses(fn, n, posWeight, weight);

  let gradScale = 1;
  let gradOutputArray: Float32Array | null = null;
  if (gradOutput !== undefined) {
    if (typeof gradOutput === 'number') {
      gradScale = gradOutput;
    } else if (reduction === 'none') {
      if (!isFloat32Array(gradOutput)) throw typeError(fn, 'options.gradOutput', `a number or a Float32Array of length ${n} (reduction 'none')`, gradOutput);
      checkFloat32(fn, gradOutput, 'options.gradOutput', '');
      if (gradOutput.length !== n) throw new RangeError(`fused-bce: ${fn}: options.gradOutput must have length ${n} (the length of logits), got ${describe(gradOutput)}`);
      gradOutputArray = gradOutput;
    } else {
      throw new TypeError(`fused-bce: ${fn}: options.gradOutput must be a number for reduction '${reduction}' (the loss is a scalar), got ${describe(gradOutput)}`);
    }
  }
  if (reduction === 'mean') gradScale /= n;

  if (lossOut !== undefined) {
    if (reduction !== 'none') throw new TypeError(`fused-bce: ${fn}: options.lossOut is only used with reduction 'none' (got reduction '${reduction}')`);
    checkOutput(fn, lossOut, n, 'options.lossOut');
  }
  if (gradOut !== undefined) checkOutput(fn, gradOut, n, 'options.gradOut');

  const plan = sharedPlan;
  const lossOutArray = (lossOut as Float32Array | undefined) ?? null;
  const gradOutArray = (gradOut as Float32Array | undefined) ?? null;
  const posWeightArray = (posWeight as Float32Array | undefined) ?? null;
  const weightArray = (weight as Float32Array | undefined) ?? null;
  checkOutputsApart(fn, plan.checkedArrays, n, logits, targets, posWeightArray, weightArray, gradOutputArray, lossOutArray, gradOutArray);

  plan.logits = logits;
  plan.targets = targets;
  plan.n = n;
  plan.classes = classes;
  plan.posWeight = posWeightArray;
  plan.weight = weightArray;
  // Numbers go to the kernel in a Float64Array: passed as arguments, doubles would be boxed on every call.
  const params = plan.params;
  params[Param.Classes] = classes;
  params[Param.SmoothScale] = checked.smoothScale;
  params[Param.SmoothShift] = checked.smoothShift;
  params[Param.GradScale] = gradScale;
  params[Param.Threads] = checked.threads;
  params[Param.WantLossSum] = 0;
  plan.reduction = reduction;
  plan.gradOutput = gradOutputArray;
  plan.lossOut = lossOutArray;
  plan.gradOut = gradOutArray;
  return plan;
}

// The checks that do not depend on the arrays, on the values just read; remembered for the next call when they
// pass (see `checked`).
function checkScalarOptions(fn: string, op: Op, options: unknown, keyCount: number, allKnown: boolean): void {
  checked.options = null;
  // (Not `??`: null is a wrong value, reported as such, not a missing one.)
  const labelSmoothing = read.labelSmoothing === undefined ? 0 : read.labelSmoothing;
  const smoothing = read.smoothing === undefined ? 'symmetric' : read.smoothing;
  const reduction = read.reduction === undefined ? 'mean' : read.reduction;
  checkSmoothing(fn, smoothing, 'options.smoothing');
  checkLabelSmoothing(fn, labelSmoothing, smoothing, 'options.labelSmoothing');
  checkReduction(fn, reduction, 'options.reduction');
  checked.threads = checkThreads(fn, read.threads, 'options.threads');
  checked.smoothScale = smoothingScale(labelSmoothing, smoothing);
  checked.smoothShift = smoothingShift(labelSmoothing, smoothing);
  checked.reduction = reduction;
  checked.values.copyFrom(read);
  if (options === undefined || options === null) {
    checked.options = NO_OPTIONS;
    checked.op = op;
  } else if (allKnown && read.definedCount() === keyCount) {
    checked.options = options as object;
    checked.op = op;
    checked.keyCount = keyCount;
  }
}

// The arrays whose overlap a plan last checked, with their length: the same view objects at the same length
// share memory exactly as they did (a view's buffer and byte offset never change), so the check is not repeated.
interface CheckedArrays {
  n: number;
  arrays: (ArrayBufferView | null)[];
}

function newCheckedArrays(): CheckedArrays {
  return { n: -1, arrays: [null, null, null, null, null, null, null] };
}

// Outputs must not share memory with inputs or each other (gradOut may be exactly logits: in place).
function checkOutputsApart(
  fn: string, memo: CheckedArrays, n: number, logits: Float32Array, targets: Targets, posWeight: Float32Array | null,
  weight: Float32Array | null, gradOutput: Float32Array | null, lossOut: Float32Array | null, gradOut: Float32Array | null,
): void {
  if (lossOut === null && gradOut === null) return;
  const a = memo.arrays;
  if (memo.n === n && a[0] === logits && a[1] === targets && a[2] === posWeight && a[3] === weight && a[4] === gradOutput &&
      a[5] === lossOut && a[6] === gradOut) {
    return;
  }
  memo.n = -1;
  checkNoOverlap(fn, 'options.lossOut', lossOut, logits, targets, posWeight, weight, gradOutput, false);
  checkNoOverlap(fn, 'options.gradOut', gradOut, logits, targets, posWeight, weight, gradOutput, true);
  if (overlaps(lossOut, gradOut)) throw overlapError(fn, 'options.lossOut', 'options.gradOut', '');
  a[0] = logits; a[1] = targets; a[2] = posWeight; a[3] = weight; a[4] = gradOutput; a[5] = lossOut; a[6] = gradOut;
  memo.n = n;
}

/**
 * Classes: posWeight.length, else weight.length when that is not n, else 1 (the contract in the README); checks
 * posWeight and weight (type, detached, lengths) and that n is a multiple of the classes.
 */
function resolveClasses(fn: string, n: number, posWeight: unknown, weight: unknown): number {
  let classes = 1;
  if (posWeight !== undefined) {
    checkFloat32(fn, posWeight, 'options.posWeight', 'a Float32Array with one weight per class');
    classes = posWeight.length;
    if (classes === 0) throw new RangeError(`fused-bce: ${fn}: options.posWeight must have at least one class, got ${describe(posWeight)}`);
  }
  if (weight !== undefined) {
    checkFloat32(fn, weight, 'options.weight', 'a Float32Array of length n (per element) or C (per class)');
    if (posWeight === undefined && weight.length !== n) {
      classes = weight.length;
      if (classes === 0) throw new RangeError(`fused-bce: ${fn}: options.weight must have length ${n} (per element) or C >= 1 (per class), got ${describe(weight)}`);
    } else if (weight.length !== n && weight.length !== classes) {
      throw new RangeError(`fused-bce: ${fn}: options.weight must have length ${n} (per element) or ${classes} (per class, the length of options.posWeight), got ${describe(weight)}`);
    }
  }
  if (n % classes !== 0) {
    throw new RangeError(`fused-bce: ${fn}: logits length ${n} is not a multiple of the number of classes ${classes} (from options.${posWeight !== undefined ? 'posWeight' : 'weight'})`);
  }

  return classes;
}

/** A plan of its own (with its own parameter block), for a loss object that runs its steps through it. */
export function createPlan(): Plan {
  return {
    logits: new Float32Array(0), targets: new Float32Array(0), n: 0, classes: 1, posWeight: null, weight: null,
    reduction: 'mean', gradOutput: null, lossOut: null, gradOut: null, params: new Float64Array(Param.Count),
    checkedArrays: newCheckedArrays(),
  };
}

/** Options validated once (where they are fixed: the BCEWithLogitsLoss constructor). */
export interface FixedOptions {
  smoothScale: number;
  smoothShift: number;
  reduction: Reduction;
  threads: number;
  posWeight: Float32Array | null;
  weight: Float32Array | null;
}

/**
 * A fused step's plan from options validated once: per call only the arrays are checked (types, lengths, the
 * classes, detached buffers, outputs overlapping inputs), with the same messages as prepareSharedPlan. Writes into
 * `into` (the caller's own plan and parameter block); allocates nothing.
 */
export function planFixed(
  fn: string, fixed: FixedOptions, logits: unknown, targets: unknown, lossOut: Float32Array | null, gradOut: Float32Array, into: Plan,
): Plan {
  checkLogits(fn, logits);
  const n = logits.length;
  checkTargets(fn, targets, n, 'logits');
  const classes = resolveClasses(fn, n, fixed.posWeight ?? undefined, fixed.weight ?? undefined);
  checkOutputsApart(fn, into.checkedArrays, n, logits, targets, fixed.posWeight, fixed.weight, null, lossOut, gradOut);
  into.logits = logits;
  into.targets = targets;
  into.n = n;
  into.classes = classes;
  into.posWeight = fixed.posWeight;
  into.weight = fixed.weight;
  into.reduction = fixed.reduction;
  into.gradOutput = null;
  into.lossOut = lossOut;
  into.gradOut = gradOut;
  const params = into.params;
  params[Param.Classes] = classes;
  params[Param.SmoothScale] = fixed.smoothScale;
  params[Param.SmoothShift] = fixed.smoothShift;
  params[Param.GradScale] = fixed.reduction === 'mean' ? 1 / n : 1;
  params[Param.Threads] = fixed.threads;
  params[Param.WantLossSum] = 0;
  return into;
}

function checkNoOverlap(
  fn: string, name: string, out: Float32Array | null, logits: Float32Array, targets: Targets,
  posWeight: Float32Array | null, weight: Float32Array | null, gradOutput: Float32Array | null, inPlaceAllowed: boolean,
): void {
  if (out === null) return;
  if (overlaps(out, logits) && !(inPlaceAllowed && sameView(out, logits))) {
    throw overlapError(fn, name, 'logits', inPlaceAllowed ? ' (gradOut may be exactly logits, for an in-place gradient)' : '');
  }
  if (overlaps(out, targets)) throw overlapError(fn, name, 'targets', '');
  if (overlaps(out, posWeight)) throw overlapError(fn, name, 'options.posWeight', '');
  if (overlaps(out, weight)) throw overlapError(fn, name, 'options.weight', '');
  if (overlaps(out, gradOutput)) throw overlapError(fn, name, 'options.gradOutput', '');
}
