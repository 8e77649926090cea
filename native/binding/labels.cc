// The Uint8 label check the bindings run before any write: every hard label must be 0 or 1.
#include "labels.h"

#include "../kernel/portable.h"

#include <cstdint>
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

namespace {
// In 32-bit lanes (ignoreIndex32; vectorised on the baseline ISA, where 64-bit compares are not): classes above 2^31
// act as 2^31 (no int32 index reaches it; a negative index is 2^31 or more as unsigned, so invalid). Counts per
// block of 2^20 rows in 32 bits.
template <class Index>
bool countIndices(const Index* indices, size_t rows, size_t classes, int64_t ignoreIndex, size_t* counted) {
  const portable::IgnoreIndex32 ignoreAt = portable::ignoreIndex32(ignoreIndex);
  const int32_t ignore = ignoreAt.value;
  const uint32_t noIgnore = ignoreAt.fits ? 0 : 1;
  const uint32_t limit = classes < (size_t{1} << 31) ? static_cast<uint32_t>(classes) : uint32_t{1} << 31;
  size_t count = 0;
  uint32_t invalid = 0;
  for (size_t begin = 0; begin < rows; begin += size_t{1} << 20) {
    const size_t end = rows - begin < (size_t{1} << 20) ? rows : begin + (size_t{1} << 20);
    uint32_t blockCount = 0;
    for (size_t r = begin; r < end; ++r) {
      const int32_t y = indices[r];
      const uint32_t counts = static_cast<uint32_t>(y != ignore) | noIgnore;
      blockCount += counts;
      invalid |= counts & static_cast<uint32_t>(static_cast<uint32_t>(y) >= limit);
    }
    count += blockCount;
  }
  *counted = count;
  return invalid == 0;
}
}  // namespace

bool countClassIndices(const int32_t* indices, size_t rows, size_t classes, int64_t ignoreIndex, size_t* counted) {
  return countIndices(indices, rows, classes, ignoreIndex, counted);
}
bool countClassIndices(const uint16_t* indices, size_t rows, size_t classes, int64_t ignoreIndex, size_t* counted) {
  return countIndices(indices, rows, classes, ignoreIndex, counted);
}
bool countClassIndices(const uint8_t* indices, size_t rows, size_t classes, int64_t ignoreIndex, size_t* counted) {
  return countIndices(indices, rows, classes, ignoreIndex, counted);
}

}  // namespace fused_bce
