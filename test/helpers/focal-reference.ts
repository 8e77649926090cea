// An independent float64 reference for the focal loss, in a different form from the kernels: p = sigmoid(x) and
// 1 - p = sigmoid(-x) each accurate, q = p (1 - t) + (1 - p) t, bce from the two softplus terms (test/helpers/
// reference.ts), q^gamma by Math.pow, d(q^gamma)/dx = gamma q^gamma (p (1 - p) / q)(1 - 2t).
import { sigmoid, smoothed, softplus } from './reference';
import type { Convention } from './reference';

/** One element of a PyTorch focal case (test/fixtures/torch-focal.json.gz). */
export interface TorchFocalCase {
  name: string;
  note: string;
  n: number;
  logits: number[];
  targets: number[];
  targetsDtype: 'uint8' | 'float32';
  labelSmoothing: number | null;
  convention: Convention | null;
  gamma: number;
  alpha: number;
  gradOutput: number[];
  truth: Record<'none' | 'mean' | 'sum', { loss: number | number[]; grad: number[] }>;
  torchFloat32: Record<'none' | 'mean' | 'sum', { loss: number | number[]; grad: number[] }>;
  torchFloat64: Record<'none' | 'mean' | 'sum', { loss: number | number[]; grad: number[] }>;
}

export interface FocalElement {
  loss: number;
  /** The loss's terms are >= 0: its own magnitude. */
  lossMagnitude: number;
  /** d loss / d x for an upstream gradient of 1. */
  grad: number;
  /** |w alpha_t| (|d(q^gamma)/dx| bce + q^gamma (p + t)), the scale of the gradient's rounding error (the bound). */
  gradMagnitude: number;
}

/** alpha < 0: no alpha weighting (torchvision's convention). */
export function focalElement(
  x: number, y: number, a: number, convention: Convention, gamma: number, alpha: number, p = 1, w = 1,
): FocalElement {
  if (w === 0) return { loss: 0, lossMagnitude: 0, grad: 0, gradMagnitude: 0 };
  const t = smoothed(y, a, convention);
  const negT = smoothed(1 - y, a, convention);
  const prob = sigmoid(x), probNeg = sigmoid(-x);
  const pos = p * t;
  const t1 = negT === 0 ? 0 : negT * softplus(x);
  const t2 = pos === 0 ? 0 : pos * softplus(-x);
  const bce = t1 + t2;
  const bceSlope = negT * prob - pos * probNeg;
  const q = prob * negT + probNeg * t;
  const focal = gamma === 0 ? 1 : Math.pow(q, gamma);
  // p (1 - p) / q, finite as q -> 0 (then lin = 0 and it tends to 1 / oth).
  const ratio = q > 0 ? (prob * probNeg) / q : 1 / (x >= 0 ? t : negT);
  const focalSlope = gamma === 0 ? 0 : gamma * focal * ratio * (negT - t);
  const alphaT = alpha >= 0 ? alpha * t + (1 - alpha) * negT : 1;
  // A weight of 0 (w, or alpha_t) masks, whatever the other factors (even an infinite w).
  if (alphaT === 0) return { loss: 0, lossMagnitude: 0, grad: 0, gradMagnitude: 0 };
  const weight = w * alphaT;
  const slopeTerm = focalSlope === 0 ? 0 : focalSlope * bce;
  const loss = weight * focal * bce;
  // (terms of either sign with a negative posWeight: their magnitudes)
  const bceMagnitude = Math.abs(t1) + Math.abs(t2);
  return {
    loss,
    lossMagnitude: Math.abs(weight) * focal * bceMagnitude,
    grad: weight * (slopeTerm + focal * bceSlope),
    gradMagnitude: Math.abs(weight) * ((focalSlope === 0 ? 0 : Math.abs(focalSlope) * bceMagnitude) + focal * (Math.abs(prob * (negT + pos)) + Math.abs(pos))),
  };
}
