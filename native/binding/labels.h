// The input checks the bindings make before a kernel runs (what the kernels themselves do not check).
#pragma once
#include <cstddef>
#include <cstdint>

namespace fused_bce {

// Index of the first Uint8 label other than 0 or 1, or n when all are valid.
size_t firstInvalidLabel(const uint8_t* labels, size_t n);

// The pre-pass over a softmax cross-entropy call's class indices: the first row whose index is outside
// [0, classes) and not ignoreIndex (rows when every one is valid), and the divisor of reduction 'mean': the sum of
// weight[index] over the rows not ignored (their count without a weight), added in row order in double.
struct ClassIndexScan {
  size_t invalidRow;
  double meanDivisor;
};
template <class Index>
ClassIndexScan scanClassIndices(const Index* indices, size_t rows, size_t classes, int64_t ignoreIndex, const float* weight) {
  double divisor = 0;
  for (size_t r = 0; r < rows; ++r) {
    const int64_t y = static_cast<int64_t>(indices[r]);
    if (y == ignoreIndex) continue;
    if (y < 0 || static_cast<uint64_t>(y) >= classes) return {r, 0};
    divisor += weight == nullptr ? 1.0 : static_cast<double>(weight[y]);
  }
  return {rows, divisor};
}

}  // namespace fused_bce
