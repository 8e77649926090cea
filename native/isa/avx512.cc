// The AVX-512 kernel (16 lanes, masked tails), compiled inside a target region; chosen only when CPUID
// reports F, BW, VL and DQ and XGETBV shows the OS saves the opmask and ZMM state.
#include "../kernel/target_region.h"
#if defined(FUSED_BCE_X86_64)
#include <immintrin.h>
#include <cstring>
#include "../kernel/kernel_api.h"

#define FUSED_BCE_TARGET avx512
FUSED_BCE_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "../kernel/vec_scalar.inl"
#include "../kernel/vec_avx512.inl"
#include "../kernel/bce_math.inl"
#include "../kernel/bce_kernel.inl"

namespace fused_bce {
double runAvx512(const KernelArgs& args) {
  return avx512::runKernel<avx512::Avx512Vec, avx512::ScalarVec<true>>(args);
}
}  // namespace fused_bce
FUSED_BCE_TARGET_END
#endif
