// The Uint8 label check the bindings run before any write: every hard label must be 0 or 1.
#include "labels.h"

#include <cstring>

namespace fused_bce {

namespace {
// Whether any byte of the words OR-ed into `any` is above 1.
bool anyAboveOne(uint64_t any) { return (any & 0xfefefefefefefefeull) != 0; }
}  // namespace

size_t firstInvalidLabel(const uint8_t* labels, size_t n) {
  // OR-reduce blocks, then locate a bad byte if any. Eight independent words per 64 bytes: the compiler vectorises
  // them into four registers on the baseline ISA, where one accumulator would wait on each OR (1M labels: 28 -> 10 us).
  constexpr size_t kBlock = 4096;
  for (size_t begin = 0; begin < n; begin += kBlock) {
    const size_t end = n - begin < kBlock ? n : begin + kBlock;
    uint64_t words[8] = {};
    size_t i = begin;
    for (; i + 64 <= end; i += 64) {
      for (size_t k = 0; k < 8; ++k) {
        uint64_t w;
        std::memcpy(&w, labels + i + 8 * k, 8);
        words[k] |= w;
      }
    }
    uint64_t any = 0;
    for (size_t k = 0; k < 8; ++k) any |= words[k];
    for (; i < end; ++i) any |= labels[i];
    if (anyAboveOne(any)) {
      for (size_t j = begin; j < end; ++j) {
        if (labels[j] > 1) return j;
      }
    }
  }
  return n;
}

}  // namespace fused_bce
