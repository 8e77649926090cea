// A PyTorch-style loss object: forward() runs the fused pass and keeps the gradient for backward().
import { LOSS_OPTION_KEYS } from './types';
import { Param } from '../backends/kernel';
import type { LossOptions, Reduction, Targets } from './types';
import { bceWithLogitsBackward, fusedPass } from './bce';
import { createPlan, fixedOptions, planFixed } from '../options/bce-plan';
import type { FixedOptions, Plan } from '../options/bce-plan';
import { checkFloat32, checkLogits, describe } from '../options/checks';

const FN = 'BCEWithLogitsLoss';
// Whole names as constants: a template string in forward() or backward() would allocate on every step.
const FORWARD = `${FN}.forward`;
const BACKWARD = `${FN}.backward`;

interface CallOptions extends LossOptions {
  gradOut?: Float32Array;
  lossOut?: Float32Array;
}

/** What forward() returns for a reduction: the per-element losses for 'none', else the reduced number. */
export type LossValue<R extends Reduction> = R extends 'none' ? Float32Array : number;

/**
 * A PyTorch-style loss object: `new BCEWithLogitsLoss(options)` checks the options once; `forward(logits, targets)`
 * returns the loss and computes the gradient in the same pass; `backward()` returns it. The gradient (and, for
 * reduction 'none', the loss array) live in buffers owned by this object and reused by the next forward() of the
 * same length: copy them to keep them.
 *
 * @example
 * ```ts
 * const loss = new BCEWithLogitsLoss({ labelSmoothing: 0.05 });
 * const value = loss.forward(logits, labels);
 * model.backward(loss.backward());
 * ```
 */
export class BCEWithLogitsLoss<R extends Reduction = 'mean'> {
  /** The options as given, with their defaults filled in. */
  readonly options: Readonly<LossOptions>;
  // Validated once here; each step checks only its arrays (planFixed), into this object's own plan.
  private readonly fixed: FixedOptions;
  private readonly plan: Plan = createPlan(FORWARD);
  private readonly backwardCall: CallOptions & { gradOutput?: number | Float32Array };
  private lastLogits: Float32Array | null = null;
  private lastTargets: Targets | null = null;
  private grad: Float32Array | null = null;
  private losses: Float32Array | null = null;
  private gradReady = false;
  private gradScaled = false;
  // The last reduced loss (NaN for reduction 'none'), in a Float64Array: a number stored into an object field
  // (here a class field) can allocate a box on every store.
  private readonly lastLoss = new Float64Array(1);

  constructor(options: LossOptions & { reduction?: R } = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`fused-bce: ${FN}: options must be an object, got ${describe(options)}`);
    }
    const { labelSmoothing = 0, smoothing = 'symmetric', posWeight, weight, reduction = 'mean', threads = 'auto', focal } = options;
    for (const key in options) {
      if (!(LOSS_OPTION_KEYS as readonly string[]).includes(key)) {
        throw new TypeError(`fused-bce: ${FN}: unknown option ${JSON.stringify(key)}; the options are ${LOSS_OPTION_KEYS.join(', ')}`);
      }
    }
    const fixed = fixedOptions(FN, labelSmoothing, smoothing, reduction, threads, focal);
    if (posWeight !== undefined) checkFloat32(FN, posWeight, 'options.posWeight', 'a Float32Array with one weight per class');
    if (weight !== undefined) checkFloat32(FN, weight, 'options.weight', 'a Float32Array of length n or C');
    // (focal copied: a later change to the caller's object must not change this loss.)
    const focalCopy = focal === undefined ? undefined : Object.freeze(fixed.focalAlpha >= 0 ? { gamma: fixed.focalGamma, alpha: fixed.focalAlpha } : { gamma: fixed.focalGamma });
    this.options = Object.freeze({ labelSmoothing, smoothing, posWeight, weight, reduction, threads, focal: focalCopy });
    this.fixed = { ...fixed, posWeight: posWeight ?? null, weight: weight ?? null };
    this.backwardCall = { labelSmoothing, smoothing, posWeight, weight, reduction, threads, focal: focalCopy, gradOut: undefined, gradOutput: undefined };
  }

  /** The loss (number, or per-element Float32Array for reduction 'none'); the gradient is kept for backward(). */
  forward(logits: Float32Array, targets: Targets): LossValue<R> {
    // Small enough for V8 to inline where it is called: a number returned from a call that is not inlined is
    // boxed (an allocation per step); the loss waits in a Float64Array slot.
    this.step(logits, targets);
    return (this.fixed.reduction === 'none' ? this.losses : this.lastLoss[0]) as LossValue<R>;
  }

  private step(logits: Float32Array, targets: Targets): void {
    checkLogits(FORWARD, logits);
    const n = logits.length;
    if (this.grad === null || this.grad.length !== n) this.grad = new Float32Array(n);
    const none = this.fixed.reduction === 'none';
    if (none && (this.losses === null || this.losses.length !== n)) this.losses = new Float32Array(n);
    this.gradReady = false;
    const plan = planFixed(FORWARD, this.fixed, logits, targets, none ? this.losses : null, this.grad, this.plan);
    // The gradient is ready only once the pass has run (it throws on a bad label before writing anything).
    fusedPass(plan, plan.reduction === 'none' ? this.losses : null, this.grad);
    this.gradReady = true;
    this.gradScaled = false;
    this.lastLogits = logits;
    this.lastTargets = targets;
    // (Not through reducedValue(): a number returned from a call V8 does not inline is boxed. And NaN is stored
    // in a branch of its own: as one arm of a conditional with float64 arms, the constant made V8 box them.)
    if (plan.reduction === 'none') {
      this.lastLoss[0] = NaN;
    } else {
      const sum = plan.params[Param.LossSum];
      this.lastLoss[0] = plan.reduction === 'mean' ? sum / plan.n : sum;
    }
  }

  /**
   * d(loss)/d(logits) from the last forward(). With `gradOutput` (a number, or a Float32Array of length n for
   * reduction 'none') the gradient is recomputed by the kernel with it as the upstream gradient, so it is rounded
   * once (a product of the stored gradient would round twice); that pass reads the last forward()'s logits and
   * targets, which must be unchanged. Once per forward().
   */
  backward(gradOutput?: number | Float32Array): Float32Array {
    const fn = BACKWARD;
    if (!this.gradReady || this.grad === null) throw new Error(`fused-bce: ${fn}: call forward() first`);
    const grad = this.grad;
    if (gradOutput === undefined || gradOutput === 1) return grad;
    if (this.gradScaled) throw new Error(`fused-bce: ${fn}: gradOutput was already applied to this gradient; call forward() again`);
    if (typeof gradOutput !== 'number') {
      if (this.fixed.reduction !== 'none') {
        throw new TypeError(`fused-bce: ${fn}: gradOutput must be a number for reduction '${this.fixed.reduction}', got ${describe(gradOutput)}`);
      }
      checkFloat32(fn, gradOutput, 'gradOutput', `a number or a Float32Array of length ${grad.length}`);
      if (gradOutput.length !== grad.length) {
        throw new RangeError(`fused-bce: ${fn}: gradOutput must have length ${grad.length} (the length of logits), got ${describe(gradOutput)}`);
      }
    }
    this.backwardCall.gradOutput = gradOutput;
    this.backwardCall.gradOut = grad;
    bceWithLogitsBackward(this.lastLogits as Float32Array, this.lastTargets as Targets, this.backwardCall);
    this.backwardCall.gradOutput = undefined;
    this.gradScaled = true;
    return grad;
  }
}
