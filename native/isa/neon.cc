// The NEON kernel (4 lanes) for arm64, where NEON is part of the baseline (no target region needed).
#include "../kernel/target_region.h"
#if defined(FUSED_BCE_ARM64)
#include <arm_neon.h>
#include <cstring>
#include "../kernel/kernel_api.h"

#define FUSED_BCE_TARGET neon
#include "../kernel/vec_scalar.inl"
#include "../kernel/vec_neon.inl"
#include "../kernel/bce_math.inl"
#include "../kernel/bce_kernel.inl"

namespace fused_bce {
double runNeon(const KernelArgs& args) { return neon::runKernel<neon::NeonVec, neon::ScalarVec<true>>(args); }
}  // namespace fused_bce
#endif
