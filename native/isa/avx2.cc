// The AVX2 + FMA kernel (8 lanes), compiled inside a target region; chosen only when CPUID and XGETBV agree.
#include "../kernel/target_region.h"
#if defined(FUSED_BCE_X86_64)
#include <immintrin.h>
#include <cstring>
#include "../kernel/kernel_api.h"

#define FUSED_BCE_TARGET avx2
FUSED_BCE_TARGET_BEGIN("avx2,fma")
#include "../kernel/vec_scalar.inl"
#include "../kernel/vec_avx2.inl"
#include "../kernel/bce_math.inl"
#include "../kernel/bce_kernel.inl"

namespace fused_bce {
double runAvx2(const KernelArgs& args) { return avx2::runKernel<avx2::Avx2Vec, avx2::ScalarVec<true>>(args); }
}  // namespace fused_bce
FUSED_BCE_TARGET_END
#endif
