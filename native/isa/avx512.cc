// The AVX-512 kernel (16 lanes, tables in registers, vscalefps, vrcp14ps); chosen only when CPUID reports F, BW,
// VL and DQ and XGETBV shows the OS saves the opmask and ZMM state.
#include "../kernel/portable.h"
#if defined(FUSED_BCE_X86_64)
#include <immintrin.h>
#define FUSED_BCE_TARGET avx512
#define FUSED_BCE_TARGET_FLAGS "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"
#include "begin.h"
#include "../kernel/vec_avx512.inl"
#include "../kernel/kernel.inl"

namespace fused_bce {
double runAvx512(const KernelArgs& args) { return avx512::runKernel<avx512::Avx512Vec>(args); }
}  // namespace fused_bce
#include "end.h"
#endif
