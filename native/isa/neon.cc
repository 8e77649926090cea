// The NEON kernel (4 lanes) for arm64, where NEON is part of the baseline (no target region needed).
#include "../kernel/portable.h"
#if defined(FUSED_BCE_ARM64)
#include <arm_neon.h>
#define FUSED_BCE_TARGET neon
#include "begin.h"
#include "../kernel/vec_neon.inl"
#include "../kernel/kernel.inl"

namespace fused_bce {
double runNeon(const KernelArgs& args) { return neon::runKernel<neon::NeonVec>(args); }
double runCeNeon(const CeKernelArgs& args) { return neon::runCeKernel<neon::NeonVec>(args); }
}  // namespace fused_bce
#include "end.h"
#endif
