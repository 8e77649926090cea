// A one-hidden-layer MLP (inputs -> hidden ReLU -> outputs logits) with Adam, written out by hand: the loss and its
// gradient with respect to the logits come from a fused-bce loss object (BCEWithLogitsLoss for the multi-label
// experiment, CrossEntropyLoss for MNIST), the rest is here.
import { standardNormal, uniformGenerator } from './random';

/** What a training step needs of a loss object: forward() keeps the gradient that backward() returns. */
export interface FusedLoss<T> {
  forward(logits: Float32Array, targets: T): number;
  backward(): Float32Array;
}

class Param {
  readonly value: Float32Array;
  readonly grad: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  constructor(size: number, scale: number, random: () => number) {
    this.value = Float32Array.from({ length: size }, () => scale * standardNormal(random));
    this.grad = new Float32Array(size);
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }
  adam(step: number, lr: number, beta1 = 0.9, beta2 = 0.999, eps = 1e-8): void {
    const c1 = 1 - beta1 ** step;
    const c2 = 1 - beta2 ** step;
    for (let i = 0; i < this.value.length; i++) {
      this.m[i] = beta1 * this.m[i] + (1 - beta1) * this.grad[i];
      this.v[i] = beta2 * this.v[i] + (1 - beta2) * this.grad[i] * this.grad[i];
      this.value[i] -= (lr * (this.m[i] / c1)) / (Math.sqrt(this.v[i] / c2) + eps);
    }
  }
}

export class Mlp {
  private readonly w1: Param;
  private readonly b1: Param;
  private readonly w2: Param;
  private readonly b2: Param;
  private step = 0;
  // Per-batch buffers, reused: a training step allocates nothing.
  private hidden = new Float32Array(0);
  private logits = new Float32Array(0);
  private dHidden = new Float32Array(0);

  constructor(readonly inputs: number, readonly hiddenSize: number, readonly outputs: number, seed: number) {
    const random = uniformGenerator(seed);
    this.w1 = new Param(inputs * hiddenSize, Math.sqrt(2 / inputs), random);
    this.b1 = new Param(hiddenSize, 0, random);
    this.w2 = new Param(hiddenSize * outputs, Math.sqrt(1 / hiddenSize), random);
    this.b2 = new Param(outputs, 0, random);
  }

  /** Logits for a batch of `rows` inputs (rows x inputs), into a reused buffer. */
  forward(x: Float32Array, rows: number): Float32Array {
    const { inputs, hiddenSize: h, outputs } = this;
    if (this.hidden.length !== rows * h) {
      this.hidden = new Float32Array(rows * h);
      this.logits = new Float32Array(rows * outputs);
      this.dHidden = new Float32Array(rows * h);
    }
    const w1 = this.w1.value, b1 = this.b1.value, w2 = this.w2.value, b2 = this.b2.value;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < h; j++) {
        let s = b1[j];
        for (let i = 0; i < inputs; i++) s += x[r * inputs + i] * w1[i * h + j];
        this.hidden[r * h + j] = s > 0 ? s : 0;
      }
      for (let k = 0; k < outputs; k++) {
        let s = b2[k];
        for (let j = 0; j < h; j++) s += this.hidden[r * h + j] * w2[j * outputs + k];
        this.logits[r * outputs + k] = s;
      }
    }
    return this.logits;
  }

  /** One training step on a batch: forward, fused loss and gradient, backward, Adam. Returns the loss. */
  trainStep<T>(x: Float32Array, labels: T, rows: number, loss: FusedLoss<T>, lr: number): number {
    const { inputs, hiddenSize: h, outputs } = this;
    const logits = this.forward(x, rows);
    const value = loss.forward(logits, labels);
    const dLogits = loss.backward();
    const w2 = this.w2.value;
    this.w1.grad.fill(0); this.b1.grad.fill(0); this.w2.grad.fill(0); this.b2.grad.fill(0);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < outputs; k++) {
        const g = dLogits[r * outputs + k];
        this.b2.grad[k] += g;
        for (let j = 0; j < h; j++) this.w2.grad[j * outputs + k] += this.hidden[r * h + j] * g;
      }
      for (let j = 0; j < h; j++) {
        if (this.hidden[r * h + j] <= 0) { this.dHidden[r * h + j] = 0; continue; }
        let s = 0;
        for (let k = 0; k < outputs; k++) s += dLogits[r * outputs + k] * w2[j * outputs + k];
        this.dHidden[r * h + j] = s;
        this.b1.grad[j] += s;
      }
      for (let i = 0; i < inputs; i++) {
        const xi = x[r * inputs + i];
        if (xi === 0) continue;
        for (let j = 0; j < h; j++) this.w1.grad[i * h + j] += xi * this.dHidden[r * h + j];
      }
    }
    this.step++;
    for (const p of [this.w1, this.b1, this.w2, this.b2]) p.adam(this.step, lr);
    return value;
  }
}
