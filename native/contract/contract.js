// What the TypeScript side and the C++ side must agree on, written once. native/contract/generate.js turns it into
// native/generated/contract.h and src/generated/contract.ts; a test regenerates both and fails when either file
// differs from what this source gives (run `npm run build:contract` after an edit here).
'use strict';

module.exports = {
  // The numeric parameter block of a kernel pass: a Float64Array, so that no number is boxed per call. Slots
  // marked `out` are written by the pass.
  params: [
    { name: 'classes', doc: 'Classes C: the row length (posWeight and a per-class weight have C entries).' },
    { name: 'smoothScale', doc: "y' = y * smoothScale + smoothShift." },
    { name: 'smoothShift', doc: "y' = y * smoothScale + smoothShift." },
    { name: 'gradScale', doc: "The scalar upstream gradient, divided by n for reduction 'mean'." },
    { name: 'threads', doc: 'Threads for the pass: 0 = auto, else 1 to maxThreads.' },
    { name: 'wantLossSum', doc: '1 to compute the float64 loss sum, 0 not to.' },
    { name: 'focalGamma', doc: "The focal loss's gamma (>= 0, finite), or -1 for plain BCE." },
    { name: 'focalAlpha', doc: "The focal loss's alpha in [0, 1], or -1 for no alpha weighting." },
    { name: 'lossSum', out: true, doc: 'The float64 loss sum, when wantLossSum is 1.' },
    {
      name: 'invalidLabelAt', out: true,
      doc: 'Where the pass refused a Uint8 label other than 0 or 1 (it then writes nothing and throws); -1 otherwise.',
    },
  ],

  // The parameter block of a softmax cross-entropy pass (rows of `classes` logits).
  ceParams: [
    { name: 'classes', doc: 'Classes C: the row length.' },
    { name: 'labelSmoothing', doc: 'eps: the target is (1 - eps) onehot + eps / C (PyTorch).' },
    { name: 'ignoreIndex', doc: 'The class index of rows that are ignored (loss and gradient 0).' },
    { name: 'gradScale', doc: 'The scalar upstream gradient (before the mean divisor).' },
    { name: 'threads', doc: 'Threads for the pass: 0 = auto, else 1 to maxThreads.' },
    { name: 'wantLossSum', doc: '1 to compute the float64 loss sum, 0 not to.' },
    { name: 'mean', doc: "1 for reduction 'mean': the gradient is divided by the mean's divisor." },
    { name: 'lossSum', out: true, doc: 'The float64 loss sum, when wantLossSum is 1.' },
    {
      name: 'meanDivisor', out: true,
      doc: "The divisor of 'mean': the sum of weight[target] over rows not ignored (their count without a weight), or the rows for probability targets.",
    },
    {
      name: 'invalidTargetAt', out: true,
      doc: 'The row whose class index the pass refused (outside [0, C) and not ignoreIndex; nothing written); -1 otherwise.',
    },
  ],

  // The arguments of the native entry points (native/binding/node.cc) and of the backends' kernel passes, in
  // order. `ts` is the TypeScript type of the argument.
  entryPoints: {
    // The full pass: every optional array may be null.
    pass: [
      { name: 'logits', ts: 'Float32Array' },
      { name: 'targets', ts: 'Targets' },
      { name: 'posWeight', ts: 'Float32Array | null' },
      { name: 'weight', ts: 'Float32Array | null' },
      { name: 'lossOut', ts: 'Float32Array | null' },
      { name: 'gradOut', ts: 'Float32Array | null' },
      { name: 'gradOutput', ts: 'Float32Array | null' },
      { name: 'params', ts: 'Float64Array' },
    ],
    // The unweighted pass (no posWeight, weight, lossOut or per-element gradOutput): four arguments to read
    // instead of eight, each a Node-API call.
    passUnweighted: [
      { name: 'logits', ts: 'Float32Array' },
      { name: 'targets', ts: 'Targets' },
      { name: 'gradOut', ts: 'Float32Array | null' },
      { name: 'params', ts: 'Float64Array' },
    ],
    // The softmax cross-entropy pass (CeParam block): targets are class indices (one per row) or class
    // probabilities (one per logit); weight has one per class; lossOut and gradOutput one per row.
    cePass: [
      { name: 'logits', ts: 'Float32Array' },
      { name: 'targets', ts: 'ClassTargets' },
      { name: 'weight', ts: 'Float32Array | null' },
      { name: 'lossOut', ts: 'Float32Array | null' },
      { name: 'gradOut', ts: 'Float32Array | null' },
      { name: 'gradOutput', ts: 'Float32Array | null' },
      { name: 'params', ts: 'Float64Array' },
    ],
    // The unweighted softmax cross-entropy pass (no weight, lossOut or gradOutput): four arguments instead of seven.
    cePassUnweighted: [
      { name: 'logits', ts: 'Float32Array' },
      { name: 'targets', ts: 'ClassTargets' },
      { name: 'gradOut', ts: 'Float32Array | null' },
      { name: 'params', ts: 'Float64Array' },
    ],
  },

  // The WebAssembly module's exports (native/binding/wasm.cc): C++ type, then the JavaScript value it takes.
  wasmExports: {
    buffer: {
      doc: 'A block of at least `bytes` in linear memory, reused between calls; 0 when memory cannot grow.',
      returns: 'void*',
      args: [['bytes', 'size_t']],
    },
    firstInvalidLabel: {
      doc: 'Index of the first Uint8 label in linear memory other than 0 or 1, or n when all are valid.',
      returns: 'size_t',
      args: [['labels', 'const uint8_t*'], ['n', 'size_t']],
    },
    run: {
      doc: 'One kernel pass over arrays in linear memory (pointers, 0 for an absent array); returns the loss sum.',
      returns: 'double',
      args: [
        ['logits', 'const float*'], ['targetsF32', 'const float*'], ['targetsU8', 'const uint8_t*'],
        ['posWeight', 'const float*'], ['weight', 'const float*'], ['weightPerElement', 'int'], ['n', 'size_t'],
        ['classes', 'size_t'], ['smoothScale', 'double'], ['smoothShift', 'double'], ['lossOut', 'float*'],
        ['gradOut', 'float*'], ['gradScale', 'double'], ['gradOutput', 'const float*'], ['wantLossSum', 'int'],
        ['focalGamma', 'double'], ['focalAlpha', 'double'],
      ],
    },
    ceRun: {
      doc: 'One softmax cross-entropy pass over arrays in linear memory (indices checked by the caller); returns the loss sum.',
      returns: 'double',
      args: [
        ['logits', 'const float*'], ['indicesI32', 'const int32_t*'], ['indicesU16', 'const uint16_t*'],
        ['indicesU8', 'const uint8_t*'], ['probabilities', 'const float*'], ['weight', 'const float*'], ['rows', 'size_t'],
        ['classes', 'size_t'], ['labelSmoothing', 'double'], ['ignoreIndex', 'double'], ['weightTotal', 'double'],
        ['lossOut', 'float*'], ['gradOut', 'float*'], ['gradScale', 'double'], ['gradOutput', 'const float*'],
        ['wantLossSum', 'int'],
      ],
    },
  },

  // The native ISAs, best first (the dispatcher's order), and the wasm backend's.
  nativeIsas: ['avx512', 'avx2', 'sse2', 'neon', 'scalar'],
  wasmIsa: 'simd128',

  // The most threads a call may ask for (options.threads); a call runs on at most as many as the pool has.
  maxThreads: 1024,

  // Messages both sides format. {fn} is the public function's name (the native binding, which does not know it,
  // says "native"); the other fields are numbers.
  messages: {
    invalidLabel: 'fused-bce: {fn}: targets is a Uint8Array of hard labels, each must be 0 or 1, got {value} at index {index}',
    invalidClassIndex: 'fused-bce: {fn}: targets[{index}] is {value}, not a class index in [0, {classes}) or the ignoreIndex {ignoreIndex}',
  },
};
