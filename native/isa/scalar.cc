// The portable one-lane kernel: runs on any CPU (with fmadd on arm64, through double elsewhere). The reference
// the vector ISAs are tested against, and the native path of architectures with no vector ISA here.
#include "../kernel/portable.h"
#define FUSED_BCE_TARGET scalar
#include "begin.h"
#include "../kernel/vec_scalar.inl"
#include "../kernel/kernel.inl"

namespace fused_bce {
double runScalar(const KernelArgs& args) {
#if defined(FUSED_BCE_ARM64)
  return scalar::runKernel<scalar::ScalarVec<true>>(args);
#else
  return scalar::runKernel<scalar::ScalarVec<false>>(args);
#endif
}
double runCeScalar(const CeKernelArgs& args) {
#if defined(FUSED_BCE_ARM64)
  return scalar::runCeKernel<scalar::ScalarVec<true>>(args);
#else
  return scalar::runCeKernel<scalar::ScalarVec<false>>(args);
#endif
}
}  // namespace fused_bce
#include "end.h"
