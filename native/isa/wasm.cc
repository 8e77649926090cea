// The WebAssembly SIMD128 kernel (4 lanes) and the module's interface to JavaScript (src/wasm-backend.ts):
// a reusable buffer in linear memory and one entry point taking the kernel's arguments as pointers (0 for
// absent arrays) and numbers. Built by native/tools/build-wasm.sh into native/wasm/fused_bce.wasm.
#include "../kernel/portable.h"
#if defined(__wasm__)
#include <wasm_simd128.h>
#include <cstdlib>
#define FUSED_BCE_TARGET wasm
#include "begin.h"
#include "../kernel/vec_wasm.inl"
#include "../kernel/kernel.inl"

namespace fused_bce {
double runWasm(const KernelArgs& args) { return wasm::runKernel<wasm::WasmVec>(args); }
}  // namespace fused_bce
#include "end.h"

namespace {
void* gBuffer = nullptr;
size_t gCapacity = 0;
}  // namespace

// A block of at least `bytes` in linear memory, reused between calls (grown when too small); 0 if memory cannot
// grow. The JavaScript side copies a call's arrays into it.
extern "C" __attribute__((export_name("buffer"))) void* fusedBceBuffer(size_t bytes) {
  if (bytes > gCapacity) {
    std::free(gBuffer);
    gBuffer = std::malloc(bytes);
    gCapacity = gBuffer == nullptr ? 0 : bytes;
  }
  return gBuffer;
}

extern "C" __attribute__((export_name("run"))) double fusedBceRun(
    const float* logits, const float* targetsF32, const uint8_t* targetsU8, const float* posWeight, const float* weight,
    int weightPerElement, size_t n, size_t classes, double smoothScale, double smoothShift, float* lossOut, float* gradOut,
    double gradScale, const float* gradOutput, int wantLossSum) {
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
  return fused_bce::runWasm(a);
}
#endif
