// fused-bce: label-smoothed binary cross-entropy with logits, forward and backward in one pass.
export { bceWithLogits, bceWithLogitsBackward, bceWithLogitsFused, bceWithLogitsFusedAsync } from './api/bce';
export { smoothTargets, smoothingCoefficients } from './api/smoothing';
export { BCEWithLogitsLoss } from './api/bce-loss';
export { crossEntropy, crossEntropyBackward, crossEntropyFused, crossEntropyFusedAsync } from './api/cross-entropy';
export { CrossEntropyLoss } from './api/cross-entropy-loss';
export { backend, useBackend, availableBackends, nativeLoadError, wasmLoadError, parallelism, ready } from './backends/select';
export type { BackendInfo, ParallelInfo, BackwardOptions, FocalOptions, ForwardOptions, FusedOptions, FusedResult, LossOptions, Reduction, Smoothing, Targets,
  ClassIndices, ClassTargets, CrossEntropyOptions, CrossEntropyForwardOptions, CrossEntropyBackwardOptions, CrossEntropyFusedOptions,
} from './api/types';
export type { SmoothingCoefficients } from './api/smoothing';
export type { LossValue } from './api/bce-loss';
