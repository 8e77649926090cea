// The scalar kernel: runs on any CPU (the x86-64 / armv8-a baseline), without FMA on x86-64.
#include <cstring>
#include "../kernel/kernel_api.h"
#include "../kernel/target_region.h"

#define FUSED_BCE_TARGET scalar
#include "../kernel/vec_scalar.inl"
#include "../kernel/bce_math.inl"
#include "../kernel/bce_kernel.inl"

namespace fused_bce {
double runScalar(const KernelArgs& args) {
#if defined(FUSED_BCE_ARM64)
  using Lane = scalar::ScalarVec<true>;  // fmadd is part of armv8-a
#else
  using Lane = scalar::ScalarVec<false>;
#endif
  return scalar::runKernel<Lane, Lane>(args);
}
}  // namespace fused_bce
