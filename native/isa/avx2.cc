// The AVX2 + FMA kernel (8 lanes); chosen only when CPUID and XGETBV agree.
#include "../kernel/portable.h"
#if defined(FUSED_BCE_X86_64)
#include <immintrin.h>
#define FUSED_BCE_TARGET avx2
#define FUSED_BCE_TARGET_FLAGS "avx2,fma"
#include "begin.h"
#include "../kernel/vec_avx2.inl"
#include "../kernel/kernel.inl"

namespace fused_bce {
double runAvx2(const KernelArgs& args) { return avx2::runKernel<avx2::Avx2Vec>(args); }
double runCeAvx2(const CeKernelArgs& args) { return avx2::runCeKernel<avx2::Avx2Vec>(args); }
}  // namespace fused_bce
#include "end.h"
#endif
