// ES module entry: re-exports the CommonJS build, so `import` and `require` share one backend state.
import cjs from '../dist/index.js';

export const {
  bceWithLogits,
  bceWithLogitsBackward,
  bceWithLogitsFused,
  bceWithLogitsFusedAsync,
  smoothTargets,
  smoothingCoefficients,
  BCEWithLogitsLoss,
  crossEntropy,
  crossEntropyBackward,
  crossEntropyFused,
  crossEntropyFusedAsync,
  CrossEntropyLoss,
  backend,
  useBackend,
  availableBackends,
  nativeLoadError,
  wasmLoadError,
  parallelism,
  ready,
} = cjs;
export default cjs;
