// Softmax cross-entropy's options and arrays turned into the kernel's positional arguments (the contract's
// CeKernelPass), everything validated first. A plan object is reused between calls, so that a training step
// allocates nothing here.
import { CeParam } from '../generated/contract';
import type { ClassTargets, Reduction } from '../api/types';
import { checkFloat32, checkReduction, checkThreads, describe, isDetached, isFloat32Array, typeError } from './checks';
import { checkOutputsApart, newCheckedArrays } from './outputs';
import type { CheckedArrays } from './outputs';
import { Op } from './bce-plan';

export { Op } from './bce-plan';

/** The options of cross-entropy fixed per loss object or per call (those that do not depend on the arrays). */
export interface CeFixedOptions {
  classes: number;
  labelSmoothing: number;
  ignoreIndex: number;
  weight: Float32Array | null;
  reduction: Reduction;
  threads: number;
}

export interface CePlan {
  /** The public function the plan is for, named in its errors. */
  fn: string;
  logits: Float32Array;
  targets: ClassTargets;
  n: number;
  rows: number;
  weight: Float32Array | null;
  reduction: Reduction;
  gradOutput: Float32Array | null;
  lossOut: Float32Array | null;
  gradOut: Float32Array | null;
  /** The kernel's numbers (CeParam slots). */
  params: Float64Array;
  checkedArrays: CheckedArrays;
  inputs: (ArrayBufferView | null)[];
  /** gradOut is logits' memory: the kernel is handed logits itself. */
  gradInPlace: boolean;
}

/** The gradient output to hand the kernel: logits itself for an in-place gradient. */
export function ceGradOutForKernel(plan: CePlan, gradOut: Float32Array | null): Float32Array | null {
  return plan.gradInPlace && gradOut !== null ? plan.logits : gradOut;
}

const INPUT_NAMES: readonly string[] = ['logits', 'targets', 'options.weight', 'options.gradOutput'];

/** A plan of its own (with its own parameter block), for a loss object or one call. */
export function createCePlan(fn: string): CePlan {
  const params = new Float64Array(CeParam.Count);
  params[CeParam.InvalidTargetAt] = -1;
  return {
    fn, logits: new Float32Array(0), targets: new Int32Array(0), n: 0, rows: 0, weight: null, reduction: 'mean',
    gradOutput: null, lossOut: null, gradOut: null, params, checkedArrays: newCheckedArrays(INPUT_NAMES.length),
    inputs: new Array(INPUT_NAMES.length).fill(null), gradInPlace: false,
  };
}

const sharedPlan: CePlan = createCePlan('');

/** The option names of cross-entropy: the loss object's, then those of the functional entry points. */
export const CE_OPTION_KEYS: readonly string[] = ['classes', 'labelSmoothing', 'weight', 'ignoreIndex', 'reduction', 'threads'];

function unknownOption(fn: string, key: string, op: Op): TypeError {
  const known: string[] = [...CE_OPTION_KEYS];
  if (op & Op.Forward) known.push('lossOut');
  if (op & Op.Backward) known.push('gradOutput', 'gradOut');
  const applies = ['lossOut', 'gradOutput', 'gradOut'].includes(key);
  return new TypeError(
    `fused-bce: ${fn}: ${applies ? `option ${key} does not apply here` : `unknown option ${JSON.stringify(key)}`}; ` +
      `the options are ${known.join(', ')}`,
  );
}

/**
 * The checks of the options that do not depend on the arrays (classes, labelSmoothing, weight, ignoreIndex,
 * reduction, threads), undefined meaning the default: the functional API's and the CrossEntropyLoss
 * constructor's, written once.
 */
export function ceFixedOptions(
  fn: string, classes: unknown, labelSmoothing: unknown, weight: unknown, ignoreIndex: unknown, reduction: unknown, threads: unknown,
  into: CeFixedOptions = { classes: 1, labelSmoothing: 0, ignoreIndex: -100, weight: null, reduction: 'mean', threads: 0 },
): CeFixedOptions {
  if (classes === undefined) throw new TypeError(`fused-bce: ${fn}: options.classes is required: the number of classes C (logits is [rows, C], row-major)`);
  if (typeof classes !== 'number') throw typeError(fn, 'options.classes', 'an integer >= 1 (the number of classes)', classes);
  if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`fused-bce: ${fn}: options.classes must be an integer >= 1, got ${describe(classes)}`);
  const eps = labelSmoothing === undefined ? 0 : labelSmoothing;
  if (typeof eps !== 'number') throw typeError(fn, 'options.labelSmoothing', 'a number in [0, 1]', eps);
  if (!(eps >= 0 && eps <= 1)) throw new RangeError(`fused-bce: ${fn}: options.labelSmoothing must be in [0, 1] (PyTorch's label_smoothing), got ${describe(eps)}`);
  if (weight !== undefined) {
    if (!isFloat32Array(weight)) throw typeError(fn, 'options.weight', `a Float32Array of length ${classes} (one weight per class)`, weight);
    checkFloat32(fn, weight, 'options.weight', '');
    if (weight.length !== classes) throw new RangeError(`fused-bce: ${fn}: options.weight must have length ${classes} (one weight per class), got ${describe(weight)}`);
  }
  const ignore = ignoreIndex === undefined ? -100 : ignoreIndex;
  if (typeof ignore !== 'number') throw typeError(fn, 'options.ignoreIndex', 'an integer (default -100)', ignore);
  if (!Number.isSafeInteger(ignore)) throw new RangeError(`fused-bce: ${fn}: options.ignoreIndex must be an integer, got ${describe(ignore)}`);
  const reductionOrDefault = reduction === undefined ? 'mean' : reduction;
  checkReduction(fn, reductionOrDefault, 'options.reduction');
  into.classes = classes;
  into.labelSmoothing = eps;
  into.ignoreIndex = ignore;
  into.weight = (weight as Float32Array | undefined) ?? null;
  into.reduction = reductionOrDefault;
  into.threads = checkThreads(fn, threads, 'options.threads');
  return into;
}

// The functional API's options, checked anew per call into one object (no allocation per call).
const sharedFixed: CeFixedOptions = { classes: 1, labelSmoothing: 0, ignoreIndex: -100, weight: null, reduction: 'mean', threads: 0 };

/** Checks logits and targets against the classes; returns the rows. */
export function checkCeArrays(fn: string, logits: unknown, targets: unknown, classes: number): number {
  checkFloat32(fn, logits, 'logits', 'a Float32Array of rows * C logits (row-major)');
  const n = logits.length;
  if (n % classes !== 0) {
    throw new RangeError(`fused-bce: ${fn}: logits length ${n} is not a multiple of options.classes ${classes}`);
  }
  const rows = n / classes;
  if (isFloat32Array(targets)) {
    checkFloat32(fn, targets, 'targets', '');
    if (targets.length !== n) {
      throw new RangeError(`fused-bce: ${fn}: targets as class probabilities (a Float32Array) must have length ${n} (the length of logits), got ${describe(targets)}`);
    }
  } else if (targets instanceof Int32Array || targets instanceof Uint16Array || targets instanceof Uint8Array) {
    checkFloat32Like(fn, targets);
    if (targets.length !== rows) {
      throw new RangeError(`fused-bce: ${fn}: targets as class indices must have length ${rows} (one per row: logits length ${n} / ${classes} classes), got ${describe(targets)}`);
    }
  } else {
    throw typeError(
      fn, 'targets',
      `class indices (an Int32Array, Uint16Array or Uint8Array of length ${rows}, one per row) or class probabilities (a Float32Array of length ${n})`,
      targets,
    );
  }
  return rows;
}

// A detached index array reads as empty; refused as the float arrays are.
function checkFloat32Like(fn: string, targets: Int32Array | Uint16Array | Uint8Array): void {
  if (isDetached(targets)) throw new TypeError(`fused-bce: ${fn}: targets is on a detached ArrayBuffer`);
}

// The per-row gradOutput of reduction 'none', or null (absent, or a number).
function gradOutputArray(fn: string, gradOutput: unknown, reduction: Reduction, rows: number): Float32Array | null {
  if (gradOutput === undefined || typeof gradOutput === 'number') return null;
  if (reduction !== 'none') {
    throw new TypeError(`fused-bce: ${fn}: options.gradOutput must be a number for reduction '${reduction}' (the loss is a scalar), got ${describe(gradOutput)}`);
  }
  if (!isFloat32Array(gradOutput)) throw typeError(fn, 'options.gradOutput', `a number or a Float32Array of length ${rows} (one per row, reduction 'none')`, gradOutput);
  checkFloat32(fn, gradOutput, 'options.gradOutput', '');
  if (gradOutput.length !== rows) throw new RangeError(`fused-bce: ${fn}: options.gradOutput must have length ${rows} (one per row), got ${describe(gradOutput)}`);
  return gradOutput;
}

function checkRowsOutput(fn: string, out: unknown, length: number, arg: string, what: string): asserts out is Float32Array {
  // (The expected-type text is built only on the error path: a template string here would allocate every call.)
  if (!isFloat32Array(out)) throw typeError(fn, arg, `a Float32Array of length ${length}`, out);
  checkFloat32(fn, out, arg, '');
  if (out.length !== length) throw new RangeError(`fused-bce: ${fn}: ${arg} must have length ${length} (${what}), got ${describe(out)}`);
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Validate a functional call and fill the shared plan. Throws TypeError/RangeError naming the argument; writes
 * nothing. The class indices are checked by the kernel's pre-pass, before it writes anything.
 */
export function prepareCePlan(fn: string, op: Op, logits: unknown, targets: unknown, options: unknown): CePlan {
  if (options === undefined || options === null || typeof options !== 'object') {
    throw new TypeError(`fused-bce: ${fn}: options must be an object with at least { classes }, got ${describe(options)}`);
  }
  const opts = options as Record<string, unknown>;
  // Each option read once here (a getter runs once per call).
  const classes = opts.classes, labelSmoothing = opts.labelSmoothing, weight = opts.weight, ignoreIndex = opts.ignoreIndex;
  const reduction = opts.reduction, threads = opts.threads, gradOutput = opts.gradOutput, lossOut = opts.lossOut, gradOut = opts.gradOut;
  let keyCount = 0;
  for (const key in opts) if (key !== '') keyCount++;
  const last = lastCeOptions;
  const same = options === last.options && op === last.op && keyCount === last.keyCount && classes === last.classes &&
    labelSmoothing === last.labelSmoothing && weight === last.weight && ignoreIndex === last.ignoreIndex &&
    reduction === last.reduction && threads === last.threads && (gradOutput === undefined) === last.noGradOutput &&
    (lossOut === undefined) === last.noLossOut && (gradOut === undefined) === last.noGradOut;
  if (!same) {
    last.options = null;
    for (const key in opts) {
      switch (key) {
        case 'classes': case 'labelSmoothing': case 'weight': case 'ignoreIndex': case 'reduction': case 'threads': break;
        case 'lossOut': if (lossOut !== undefined && !(op & Op.Forward)) throw unknownOption(fn, key, op); break;
        case 'gradOutput': case 'gradOut':
          if ((key === 'gradOut' ? gradOut : gradOutput) !== undefined && !(op & Op.Backward)) throw unknownOption(fn, key, op);
          break;
        default: if (key !== '' && (hasOwn.call(opts, key) || key in opts)) throw unknownOption(fn, key, op);
      }
    }
    ceFixedOptions(fn, classes, labelSmoothing, weight, ignoreIndex, reduction, threads, sharedFixed);
    // Remembered only where every key is one of the options, so that an unknown key cannot hide behind a count.
    let known = 0;
    for (let k = 0; k < READ_KEYS.length; k++) if (hasOwn.call(opts, READ_KEYS[k])) known++;
    if (known === keyCount) {
      Object.assign(last, {
        options, op, keyCount, classes, labelSmoothing, weight, ignoreIndex, reduction, threads,
        noGradOutput: gradOutput === undefined, noLossOut: lossOut === undefined, noGradOut: gradOut === undefined,
      });
    }
  }
  const plan = sharedPlan;
  planCall(fn, sharedFixed, logits, targets, gradOutput, lossOut, gradOut, plan);
  return plan;
}

// The options object the functional API last checked, with the values read from it: while a training loop passes
// the same object with the same values, its checks (which do not depend on the arrays) hold as they did and are not
// repeated; the arrays are checked on every call.
const READ_KEYS: readonly string[] = [...CE_OPTION_KEYS, 'lossOut', 'gradOutput', 'gradOut'];
const lastCeOptions = {
  options: null as object | null, op: 0 as Op, keyCount: 0, classes: undefined as unknown, labelSmoothing: undefined as unknown,
  weight: undefined as unknown, ignoreIndex: undefined as unknown, reduction: undefined as unknown, threads: undefined as unknown,
  noGradOutput: true, noLossOut: true, noGradOut: true,
};

/**
 * A call's plan from options checked by ceFixedOptions: the arrays checked (types, lengths, detached buffers,
 * outputs overlapping inputs), the parameter block filled. Writes into `plan`; allocates nothing.
 */
export function planCall(
  fn: string, fixed: CeFixedOptions, logits: unknown, targets: unknown, gradOutput: unknown, lossOut: unknown, gradOut: unknown,
  plan: CePlan,
): void {
  const rows = checkCeArrays(fn, logits, targets, fixed.classes);
  const lg = logits as Float32Array;
  const n = lg.length;
  const upstream = gradOutputArray(fn, gradOutput, fixed.reduction, rows);
  if (lossOut !== undefined && lossOut !== null) {
    if (fixed.reduction !== 'none') throw new TypeError(`fused-bce: ${fn}: options.lossOut is only used with reduction 'none' (got reduction '${fixed.reduction}')`);
    checkRowsOutput(fn, lossOut, rows, 'options.lossOut', 'one loss per row');
  }
  if (gradOut !== undefined && gradOut !== null) checkRowsOutput(fn, gradOut, n, 'options.gradOut', 'the length of logits');
  const lossOutArray = (lossOut as Float32Array | undefined) ?? null;
  const gradOutArray = (gradOut as Float32Array | undefined) ?? null;
  const inputs = plan.inputs;
  inputs[0] = lg;
  inputs[1] = targets as ClassTargets;
  inputs[2] = fixed.weight;
  inputs[3] = upstream;
  plan.gradInPlace = checkOutputsApart(fn, plan.checkedArrays, n, inputs, INPUT_NAMES, lossOutArray, gradOutArray);
  plan.fn = fn;
  plan.logits = lg;
  plan.targets = targets as ClassTargets;
  plan.n = n;
  plan.rows = rows;
  plan.weight = fixed.weight;
  plan.reduction = fixed.reduction;
  plan.gradOutput = upstream;
  plan.lossOut = lossOutArray;
  plan.gradOut = gradOutArray;
  const params = plan.params;
  params[CeParam.Classes] = fixed.classes;
  params[CeParam.LabelSmoothing] = fixed.labelSmoothing;
  params[CeParam.IgnoreIndex] = fixed.ignoreIndex;
  params[CeParam.GradScale] = typeof gradOutput === 'number' ? gradOutput : 1;
  params[CeParam.Threads] = fixed.threads;
  params[CeParam.WantLossSum] = 0;
  params[CeParam.Mean] = fixed.reduction === 'mean' ? 1 : 0;
}
