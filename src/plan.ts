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
}

// The functional API's plan: one object shared by every call, refilled by prepareSharedPlan (so a step
// allocates nothing). A caller that keeps it across an await must copy what it needs first.
const sharedPlan: Plan = {
  logits: new Float32Array(0), targets: new Float32Array(0), n: 0, classes: 1, posWeight: null, weight: null,
  reduction: 'mean', gradOutput: null, lossOut: null, gradOut: null, params: new Float64Array(Param.Count),
};

const OPTION_KEYS = [...LOSS_OPTION_KEYS, 'lossOut', 'gradOutput', 'gradOut'];
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

/**
 * Validate a call and fill the shared plan. Throws TypeError/RangeError naming the argument; writes nothing.
 * The Uint8 0/1 label check is left to the kernel's pre-pass (it reads the labels anyway).
 */
export function prepareSharedPlan(fn: string, op: Op, logits: unknown, targets: unknown, options: unknown): Plan {
  checkLogits(fn, logits);
  const n = logits.length;
  checkTargets(fn, targets, n, 'logits');

  let labelSmoothing: unknown = 0;
  let smoothing: unknown = 'symmetric';
  let posWeight: unknown;
  let weight: unknown;
  let reduction: unknown = 'mean';
  let gradOutput: unknown;
  let lossOut: unknown;
  let gradOut: unknown;
  let threads: unknown;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object') {
      throw new TypeError(`fused-bce: ${fn}: options must be an object, got ${describe(options)}`);
    }
    const opts = options as Record<string, unknown>;
    // Fast path, allocation-free: every enumerable key is one of ours, read by name. (A for-in loop that reads
    // opts[key] allocates on every call.) Otherwise the loop below finds the unknown or inherited key.
    let keyCount = 0;
    for (const key in opts) if (key !== '') keyCount++;
    let ownKnown = 0;
    for (let k = 0; k < OPTION_KEYS.length; k++) if (hasOwn.call(opts, OPTION_KEYS[k])) ownKnown++;
    if (keyCount === ownKnown) {
      const readLabelSmoothing = opts.labelSmoothing;
      if (readLabelSmoothing !== undefined) labelSmoothing = readLabelSmoothing;
      const readSmoothing = opts.smoothing;
      if (readSmoothing !== undefined) smoothing = readSmoothing;
      posWeight = opts.posWeight;
      weight = opts.weight;
      const readReduction = opts.reduction;
      if (readReduction !== undefined) reduction = readReduction;
      threads = opts.threads;
      lossOut = opts.lossOut;
      if (lossOut !== undefined && !(op & Op.Forward)) throw unknownOption(fn, 'lossOut', op);
      gradOutput = opts.gradOutput;
      if (gradOutput !== undefined && !(op & Op.Backward)) throw unknownOption(fn, 'gradOutput', op);
      gradOut = opts.gradOut;
      if (gradOut !== undefined && !(op & Op.Backward)) throw unknownOption(fn, 'gradOut', op);
    } else {
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
          case 'lossOut': if (!(op & Op.Forward)) throw unknownOption(fn, key, op); lossOut = value; break;
          case 'gradOutput': if (!(op & Op.Backward)) throw unknownOption(fn, key, op); gradOutput = value; break;
          case 'gradOut': if (!(op & Op.Backward)) throw unknownOption(fn, key, op); gradOut = value; break;
          default: throw unknownOption(fn, key, op);
        }
      }
    }
  }

  // Reading the options may have run getters; they must not have detached or resized logits or targets.
  if (logits.length !== n || targets.length !== n) {
    throw new TypeError(`fused-bce: ${fn}: logits or targets was detached or resized while the options were read (by a getter)`);
  }

  checkSmoothing(fn, smoothing, 'options.smoothing');
  checkLabelSmoothing(fn, labelSmoothing, smoothing, 'options.labelSmoothing');
  checkReduction(fn, reduction, 'options.reduction');
  const threadCount = checkThreads(fn, threads, 'options.threads');

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

  const lossOutArray = (lossOut as Float32Array | undefined) ?? null;
  const gradOutArray = (gradOut as Float32Array | undefined) ?? null;
  const posWeightArray = (posWeight as Float32Array | undefined) ?? null;
  const weightArray = (weight as Float32Array | undefined) ?? null;
  if (lossOutArray !== null || gradOutArray !== null) {
    checkNoOverlap(fn, 'options.lossOut', lossOutArray, logits, targets, posWeightArray, weightArray, gradOutputArray, false);
    checkNoOverlap(fn, 'options.gradOut', gradOutArray, logits, targets, posWeightArray, weightArray, gradOutputArray, true);
    if (overlaps(lossOutArray, gradOutArray)) throw overlapError(fn, 'options.lossOut', 'options.gradOut', '');
  }

  const plan = sharedPlan;
  plan.logits = logits;
  plan.targets = targets;
  plan.n = n;
  plan.classes = classes;
  plan.posWeight = posWeightArray;
  plan.weight = weightArray;
  // Numbers go to the kernel in a Float64Array: passed as arguments, doubles would be boxed on every call.
  const params = plan.params;
  params[Param.Classes] = classes;
  params[Param.SmoothScale] = smoothingScale(labelSmoothing, smoothing);
  params[Param.SmoothShift] = smoothingShift(labelSmoothing, smoothing);
  params[Param.GradScale] = gradScale;
  params[Param.Threads] = threadCount;
  params[Param.WantLossSum] = 0;
  plan.reduction = reduction;
  plan.gradOutput = gradOutputArray;
  plan.lossOut = lossOutArray;
  plan.gradOut = gradOutArray;
  return plan;
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
  checkNoOverlap(fn, 'options.lossOut', lossOut, logits, targets, fixed.posWeight, fixed.weight, null, false);
  checkNoOverlap(fn, 'options.gradOut', gradOut, logits, targets, fixed.posWeight, fixed.weight, null, true);
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
