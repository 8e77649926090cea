// The BCE-with-logits kernel (focal included) for AVX-512 over SIMDe: see avx512_emulation.h.
#include "avx512_emulation.h"

namespace fused_bce {
double runAvx512Emulated(const KernelArgs& args) { return avx512emulated::runKernel<avx512emulated::Avx512Vec>(args); }
}  // namespace fused_bce
#include "../isa/end.h"
