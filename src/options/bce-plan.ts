// BCE's options and arrays turned into the kernel's positional arguments, everything validated first. A plan
// object is reused between calls, so that a training step allocates nothing here.
import { Param } from '../generated/contract';
import { LOSS_OPTION_KEYS } from '../api/types';
import type { Reduction, Smoothing, Targets } from '../api/types';
import {
  checkFloat32, checkFocal, checkLabelSmoothing, checkLogits, checkOutput, checkReduction, checkSmoothing, checkTargets, checkThreads,
  describe, isFloat32Array, typeError,
} from './checks';
import { checkOutputsApart, newCheckedArrays } from './outputs';
import type { CheckedArrays } from './outputs';
import { smoothingScale, smoothingShift } from '../api/smoothing';

/** Which entry point is being validated: decides which options apply. */
export const enum Op {
  Forward = 1,
  Backward = 2,
  /** Both: the options of either apply. */
  Fused = Forward | Backward,
}

export interface Plan {
  /** The public function the plan is for, named in its errors. */
  fn: string;
  logits: Float32Array;
  targets: Targets;
  n: number;
  posWeight: Float32Array | null;
  weight: Float32Array | null;
  reduction: Reduction;
  gradOutput: Float32Array | null;
  lossOut: Float32Array | null;
  gradOut: Float32Array | null;
  /** The kernel's numbers: classes, smoothing coefficients, gradient scale (already / n for 'mean'), threads. */
  params: Float64Array;
  /** The arrays whose overlap this plan last checked, and the inputs of this call in the order lastOptions. */
  checkedArrays: CheckedArrays;
  inputs: (Float32Array | Targets | null)[];
  /**
   * gradOut is logits' memory (an in-place gradient), maybe through another view object: the kernel is then
   * given logits itself as its output, so that it can tell by identity (see gradOutForKernel).
   */
  gradInPlace: boolean;
}

/** The gradient output to hand the kernel: logits itself for an in-place gradient. */
export function gradOutForKernel(plan: Plan, gradOut: Float32Array | null): Float32Array | null {
  return plan.gradInPlace && gradOut !== null ? plan.logits : gradOut;
}

/** A plan of its own (with its own parameter block), for a loss object that runs its steps through it. */
export function createPlan(fn: string): Plan {
  const params = new Float64Array(Param.Count);
  params[Param.InvalidLabelAt] = -1;
  params[Param.FocalGamma] = -1;
  params[Param.FocalAlpha] = -1;
  return {
    fn, logits: new Float32Array(0), targets: new Float32Array(0), n: 0, posWeight: null, weight: null,
    reduction: 'mean', gradOutput: null, lossOut: null, gradOut: null, params,
    checkedArrays: newCheckedArrays(INPUT_NAMES.length), inputs: new Array(INPUT_NAMES.length).fill(null), gradInPlace: false,
  };
}

// The inputs an output must stay apart from, in the order checked (logits first).
const INPUT_NAMES: readonly string[] = ['logits', 'targets', 'options.posWeight', 'options.weight', 'options.gradOutput'];

// The functional API's plan: one object shared by every call, refilled by prepareSharedPlan (so a step
// allocates nothing). A caller that keeps it across an await must copy what it needs first.
const sharedPlan: Plan = createPlan('');

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
const lastOptions = {
  options: null as object | null, op: 0 as Op, keyCount: 0,
  labelSmoothing: undefined as unknown, smoothing: undefined as unknown, posWeight: undefined as unknown,
  weight: undefined as unknown, reduction: undefined as unknown, threads: undefined as unknown,
  lossOut: undefined as unknown, gradOutput: undefined as unknown, gradOut: undefined as unknown,
  focal: undefined as unknown, focalGammaRead: undefined as unknown, focalAlphaRead: undefined as unknown,
  smoothScale: 1, smoothShift: 0, resolvedReduction: 'mean' as Reduction, threadCount: 0, focalGamma: -1, focalAlpha: -1,
};
const NO_OPTIONS = Object.freeze({});

/**
 * Validate a call and fill the shared plan. Throws TypeError/RangeError naming the argument; writes nothing.
 * The Uint8 0/1 label check is left to the kernel's pre-pass (it reads the labels anyway). Kept short, the
 * rarely taken work out of line, so that V8 inlines it and what it calls: a number returned from a call that is
 * not inlined is boxed, an allocation per call.
 */
export function prepareSharedPlan(fn: string, op: Op, logits: unknown, targets: unknown, options: unknown): Plan {
  checkLogits(fn, logits);
  const n = logits.length;
  checkTargets(fn, targets, n, 'logits');
  if (!isCheckedOptions(op, options)) readOptions(fn, op, options);
  // Reading the options may have run getters; they must not have detached or resized logits or targets. (By
  // byteLength too: see isDetached in validate.ts for a `length` that optimised code can read stale.)
  if (logits.length !== n || targets.length !== n || logits.byteLength !== 4 * n || targets.byteLength !== n * targets.BYTES_PER_ELEMENT) {
    throw new TypeError(`fused-bce: ${fn}: logits or targets was detached or resized while the options were read (by a getter)`);
  }
  const plan = sharedPlan;
  fillArrays(fn, plan, n, logits, targets, lastOptions.posWeight, lastOptions.weight, lastOptions.gradOutput, lastOptions.lossOut, lastOptions.gradOut);
  const params = plan.params;
  const mean = lastOptions.resolvedReduction === 'mean';
  // (The scale is written in each branch: a variable that is 1 or a number option would be a boxed value, and
  // dividing it an allocation per call.)
  params[Param.GradScale] = mean ? 1 / n : 1;
  const gradOutput = lastOptions.gradOutput;
  if (typeof gradOutput === 'number') params[Param.GradScale] = mean ? gradOutput / n : gradOutput;
  params[Param.SmoothScale] = lastOptions.smoothScale;
  params[Param.SmoothShift] = lastOptions.smoothShift;
  params[Param.Threads] = lastOptions.threadCount;
  params[Param.WantLossSum] = 0;
  params[Param.FocalGamma] = lastOptions.focalGamma;
  params[Param.FocalAlpha] = lastOptions.focalAlpha;
  plan.reduction = lastOptions.resolvedReduction;
  return plan;
}

// Whether the options (each read once here, by name) are those of the last call, already lastOptions.
function isCheckedOptions(op: Op, options: unknown): boolean {
  if (op !== lastOptions.op) return false;
  if (options === undefined || options === null) return lastOptions.options === NO_OPTIONS;
  if (options !== lastOptions.options) return false;
  const opts = options as Record<string, unknown>;
  let keyCount = 0;
  for (const key in opts) if (key !== '') keyCount++;
  return keyCount === lastOptions.keyCount && opts.labelSmoothing === lastOptions.labelSmoothing && opts.smoothing === lastOptions.smoothing &&
    opts.posWeight === lastOptions.posWeight && opts.weight === lastOptions.weight && opts.reduction === lastOptions.reduction &&
    opts.threads === lastOptions.threads && opts.lossOut === lastOptions.lossOut && opts.gradOutput === lastOptions.gradOutput &&
    opts.gradOut === lastOptions.gradOut && focalUnchanged(opts.focal);
}

// Whether options.focal is the object of the last call with the same gamma and alpha (its fields can change).
function focalUnchanged(focal: unknown): boolean {
  if (focal !== lastOptions.focal) return false;
  if (focal === undefined) return true;
  const f = focal as { gamma?: unknown; alpha?: unknown };
  return f.gamma === lastOptions.focalGammaRead && f.alpha === lastOptions.focalAlphaRead;
}

// Reads and checks options anew (the checks that do not depend on the arrays) into `lastOptions`. Each option is
// read once more here (a getter runs again).
function readOptions(fn: string, op: Op, options: unknown): void {
  lastOptions.options = null;
  let labelSmoothing: unknown, smoothing: unknown, posWeight: unknown, weight: unknown, reduction: unknown;
  let threads: unknown, lossOut: unknown, gradOutput: unknown, gradOut: unknown, focal: unknown;
  let keyCount = 0;
  let allKnown = true;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object') {
      throw new TypeError(`fused-bce: ${fn}: options must be an object, got ${describe(options)}`);
    }
    const opts = options as Record<string, unknown>;
    for (const key in opts) if (key !== '') keyCount++;
    let ownKnown = 0;
    for (let k = 0; k < READ_KEYS.length; k++) if (hasOwn.call(opts, READ_KEYS[k])) ownKnown++;
    allKnown = keyCount === ownKnown;
    for (const key in opts) {
      const value = opts[key];
      if (value === undefined) continue;
      switch (key) {
        case 'labelSmoothing': labelSmoothing = value; break;
        case 'smoothing': smoothing = value; break;
        case 'posWeight': posWeight = value; break;
        case 'weight': weight = value; break;
        case 'reduction': reduction = value; break;
        case 'threads': threads = value; break;
        case 'lossOut': lossOut = value; break;
        case 'gradOutput': gradOutput = value; break;
        case 'gradOut': gradOut = value; break;
        case 'focal': focal = value; break;
        default: throw unknownOption(fn, key, op);
      }
    }
    if (lossOut !== undefined && !(op & Op.Forward)) throw unknownOption(fn, 'lossOut', op);
    if (gradOutput !== undefined && !(op & Op.Backward)) throw unknownOption(fn, 'gradOutput', op);
    if (gradOut !== undefined && !(op & Op.Backward)) throw unknownOption(fn, 'gradOut', op);
  }
  const fixed = fixedOptions(fn, labelSmoothing, smoothing, reduction, threads, focal);
  lastOptions.threadCount = fixed.threads;
  lastOptions.focalGamma = fixed.focalGamma;
  lastOptions.focalAlpha = fixed.focalAlpha;
  lastOptions.focal = focal;
  // (Read again for the cache; a getter that answers differently the second time only defeats the cache.)
  lastOptions.focalGammaRead = focal === undefined ? undefined : (focal as { gamma?: unknown }).gamma;
  lastOptions.focalAlphaRead = focal === undefined ? undefined : (focal as { alpha?: unknown }).alpha;
  lastOptions.smoothScale = fixed.smoothScale;
  lastOptions.smoothShift = fixed.smoothShift;
  lastOptions.resolvedReduction = fixed.reduction;
  lastOptions.labelSmoothing = labelSmoothing;
  lastOptions.smoothing = smoothing;
  lastOptions.posWeight = posWeight;
  lastOptions.weight = weight;
  lastOptions.reduction = reduction;
  lastOptions.threads = threads;
  lastOptions.lossOut = lossOut;
  lastOptions.gradOutput = gradOutput;
  lastOptions.gradOut = gradOut;
  lastOptions.op = op;
  lastOptions.keyCount = keyCount;
  const defined = [labelSmoothing, smoothing, posWeight, weight, reduction, threads, lossOut, gradOutput, gradOut, focal].filter((v) => v !== undefined).length;
  if (options === undefined || options === null) lastOptions.options = NO_OPTIONS;
  else if (allKnown && defined === keyCount) lastOptions.options = options as object;
}

/**
 * The checks of the options that do not depend on the arrays (labelSmoothing, smoothing, reduction, threads,
 * focal), undefined meaning the default: the functional API's and the BCEWithLogitsLoss constructor's, written once.
 */
export function fixedOptions(
  fn: string, labelSmoothing: unknown, smoothing: unknown, reduction: unknown, threads: unknown, focal: unknown,
): Omit<FixedOptions, 'posWeight' | 'weight'> {
  // (Not `??`: null is a wrong value, reported as such, not a missing one.)
  const rate = labelSmoothing === undefined ? 0 : labelSmoothing;
  const convention = smoothing === undefined ? 'symmetric' : smoothing;
  const reductionOrDefault = reduction === undefined ? 'mean' : reduction;
  checkSmoothing(fn, convention, 'options.smoothing');
  checkLabelSmoothing(fn, rate, convention, 'options.labelSmoothing');
  checkReduction(fn, reductionOrDefault, 'options.reduction');
  const focalNumbers = checkFocal(fn, focal, rate, 'options.focal');
  return {
    threads: checkThreads(fn, threads, 'options.threads'), smoothScale: smoothingScale(rate, convention as Smoothing),
    smoothShift: smoothingShift(rate, convention as Smoothing), reduction: reductionOrDefault,
    focalGamma: focalNumbers.gamma, focalAlpha: focalNumbers.alpha,
  };
}

// The per-element gradOutput of reduction 'none', or null (absent, or a number: the scalar upstream gradient).
function gradOutputArray(fn: string, gradOutput: unknown, n: number): Float32Array | null {
  if (gradOutput === undefined || typeof gradOutput === 'number') return null;
  const reduction = lastOptions.resolvedReduction;
  if (reduction !== 'none') {
    throw new TypeError(`fused-bce: ${fn}: options.gradOutput must be a number for reduction '${reduction}' (the loss is a scalar), got ${describe(gradOutput)}`);
  }
  if (!isFloat32Array(gradOutput)) throw typeError(fn, 'options.gradOutput', `a number or a Float32Array of length ${n} (reduction 'none')`, gradOutput);
  checkFloat32(fn, gradOutput, 'options.gradOutput', '');
  if (gradOutput.length !== n) throw new RangeError(`fused-bce: ${fn}: options.gradOutput must have length ${n} (the length of logits), got ${describe(gradOutput)}`);
  return gradOutput;
}

// The arrays of a call into the plan: classes from posWeight/weight, the per-element gradOutput, outputs checked
// and apart from the inputs.
function fillArrays(
  fn: string, plan: Plan, n: number, logits: Float32Array, targets: Targets, posWeight: unknown, weight: unknown,
  gradOutput: unknown, lossOut: unknown, gradOut: unknown,
): void {
  const classes = resolveClasses(fn, n, posWeight, weight);
  const upstream = gradOutputArray(fn, gradOutput, n);
  if (lossOut !== undefined) {
    const reduction = lastOptions.resolvedReduction;
    if (reduction !== 'none') throw new TypeError(`fused-bce: ${fn}: options.lossOut is only used with reduction 'none' (got reduction '${reduction}')`);
    checkOutput(fn, lossOut, n, 'options.lossOut');
  }
  if (gradOut !== undefined) checkOutput(fn, gradOut, n, 'options.gradOut');
  const lossOutArray = (lossOut as Float32Array | undefined) ?? null;
  const gradOutArray = (gradOut as Float32Array | undefined) ?? null;
  const posWeightArray = (posWeight as Float32Array | undefined) ?? null;
  const weightArray = (weight as Float32Array | undefined) ?? null;
  setArrays(fn, plan, n, classes, logits, targets, posWeightArray, weightArray, upstream, lossOutArray, gradOutArray);
}

// A call's checked arrays into its plan, once the outputs are found apart from the inputs (the one place both the
// functional API and the loss object write them).
function setArrays(
  fn: string, plan: Plan, n: number, classes: number, logits: Float32Array, targets: Targets, posWeight: Float32Array | null,
  weight: Float32Array | null, gradOutput: Float32Array | null, lossOut: Float32Array | null, gradOut: Float32Array | null,
): void {
  plan.gradInPlace = outputsApart(fn, plan, n, logits, targets, posWeight, weight, gradOutput, lossOut, gradOut);
  plan.fn = fn;
  plan.logits = logits;
  plan.targets = targets;
  plan.n = n;
  plan.params[Param.Classes] = classes;
  plan.posWeight = posWeight;
  plan.weight = weight;
  plan.gradOutput = gradOutput;
  plan.lossOut = lossOut;
  plan.gradOut = gradOut;
}

/**
 * Classes: posWeight.length, else weight.length when that is not n, else 1 (docs/conventions.md); checks
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

/** Options validated once (where they are fixed: the BCEWithLogitsLoss constructor). */
export interface FixedOptions {
  /** The focal term's gamma and alpha (-1: absent), as the kernel's parameter block holds them. */
  focalGamma: number;
  focalAlpha: number;
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
  setArrays(fn, into, n, classes, logits, targets, fixed.posWeight, fixed.weight, null, lossOut, gradOut);
  into.reduction = fixed.reduction;
  const params = into.params;
  params[Param.SmoothScale] = fixed.smoothScale;
  params[Param.SmoothShift] = fixed.smoothShift;
  params[Param.GradScale] = fixed.reduction === 'mean' ? 1 / n : 1;
  params[Param.Threads] = fixed.threads;
  params[Param.WantLossSum] = 0;
  params[Param.FocalGamma] = fixed.focalGamma;
  params[Param.FocalAlpha] = fixed.focalAlpha;
  return into;
}

// The plan's inputs in the order INPUT_NAMES gives, then the shared check (remembered per plan).
function outputsApart(
  fn: string, plan: Plan, n: number, logits: Float32Array, targets: Targets, posWeight: Float32Array | null,
  weight: Float32Array | null, gradOutput: Float32Array | null, lossOut: Float32Array | null, gradOut: Float32Array | null,
): boolean {
  const inputs = plan.inputs;
  inputs[0] = logits;
  inputs[1] = targets;
  inputs[2] = posWeight;
  inputs[3] = weight;
  inputs[4] = gradOutput;
  return checkOutputsApart(fn, plan.checkedArrays, n, inputs, INPUT_NAMES, lossOut, gradOut);
}
