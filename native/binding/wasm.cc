// The WebAssembly module's interface to JavaScript (src/backends/wasm-kernel.ts): a reusable buffer in linear
// memory, the label check, and one entry point per loss taking the kernel's arguments as pointers (0 for absent
// arrays) and numbers.
#include "../kernel/portable.h"
#if defined(__wasm__)
#include <cstdlib>

#include "../generated/contract.h"
#include "../kernel/kernel_api.h"
#include "labels.h"

namespace {
void* gBuffer = nullptr;
size_t gCapacity = 0;
}  // namespace

// A block of at least `bytes` in linear memory, reused between calls (grown when too small); 0 if memory cannot
// grow. The JavaScript side copies a call's arrays into it.
extern "C" __attribute__((export_name("buffer"))) FUSED_BCE_WASM_BUFFER_RETURNS fusedBceBuffer(FUSED_BCE_WASM_BUFFER_PARAMS) {
  if (bytes > gCapacity) {
    std::free(gBuffer);
    gBuffer = std::malloc(bytes);
    gCapacity = gBuffer == nullptr ? 0 : bytes;
  }
  return gBuffer;
}

// The Uint8 label check, vectorised here where a JavaScript loop over the labels cost a tenth of the pass.
extern "C" __attribute__((export_name("firstInvalidLabel"))) FUSED_BCE_WASM_FIRSTINVALIDLABEL_RETURNS
fusedBceFirstInvalidLabel(FUSED_BCE_WASM_FIRSTINVALIDLABEL_PARAMS) {
  return fused_bce::firstInvalidLabel(labels, n);
}

extern "C" __attribute__((export_name("run"))) FUSED_BCE_WASM_RUN_RETURNS fusedBceRun(FUSED_BCE_WASM_RUN_PARAMS) {
  fused_bce::KernelArgs a;
  a.logits = logits;
  a.targetsF32 = targetsF32;
  a.targetsU8 = targetsU8;
  a.posWeight = posWeight;
  a.weight = weight;
  a.weightPerElement = weightPerElement != 0;
  a.n = n;
  a.classes = classes == 0 ? 1 : classes;
  a.smoothScale = smoothScale;
  a.smoothShift = smoothShift;
  a.lossOut = lossOut;
  a.gradOut = gradOut;
  a.gradScale = gradScale;
  a.gradOutput = gradOutput;
  a.wantLossSum = wantLossSum != 0;
  a.focalGamma = focalGamma;
  a.focalAlpha = focalAlpha;
  return fused_bce::runWasm(a);
}

// The softmax cross-entropy pass; the JavaScript side has checked the class indices (src/backends/wasm-kernel.ts).
extern "C" __attribute__((export_name("ceRun"))) FUSED_BCE_WASM_CERUN_RETURNS fusedBceCeRun(FUSED_BCE_WASM_CERUN_PARAMS) {
  fused_bce::CeKernelArgs a;
  a.logits = logits;
  a.indicesI32 = indicesI32;
  a.indicesU16 = indicesU16;
  a.indicesU8 = indicesU8;
  a.probabilities = probabilities;
  a.weight = weight;
  a.rows = rows;
  a.classes = classes == 0 ? 1 : classes;
  a.labelSmoothing = labelSmoothing;
  a.ignoreIndex = static_cast<int64_t>(ignoreIndex);
  a.weightTotal = weightTotal;
  a.lossOut = lossOut;
  a.gradOut = gradOut;
  a.gradScale = gradScale;
  a.gradOutput = gradOutput;
  a.wantLossSum = wantLossSum != 0;
  // In the native backend's blocks of whole rows (native/dispatch/parallel.cc), so that the sums agree.
  const size_t blockRows = a.classes >= 65536 ? 1 : 65536 / a.classes;
  double sum = 0;
  for (size_t begin = 0; begin < a.rows; begin += blockRows) {
    const size_t end = a.rows - begin < blockRows ? a.rows : begin + blockRows;
    sum += fused_bce::runCeWasm(fused_bce::rowRange(a, begin, end));
  }
  return sum;
}
#endif
