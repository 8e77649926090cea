// The softmax cross-entropy kernel for AVX-512 over SIMDe: see avx512_emulation.h.
#include "avx512_emulation.h"

namespace fused_bce {
double runCeAvx512Emulated(const CeKernelArgs& args) { return avx512emulated::runCeKernel<avx512emulated::Avx512Vec>(args); }
}  // namespace fused_bce
#include "../isa/end.h"
