// The AVX-512 kernel (16 lanes, tables in registers, vscalefps, vrcp14ps); chosen only when CPUID reports F, BW,
// VL and DQ and XGETBV shows the OS saves the opmask and ZMM state.
#include "../kernel/portable.h"
#if defined(FUSED_BCE_X86_64)
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
// GCC 12.0-12.2's avx512fintrin.h initialises its "undefined" vectors from themselves (GCC bug 105593), so each
// inlined _mm512_cvtps_pd warned in a build from source: 123 warnings about the compiler's own header.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define FUSED_BCE_TARGET avx512
#define FUSED_BCE_TARGET_FLAGS "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"
#include "begin.h"
#include "../kernel/vec_avx512.inl"
#include "../kernel/kernel.inl"

namespace fused_bce {
double runAvx512(const KernelArgs& args) { return avx512::runKernel<avx512::Avx512Vec>(args); }
double runCeAvx512(const CeKernelArgs& args) { return avx512::runCeKernel<avx512::Avx512Vec>(args); }
}  // namespace fused_bce
#include "end.h"
#endif
