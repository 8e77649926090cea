// The tutorial's experiment: the same MLP trained on the same data with labelSmoothing 0 and 0.05
// (symmetric, y' = y (1 - 2a) + a), and with the focal loss (gamma 2) on the smoothed targets, compared by
// held-out macro AUC, calibration, and predicted probabilities.
import { BCEWithLogitsLoss } from '../src/index';
import type { FocalOptions } from '../src/index';
import { FEATURES, LABELS, makeProblem } from './data';
import type { Dataset } from './data';
import { Mlp } from './model';
import { expectedCalibrationError, histogram, macroAuc, sigmoid } from './metrics';

export interface ExperimentOptions {
  trainSize: number;
  testSize: number;
  epochs: number;
  batch?: number;
  hidden?: number;
  learningRate?: number;
  runs?: RunSpec[];
  log?: (line: string) => void;
}

/** One training run: its label smoothing rate and, for the focal loss, its focal term. */
export interface RunSpec {
  labelSmoothing: number;
  focal?: FocalOptions;
}

/** The default runs: plain BCE, smoothed BCE (the tutorial's a = 0.05), and focal loss (gamma 2) smoothed the same. */
export const DEMO_RUNS: readonly RunSpec[] = [{ labelSmoothing: 0 }, { labelSmoothing: 0.05 }, { labelSmoothing: 0.05, focal: { gamma: 2 } }];

/** A run's name in logs and legends. */
export function runLabel(run: RunSpec): string {
  return `${run.focal ? `focal gamma ${run.focal.gamma}, ` : ''}labelSmoothing ${run.labelSmoothing}`;
}

export interface RunResult extends RunSpec {
  epochs: { epoch: number; trainLoss: number; testAuc: number; testEce: number }[];
  /** Predicted probabilities on the test set after the last epoch (n x LABELS). */
  probabilities: Float32Array;
  histogram: number[];
}

function predict(model: Mlp, data: Dataset, batch: number): Float32Array {
  const out = new Float32Array(data.n * LABELS);
  for (let start = 0; start < data.n; start += batch) {
    const rows = Math.min(batch, data.n - start);
    const logits = model.forward(data.images.subarray(start * FEATURES, (start + rows) * FEATURES), rows);
    for (let i = 0; i < rows * LABELS; i++) out[start * LABELS + i] = sigmoid(logits[i]);
  }
  return out;
}

/**
 * The experiment one epoch at a time: after each epoch it yields the results so far (the finished runs and the
 * current one), so that a page can draw them as they come; it returns the finished runs.
 */
export function* experimentEpochs(options: ExperimentOptions): Generator<RunResult[], RunResult[]> {
  const { trainSize, testSize, epochs, batch = 128, hidden = 32, learningRate = 5e-3, runs = DEMO_RUNS } = options;
  const log = options.log ?? (() => undefined);
  const { train, test } = makeProblem(trainSize, testSize);
  const results: RunResult[] = [];
  for (const spec of runs) {
    const { labelSmoothing, focal } = spec;
    const model = new Mlp(FEATURES, hidden, LABELS, 7); // the same initial weights for every run
    const loss = new BCEWithLogitsLoss({ labelSmoothing, focal });
    const epochsLog: RunResult['epochs'] = [];
    let current: RunResult = { ...spec, epochs: epochsLog, probabilities: new Float32Array(0), histogram: [] };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let total = 0;
      let batches = 0;
      for (let start = 0; start + batch <= train.n; start += batch) {
        const x = train.images.subarray(start * FEATURES, (start + batch) * FEATURES);
        const y = train.labels.subarray(start * LABELS, (start + batch) * LABELS);
        total += model.trainStep(x, y, batch, loss, learningRate);
        batches++;
      }
      const probabilities = predict(model, test, 512);
      const testAuc = macroAuc(probabilities, test.labels, test.n, LABELS);
      const testEce = expectedCalibrationError(probabilities, test.labels);
      epochsLog.push({ epoch, trainLoss: total / batches, testAuc, testEce });
      log(`${runLabel(spec)} epoch ${String(epoch).padStart(2)}: train loss ${(total / batches).toFixed(4)}, test macro AUC ${testAuc.toFixed(4)}, ECE ${testEce.toFixed(4)}`);
      current = { ...spec, epochs: epochsLog, probabilities, histogram: histogram(probabilities, 50) };
      yield [...results, current];
    }
    results.push(current);
  }
  return results;
}

export function runExperiment(options: ExperimentOptions): RunResult[] {
  const steps = experimentEpochs(options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
