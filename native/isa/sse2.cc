// The SSE2 kernel (4 lanes): the x86-64 baseline, so it needs no target region and runs on every x86-64 CPU.
#include "../kernel/portable.h"
#if defined(FUSED_BCE_X86_64)
#include <emmintrin.h>
#define FUSED_BCE_TARGET sse2
#include "begin.h"
#include "../kernel/vec_sse2.inl"
#include "../kernel/kernel.inl"

namespace fused_bce {
double runSse2(const KernelArgs& args) { return sse2::runKernel<sse2::Sse2Vec>(args); }
double runCeSse2(const CeKernelArgs& args) { return sse2::runCeKernel<sse2::Sse2Vec>(args); }
}  // namespace fused_bce
#include "end.h"
#endif
