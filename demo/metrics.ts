// Evaluation as in the tutorial: macro AUC over the labels, the expected calibration error of the predicted
// probabilities, and their histogram.
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** AUC of one label (Mann-Whitney: the probability that a positive scores above a negative; ties count half). */
export function auc(scores: Float64Array, labels: Uint8Array): number {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && scores[order[j]] === scores[order[i]]) j++;
    const averageRank = (i + j + 1) / 2; // ranks i+1 .. j
    for (let k = i; k < j; k++) if (labels[order[k]] === 1) { positives++; rankSum += averageRank; }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean AUC over the labels (columns of an n x labels matrix). */
export function macroAuc(probabilities: Float32Array, labels: Uint8Array, n: number, labelCount: number): number {
  let total = 0;
  let counted = 0;
  const scores = new Float64Array(n);
  const column = new Uint8Array(n);
  for (let k = 0; k < labelCount; k++) {
    for (let i = 0; i < n; i++) {
      scores[i] = probabilities[i * labelCount + k];
      column[i] = labels[i * labelCount + k];
    }
    const a = auc(scores, column);
    if (!Number.isNaN(a)) { total += a; counted++; }
  }
  return total / counted;
}

/** Expected calibration error over all (sample, label) predictions, in equal-width bins. */
export function expectedCalibrationError(probabilities: Float32Array, labels: Uint8Array, bins = 15): number {
  const count = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  const frequency = new Float64Array(bins);
  for (let i = 0; i < probabilities.length; i++) {
    const b = Math.min(bins - 1, Math.floor(probabilities[i] * bins));
    count[b]++;
    confidence[b] += probabilities[i];
    frequency[b] += labels[i];
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) ece += Math.abs(confidence[b] - frequency[b]);
  return ece / probabilities.length;
}

export function histogram(values: Float32Array, bins: number): number[] {
  const h = new Array<number>(bins).fill(0);
  for (const v of values) h[Math.min(bins - 1, Math.floor(v * bins))]++;
  return h;
}
