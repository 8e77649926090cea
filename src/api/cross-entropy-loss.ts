// A PyTorch-style softmax cross-entropy object: forward() runs the fused pass and keeps the gradient for backward().
import { CeParam } from '../generated/contract';
import type { ClassTargets, CrossEntropyOptions, Reduction } from './types';
import { cePlanPass } from './cross-entropy';
import { CE_OPTION_KEYS, ceFixedOptions, createCePlan, planCall } from '../options/ce-plan';
import type { CeFixedOptions, CePlan } from '../options/ce-plan';
import { checkFloat32, describe } from '../options/checks';
import type { LossValue } from './bce-loss';

const FN = 'CrossEntropyLoss';
const FORWARD = `${FN}.forward`;
const BACKWARD = `${FN}.backward`;

/**
 * Softmax cross-entropy as a PyTorch-style loss object (`torch.nn.CrossEntropyLoss`): `new
 * CrossEntropyLoss(options)` checks the options once; `forward(logits, targets)` returns the loss and computes the
 * gradient in the same pass; `backward()` returns it. The gradient (and, for reduction 'none', the loss array)
 * live in buffers owned by this object and reused by the next forward() of the same size: copy them to keep them.
 *
 * @example
 * ```ts
 * const loss = new CrossEntropyLoss({ classes: 10, labelSmoothing: 0.1 });
 * const value = loss.forward(logits, labels); // labels: an Int32Array, one class index per row
 * model.backward(loss.backward());
 * ```
 */
export class CrossEntropyLoss<R extends Reduction = 'mean'> {
  /** The options as given, with their defaults filled in. */
  readonly options: Readonly<CrossEntropyOptions>;
  private readonly fixed: CeFixedOptions;
  private readonly plan: CePlan = createCePlan(FORWARD);
  private readonly backwardPlan: CePlan = createCePlan(BACKWARD);
  private lastLogits: Float32Array | null = null;
  private lastTargets: ClassTargets | null = null;
  private grad: Float32Array | null = null;
  private losses: Float32Array | null = null;
  private gradReady = false;
  private gradScaled = false;
  private readonly lastLoss = new Float64Array(1);

  constructor(options: CrossEntropyOptions & { reduction?: R }) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`fused-bce: ${FN}: options must be an object with at least { classes }, got ${describe(options)}`);
    }
    for (const key in options) {
      if (!CE_OPTION_KEYS.includes(key)) {
        throw new TypeError(`fused-bce: ${FN}: unknown option ${JSON.stringify(key)}; the options are ${CE_OPTION_KEYS.join(', ')}`);
      }
    }
    const { classes, labelSmoothing = 0, weight, ignoreIndex = -100, reduction = 'mean', threads = 'auto' } = options;
    this.fixed = ceFixedOptions(FN, classes, labelSmoothing, weight, ignoreIndex, reduction, threads);
    this.options = Object.freeze({ classes, labelSmoothing, weight, ignoreIndex, reduction, threads });
  }

  /** The loss (a number, or the per-row Float32Array for reduction 'none'); the gradient is kept for backward(). */
  forward(logits: Float32Array, targets: ClassTargets): LossValue<R> {
    this.step(logits, targets);
    return (this.fixed.reduction === 'none' ? this.losses : this.lastLoss[0]) as LossValue<R>;
  }

  private step(logits: Float32Array, targets: ClassTargets): void {
    const n = logits instanceof Float32Array ? logits.length : 0;
    if (this.grad === null || this.grad.length !== n) this.grad = new Float32Array(n);
    const none = this.fixed.reduction === 'none';
    const rows = Math.floor(n / this.fixed.classes);
    if (none && (this.losses === null || this.losses.length !== rows)) this.losses = new Float32Array(rows);
    this.gradReady = false;
    const plan = this.plan;
    planCall(FORWARD, this.fixed, logits, targets, undefined, none ? this.losses : undefined, this.grad, plan);
    cePlanPass(plan, none ? this.losses : null, this.grad, null);
    this.gradReady = true;
    this.gradScaled = false;
    this.lastLogits = logits;
    this.lastTargets = targets;
    if (none) {
      this.lastLoss[0] = NaN;
    } else {
      const sum = plan.params[CeParam.LossSum];
      this.lastLoss[0] = this.fixed.reduction === 'mean' ? sum / plan.params[CeParam.MeanDivisor] : sum;
    }
  }

  /**
   * d(loss)/d(logits) from the last forward(). With `gradOutput` (a number, or a Float32Array of length rows for
   * reduction 'none') the gradient is recomputed by the kernel with it as the upstream gradient (rounded once);
   * that pass reads the last forward()'s logits and targets, which must be unchanged. Once per forward().
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
      checkFloat32(fn, gradOutput, 'gradOutput', `a number or a Float32Array of length ${this.plan.rows}`);
    }
    const plan = this.backwardPlan;
    planCall(fn, this.fixed, this.lastLogits, this.lastTargets, gradOutput, undefined, grad, plan);
    cePlanPass(plan, null, grad, plan.gradOutput);
    this.gradScaled = true;
    return grad;
  }
}
