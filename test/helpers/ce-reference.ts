// An independent float64 softmax cross-entropy (PyTorch's semantics), for the magnitudes of the terms of each
// value: a row's loss (the sum of its terms' magnitudes) and each gradient element (|K p_c| + |own_c|).
export interface CeRowReference {
  loss: number;
  lossMagnitude: number;
  grad: Float64Array;
  gradMagnitude: Float64Array;
}

export function ceRowReference(
  x: ArrayLike<number>, classes: number, target: number | null, probabilities: ArrayLike<number> | null, eps: number,
  weight: ArrayLike<number> | null,
): CeRowReference {
  let max = -Infinity;
  let maxAt = 0;
  for (let c = 0; c < classes; c++) {
    if (x[c] > max) {
      max = x[c];
      maxAt = c;
    }
  }
  // The sum of e^(x - max) over every class but one maximal one: log1p of it keeps a confident row's tiny loss.
  // (x - max is exact in float64; a row with a NaN is NaN.)
  let others = 0;
  for (let c = 0; c < classes; c++) {
    if (Number.isNaN(x[c])) others = NaN;
    else if (c !== maxAt) others += x[c] === max ? 1 : Math.exp(x[c] - max);
  }
  const sum = max === -Infinity ? NaN : 1 + others;
  const logSum = max === -Infinity ? NaN : Math.log1p(others);
  const coefficient = new Float64Array(classes);
  let total = 0;
  for (let c = 0; c < classes; c++) {
    const w = weight === null ? 1 : weight[c];
    // (For class indices, a class's weight counts only where its coefficient is not 0: PyTorch has no smoothing
    // term at all when eps is 0, so a NaN or infinite weight of another class does not reach the row.)
    coefficient[c] = probabilities !== null ? w * (probabilities[c] * (1 - eps) + eps / classes)
      : (c === target ? (1 - eps) * w : 0) + (eps === 0 ? 0 : (eps / classes) * w);
    total += coefficient[c];
  }
  let loss = 0;
  let lossMagnitude = 0;
  const grad = new Float64Array(classes);
  const gradMagnitude = new Float64Array(classes);
  for (let c = 0; c < classes; c++) {
    const negLogP = (x[c] === max ? 0 : max - x[c]) + logSum;
    const term = coefficient[c] === 0 ? 0 : coefficient[c] * negLogP;
    loss += term;
    lossMagnitude += Math.abs(term);
    const p = (x[c] === max ? 1 : Math.exp(x[c] - max)) / sum;
    grad[c] = total * p - coefficient[c];
    gradMagnitude[c] = Math.abs(total * p) + Math.abs(coefficient[c]);
  }
  return { loss, lossMagnitude, grad, gradMagnitude };
}
