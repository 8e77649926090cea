// The WebAssembly module's interface to JavaScript (src/backends/wasm-kernel.ts): a reusable buffer in linear
// memory and one entry point taking the kernel's arguments as pointers (0 for absent arrays) and numbers.
#include "../kernel/portable.h"
#if defined(__wasm__)
#include <cstdlib>

#include "../generated/contract.h"
#include "../kernel/kernel_api.h"

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
  return fused_bce::runWasm(a);
}
#endif
