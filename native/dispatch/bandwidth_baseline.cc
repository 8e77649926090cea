// The benchmark's memory-bandwidth baseline: one pass that reads two arrays and writes one, the byte volume
// of the fused kernel (logits and targets in, gradient out) with no arithmetic to speak of. Compiled with the
// baseline flags: at sizes where it matters the pass is bound by memory, not by vector width.
#include "../kernel/kernel_api.h"

namespace fused_bce {

void readTwoWriteOne(const float* a, const float* bF32, const uint8_t* bU8, float* out, size_t n) {
  if (bU8 != nullptr) {
    for (size_t i = 0; i < n; ++i) out[i] = a[i] + static_cast<float>(bU8[i]);
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = a[i] + bF32[i];
  }
}

}  // namespace fused_bce
