// CPU feature detection for the dispatcher: CPUID for the instructions, XGETBV for the OS saving their state.
#include "../kernel/kernel_api.h"
#include "../kernel/portable.h"

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

// CPUID feature bits (Intel SDM vol. 2A, CPUID; AMD APM vol. 3, the same bits).
enum : unsigned {
  kLeaf1EcxFma = 1u << 12,
  kLeaf1EcxOsxsave = 1u << 27,
  kLeaf1EcxAvx = 1u << 28,
  kLeaf7EbxAvx2 = 1u << 5,
  kLeaf7EbxAvx512F = 1u << 16,
  kLeaf7EbxAvx512Dq = 1u << 17,
  kLeaf7EbxAvx512Bw = 1u << 30,
  kLeaf7EbxAvx512Vl = 1u << 31,
};
// XCR0 state components the OS must save for the registers to survive a context switch.
enum : unsigned long long {
  kXcr0SseAvx = 0x6,         // XMM, YMM upper halves
  kXcr0Avx512 = 0xe6,        // plus opmask, ZMM_Hi256, Hi16_ZMM
};

bool all(unsigned reg, unsigned bits) { return (reg & bits) == bits; }

X86Features detect() {
  X86Features f;
  unsigned r[4];
  cpuid(0, 0, r);
  const unsigned maxLeaf = r[0];
  if (maxLeaf < 7) return f;
  cpuid(1, 0, r);
  const unsigned ecx1 = r[2];
  if (!all(ecx1, kLeaf1EcxOsxsave | kLeaf1EcxAvx)) return f;
  const unsigned long long xcr = xcr0();
  cpuid(7, 0, r);
  const unsigned ebx7 = r[1];
  f.avx2Fma = (xcr & kXcr0SseAvx) == kXcr0SseAvx && all(ecx1, kLeaf1EcxFma) && all(ebx7, kLeaf7EbxAvx2);
  f.avx512 = f.avx2Fma && (xcr & kXcr0Avx512) == kXcr0Avx512 &&
             all(ebx7, kLeaf7EbxAvx512F | kLeaf7EbxAvx512Dq | kLeaf7EbxAvx512Bw | kLeaf7EbxAvx512Vl);
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
    case Isa::Sse2:
      return true;  // part of x86-64
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
