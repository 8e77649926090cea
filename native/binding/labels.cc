// The Uint8 label check the bindings run before any write: every hard label must be 0 or 1.
#include "labels.h"

namespace fused_bce {

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
