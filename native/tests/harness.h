// A minimal test harness for the kernel tests (no framework to install): checks that count failures, print
// the first few, and the list of ISAs to test (all this CPU runs, or FUSED_BCE_ISA).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../kernel/kernel_api.h"

// The kernels of the emulated builds (the ISA's intrinsics over SIMDe), linked in by CMakeLists.txt.
namespace fused_bce {
double runAvx512Emulated(const KernelArgs& args);  // avx512_emulated_bce.cc, avx512_emulated_ce.cc
double runCeAvx512Emulated(const CeKernelArgs& args);
double runWasmEmulated(const KernelArgs& args);  // wasm_emulated.cc
double runCeWasmEmulated(const CeKernelArgs& args);
}  // namespace fused_bce

namespace fused_bce_test {

struct Failures {
  long count = 0;
  void fail(const char* what) {
    if (++count <= 20) std::fprintf(stderr, "FAIL: %s\n", what);
  }
  int exitCode(const char* name) const {
    std::printf("%s: %s (%ld failures)\n", name, count == 0 ? "passed" : "FAILED", count);
    return count == 0 ? 0 : 1;
  }
};

#define FUSED_BCE_CHECK(failures, cond, ...)                      \
  do {                                                           \
    if (!(cond)) {                                               \
      char message_[512];                                        \
      std::snprintf(message_, sizeof message_, __VA_ARGS__);     \
      (failures).fail(message_);                                 \
    }                                                            \
  } while (0)

// Every compiled ISA this CPU runs, or only FUSED_BCE_ISA when set (and, in the emulated builds, the AVX-512
// kernel over SIMDe as "avx512-emulated", the WebAssembly kernel over SIMDe as "wasm-emulated").
inline std::vector<fused_bce::IsaEntry> isasToTest() {
  const fused_bce::IsaEntry* entries;
  const size_t count = fused_bce::compiledIsas(&entries);
  const char* only = std::getenv("FUSED_BCE_ISA");
  std::vector<fused_bce::IsaEntry> result;
#if defined(FUSED_BCE_AVX512_EMULATED)
  if (only == nullptr || *only == 0 || std::strcmp(only, "avx512-emulated") == 0) {
    result.push_back({fused_bce::Isa::Avx512, "avx512-emulated", fused_bce::runAvx512Emulated, fused_bce::runCeAvx512Emulated});
  }
#endif
#if defined(FUSED_BCE_WASM_EMULATED)
  if (only == nullptr || *only == 0 || std::strcmp(only, "wasm-emulated") == 0) {
    // (Isa::Sse2: four lanes, and any x86-64 CPU runs it)
    result.push_back({fused_bce::Isa::Sse2, "wasm-emulated", fused_bce::runWasmEmulated, fused_bce::runCeWasmEmulated});
  }
#endif
  for (size_t i = 0; i < count; ++i) {
    if (only != nullptr && *only != 0 && std::strcmp(only, entries[i].name) != 0) continue;
    if (fused_bce::cpuSupports(entries[i].isa)) result.push_back(entries[i]);
  }
  if (result.empty()) {
    std::fprintf(stderr, "no ISA to test (FUSED_BCE_ISA=%s)\n", only ? only : "");
    std::exit(2);
  }
  return result;
}

}  // namespace fused_bce_test
