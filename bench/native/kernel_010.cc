// The 0.1.0 kernel (bench/native/kernel-0.1.0), per ISA, in its own namespace (fused_bce_v010) so that it links
// beside anything else: runV010Avx512 / runV010Avx2 / runV010Scalar.
#include <cmath>
#include <cstring>
#include <immintrin.h>
#define fused_bce fused_bce_v010
#include "kernel-0.1.0/kernel_api.h"
#include "kernel-0.1.0/target_region.h"
#include "kernel-0.1.0/loss_sum_f64.cc"

#define FUSED_BCE_TARGET v010_scalar
#include "kernel-0.1.0/vec_scalar.inl"
#include "kernel-0.1.0/bce_math.inl"
#include "kernel-0.1.0/bce_kernel.inl"
#undef FUSED_BCE_TARGET

#define FUSED_BCE_TARGET v010_avx2
FUSED_BCE_TARGET_BEGIN("avx2,fma")
#include "kernel-0.1.0/vec_scalar.inl"
#include "kernel-0.1.0/vec_avx2.inl"
#include "kernel-0.1.0/bce_math.inl"
#include "kernel-0.1.0/bce_kernel.inl"
namespace fused_bce {
double runV010Avx2(const KernelArgs& a) { return v010_avx2::runKernel<v010_avx2::Avx2Vec, v010_avx2::ScalarVec<true>>(a); }
}  // namespace fused_bce
FUSED_BCE_TARGET_END
#undef FUSED_BCE_TARGET

#define FUSED_BCE_TARGET v010_avx512
FUSED_BCE_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "kernel-0.1.0/vec_scalar.inl"
#include "kernel-0.1.0/vec_avx512.inl"
#include "kernel-0.1.0/bce_math.inl"
#include "kernel-0.1.0/bce_kernel.inl"
namespace fused_bce {
double runV010Avx512(const KernelArgs& a) {
  return v010_avx512::runKernel<v010_avx512::Avx512Vec, v010_avx512::ScalarVec<true>>(a);
}
}  // namespace fused_bce
FUSED_BCE_TARGET_END
#undef FUSED_BCE_TARGET

namespace fused_bce {
double runV010Scalar(const KernelArgs& a) { return v010_scalar::runKernel<v010_scalar::ScalarVec<false>, v010_scalar::ScalarVec<false>>(a); }
}  // namespace fused_bce

// Entry points with plain linkage: the caller passes today's fused_bce::KernelArgs, whose layout is the 0.1.0 one.
extern "C" double fusedBceV010Avx512(const void* a) { return fused_bce_v010::runV010Avx512(*static_cast<const fused_bce_v010::KernelArgs*>(a)); }
extern "C" double fusedBceV010Avx2(const void* a) { return fused_bce_v010::runV010Avx2(*static_cast<const fused_bce_v010::KernelArgs*>(a)); }
extern "C" double fusedBceV010Scalar(const void* a) { return fused_bce_v010::runV010Scalar(*static_cast<const fused_bce_v010::KernelArgs*>(a)); }
