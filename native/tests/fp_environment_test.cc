// The caller's floating-point environment must not change the bits: with flush-to-zero, denormals-are-zero and
// round-toward-zero set on the calling thread (x86 MXCSR; AArch64 FPCR FZ and RMode), every ISA gives the same
// losses, gradients and sum as in the default environment (inputs where e^-|x| is subnormal included), single-
// and multi-threaded, and the caller's environment is as it was after the call.
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "../dispatch/parallel.h"
#include "harness.h"
#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace {

#if defined(__x86_64__) || defined(_M_X64)
using State = unsigned;
State readState() { return _mm_getcsr() & 0xffc0u; }
void writeState(State s) { _mm_setcsr(s); }
const State kHostile = 0x1f80u | 0x8000u /* FTZ */ | 0x0040u /* DAZ */ | 0x6000u /* round toward zero */;
#elif defined(__aarch64__)
using State = uint64_t;
State readState() {
  uint64_t v;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
  return v;
}
void writeState(State s) { __asm__ __volatile__("msr fpcr, %0" : : "r"(s)); }
const State kHostile = (1ull << 24) /* FZ */ | (3ull << 22) /* round toward zero */;
#else
using State = int;
State readState() { return 0; }
void writeState(State) {}
const State kHostile = 0;
#endif

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

int main() {
  using namespace fused_bce_test;
  Failures failures;
  const size_t n = 4099;
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> wide(-104.0f, 104.0f);
  std::vector<float> logits(n), soft(n), loss(n), grad(n), lossRef(n), gradRef(n), weight(n);
  std::vector<uint8_t> labels(n);
  for (size_t i = 0; i < n; ++i) {
    logits[i] = i % 3 == 0 ? wide(gen) : wide(gen) / 8;  // a third where e^-|x| may be subnormal
    labels[i] = i % 4 == 0;
    soft[i] = static_cast<float>(i % 10) / 9.0f;
    weight[i] = 0.5f + static_cast<float>(i % 5);
  }
  const State initial = readState();
  for (const fused_bce::IsaEntry& isa : isasToTest()) {
    for (int config = 0; config < 3; ++config) {
      fused_bce::KernelArgs a;
      a.logits = logits.data();
      if (config == 1) a.targetsF32 = soft.data();
      else a.targetsU8 = labels.data();
      if (config == 2) a.weight = weight.data(), a.weightPerElement = true;
      a.n = n;
      a.smoothScale = 0.9;
      a.smoothShift = 0.05;
      a.gradScale = 1.0 / 3;
      a.wantLossSum = true;
      for (unsigned threads : {1u, 2u}) {
        a.lossOut = lossRef.data();
        a.gradOut = gradRef.data();
        const double sumRef = fused_bce::runBlocked(isa.run, a, threads);
        writeState(kHostile);
        const State before = readState();
        a.lossOut = loss.data();
        a.gradOut = grad.data();
        const double sum = fused_bce::runBlocked(isa.run, a, threads);
        const State after = readState();
        writeState(initial);
        FUSED_BCE_CHECK(failures, after == before, "%s: the caller's environment is restored", isa.name);
        FUSED_BCE_CHECK(failures, std::memcmp(&sum, &sumRef, sizeof sum) == 0, "%s config %d threads %u: sum %.17g vs %.17g", isa.name, config, threads, sum, sumRef);
        for (size_t i = 0; i < n; ++i) {
          FUSED_BCE_CHECK(failures, bitsOf(loss[i]) == bitsOf(lossRef[i]) && bitsOf(grad[i]) == bitsOf(gradRef[i]),
                          "%s config %d threads %u, x = %a: loss %a vs %a, grad %a vs %a", isa.name, config, threads,
                          logits[i], loss[i], lossRef[i], grad[i], gradRef[i]);
        }
      }
    }
  }
  return failures.exitCode("fp_environment_test");
}
