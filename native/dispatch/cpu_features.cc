// CPU feature detection for the dispatcher: CPUID for the instructions, XGETBV for the OS saving their state.
#include "../kernel/kernel_api.h"
#include "../kernel/target_region.h"

#if defined(FUSED_BCE_X86_64)
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace fused_bce {

#if defined(FUSED_BCE_X86_64)
namespace {

struct X86Features {
  bool avx2Fma = false;
  bool avx512 = false;
};

void cpuid(unsigned leaf, unsigned subleaf, unsigned regs[4]) {
#if defined(_MSC_VER) && !defined(__clang__)
  int r[4];
  __cpuidex(r, static_cast<int>(leaf), static_cast<int>(subleaf));
  for (int k = 0; k < 4; ++k) regs[k] = static_cast<unsigned>(r[k]);
#else
  __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
#endif
}

// XCR0 via the xgetbv instruction itself, so no target flag is needed to call it.
unsigned long long xcr0() {
#if defined(_MSC_VER) && !defined(__clang__)
  return _xgetbv(0);
#else
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
#endif
}

X86Features detect() {
  X86Features f;
  unsigned r[4];
  cpuid(0, 0, r);
  const unsigned maxLeaf = r[0];
  if (maxLeaf < 7) return f;
  cpuid(1, 0, r);
  const bool osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1, fma = (r[2] >> 12) & 1;
  if (!osxsave || !avx) return f;
  const unsigned long long xcr = xcr0();
  const bool ymmSaved = (xcr & 0x6) == 0x6;            // SSE and AVX state
  const bool zmmSaved = (xcr & 0xe6) == 0xe6;          // plus opmask, ZMM_Hi256, Hi16_ZMM
  cpuid(7, 0, r);
  const unsigned ebx = r[1];
  const bool avx2 = (ebx >> 5) & 1;
  const bool avx512f = (ebx >> 16) & 1, avx512dq = (ebx >> 17) & 1, avx512bw = (ebx >> 30) & 1, avx512vl = (ebx >> 31) & 1;
  f.avx2Fma = ymmSaved && avx2 && fma;
  f.avx512 = f.avx2Fma && zmmSaved && avx512f && avx512dq && avx512bw && avx512vl;
  return f;
}

const X86Features& features() {
  static const X86Features f = detect();  // once; plain bools, no SIMD values
  return f;
}

}  // namespace
#endif

bool cpuSupports(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return true;
#if defined(FUSED_BCE_X86_64)
    case Isa::Avx2:
      return features().avx2Fma;
    case Isa::Avx512:
      return features().avx512;
#endif
#if defined(FUSED_BCE_ARM64)
    case Isa::Neon:
      return true;
#endif
    default:
      return false;
  }
}

}  // namespace fused_bce
