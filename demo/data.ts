// A ChestMNIST-like multi-label problem, generated from a fixed seed (no downloads): 8x8 "images", 14 binary
// findings per sample with prevalences of 1.5% to 12% (most labels 0, as in ChestMNIST), each finding adding
// its own smooth pattern to the image, plus pixel noise and label noise (some findings missed, a few invented).
import { standardNormal, uniformGenerator } from './random';

export const FEATURES = 64;
export const LABELS = 14;

export interface Dataset {
  n: number;
  /** n x FEATURES, row-major. */
  images: Float32Array;
  /** n x LABELS hard labels as the annotator recorded them (with noise). */
  labels: Uint8Array;
}

export interface Problem {
  train: Dataset;
  test: Dataset;
}

export function makeProblem(trainSize: number, testSize: number, seed = 20261130): Problem {
  const random = uniformGenerator(seed);
  const prevalence = Array.from({ length: LABELS }, (_, k) => 0.015 + (0.105 * k) / (LABELS - 1));
  // Each finding: a blob at its own place and scale, with a signed strength (some are faint).
  const patterns: Float32Array[] = [];
  for (let k = 0; k < LABELS; k++) {
    const cx = random() * 7;
    const cy = random() * 7;
    const radius = 1 + random() * 2;
    const strength = (random() < 0.5 ? -1 : 1) * (0.35 + 0.5 * random());
    const p = new Float32Array(FEATURES);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) p[y * 8 + x] = strength * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius * radius));
    patterns.push(p);
  }
  const make = (n: number): Dataset => {
    const images = new Float32Array(n * FEATURES);
    const labels = new Uint8Array(n * LABELS);
    for (let i = 0; i < n; i++) {
      const image = images.subarray(i * FEATURES, (i + 1) * FEATURES);
      for (let f = 0; f < FEATURES; f++) image[f] = 0.6 * standardNormal(random);
      for (let k = 0; k < LABELS; k++) {
        const present = random() < prevalence[k];
        if (present) for (let f = 0; f < FEATURES; f++) image[f] += patterns[k][f] * (0.6 + 0.8 * random());
        // Label noise: 15% of true findings are missed, 0.5% of absent ones are reported.
        const recorded = present ? random() >= 0.15 : random() < 0.005;
        labels[i * LABELS + k] = recorded ? 1 : 0;
      }
    }
    return { n, images, labels };
  };
  return { train: make(trainSize), test: make(testSize) };
}
