// The WebAssembly SIMD128 kernel (vec_wasm.inl) compiled natively against SIMDe's implementation of the wasm
// intrinsics (Debian's libsimde-dev), so that the C++ suites, the exhaustive accuracy sweep among them, run the
// wasm kernel's logic on the host (npm run test:wasm-emulated). WebAssembly SIMD is deterministic (IEEE
// operations, no fused multiply-add, swizzles and conversions fully specified), so these results are the
// module's bits but for the payload of a NaN; the module itself is checked in Node and Chromium by the TS suites.
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>

#define FUSED_BCE_TARGET wasmemulated
#include "../isa/begin.h"
#include "../kernel/vec_wasm.inl"
#include "../kernel/kernel.inl"

namespace fused_bce {
double runWasmEmulated(const KernelArgs& args) { return wasmemulated::runKernel<wasmemulated::WasmVec>(args); }
double runCeWasmEmulated(const CeKernelArgs& args) { return wasmemulated::runCeKernel<wasmemulated::WasmVec>(args); }
}  // namespace fused_bce
#include "../isa/end.h"
