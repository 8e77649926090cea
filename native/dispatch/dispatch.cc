// The table of compiled ISAs, best first; the binding offers those cpuSupports() accepts, and picks the first.
#include "../kernel/kernel_api.h"
#include "../generated/contract.h"
#include "../kernel/portable.h"

namespace fused_bce {

namespace {
const IsaEntry kCompiled[] = {
#if defined(FUSED_BCE_X86_64)
    {Isa::Avx512, contract::kIsaAvx512, runAvx512, runCeAvx512},
    {Isa::Avx2, contract::kIsaAvx2, runAvx2, runCeAvx2},
    {Isa::Sse2, contract::kIsaSse2, runSse2, runCeSse2},
#endif
#if defined(FUSED_BCE_ARM64)
    {Isa::Neon, contract::kIsaNeon, runNeon, runCeNeon},
#endif
    {Isa::Scalar, contract::kIsaScalar, runScalar, runCeScalar},
};
}  // namespace

size_t compiledIsas(const IsaEntry** entries) {
  *entries = kCompiled;
  return sizeof(kCompiled) / sizeof(kCompiled[0]);
}

}  // namespace fused_bce
