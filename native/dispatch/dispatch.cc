// The table of compiled ISAs, best first; the binding offers those cpuSupports() accepts, and picks the first.
#include "../kernel/kernel_api.h"
#include "../kernel/portable.h"

namespace fused_bce {

namespace {
const IsaEntry kCompiled[] = {
#if defined(FUSED_BCE_X86_64)
    {Isa::Avx512, "avx512", runAvx512},
    {Isa::Avx2, "avx2", runAvx2},
    {Isa::Sse2, "sse2", runSse2},
#endif
#if defined(FUSED_BCE_ARM64)
    {Isa::Neon, "neon", runNeon},
#endif
    {Isa::Scalar, "scalar", runScalar},
};
}  // namespace

size_t compiledIsas(const IsaEntry** entries) {
  *entries = kCompiled;
  return sizeof(kCompiled) / sizeof(kCompiled[0]);
}

}  // namespace fused_bce
