// fused-bce: label-smoothed binary cross-entropy with logits, forward and backward in one pass.
export { bceWithLogits, bceWithLogitsBackward, bceWithLogitsFused, bceWithLogitsFusedAsync } from './loss';
export { smoothTargets, smoothingCoefficients } from './smoothing';
export { BCEWithLogitsLoss } from './module';
export { backend, useBackend, availableBackends, nativeLoadError, wasmLoadError, parallelism, ready } from './backend';
export type {
  BackendInfo, ParallelInfo, BackwardOptions, ForwardOptions, FusedOptions, FusedResult, LossOptions, Reduction, Smoothing, Targets,
} from './types';
export type { SmoothingCoefficients } from './smoothing';
export type { LossValue } from './module';
