// The WebAssembly SIMD128 kernel (4 lanes), compiled only for wasm32 (native/tools/build-wasm.sh); the module's
// interface to JavaScript is native/binding/wasm.cc.
#include "../kernel/portable.h"
#if defined(__wasm__)
#include <wasm_simd128.h>
#define FUSED_BCE_TARGET wasm
#include "begin.h"
#include "../kernel/vec_wasm.inl"
#include "../kernel/kernel.inl"

namespace fused_bce {
double runWasm(const KernelArgs& args) { return wasm::runKernel<wasm::WasmVec>(args); }
double runCeWasm(const CeKernelArgs& args) { return wasm::runCeKernel<wasm::WasmVec>(args); }
}  // namespace fused_bce
#include "end.h"
#endif
