// The ISA table and the one-time choice of the best ISA this CPU runs; the Uint8 label check.
#include "../kernel/kernel_api.h"
#include "../kernel/target_region.h"

namespace fused_bce {

namespace {
const IsaEntry kCompiled[] = {
#if defined(FUSED_BCE_X86_64)
    {Isa::Avx512, "avx512", runAvx512},
    {Isa::Avx2, "avx2", runAvx2},
#endif
#if defined(FUSED_BCE_ARM64)
    {Isa::Neon, "neon", runNeon},
#endif
    {Isa::Scalar, "scalar", runScalar},
};
constexpr size_t kCompiledCount = sizeof(kCompiled) / sizeof(kCompiled[0]);

const IsaEntry& chooseBest() {
  for (const IsaEntry& e : kCompiled) {
    if (cpuSupports(e.isa)) return e;
  }
  return kCompiled[kCompiledCount - 1];
}
}  // namespace

size_t compiledIsas(const IsaEntry** entries) {
  *entries = kCompiled;
  return kCompiledCount;
}

const IsaEntry& bestIsa() {
  static const IsaEntry& best = chooseBest();
  return best;
}

size_t firstInvalidLabel(const uint8_t* labels, size_t n) {
  // OR-reduce blocks (the compiler vectorises this on the baseline ISA), then locate a bad byte if any.
  constexpr size_t kBlock = 4096;
  for (size_t begin = 0; begin < n; begin += kBlock) {
    const size_t end = n - begin < kBlock ? n : begin + kBlock;
    uint8_t any = 0;
    for (size_t i = begin; i < end; ++i) any |= labels[i];
    if (any > 1) {
      for (size_t i = begin; i < end; ++i) {
        if (labels[i] > 1) return i;
      }
    }
  }
  return n;
}

}  // namespace fused_bce
