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
// Whether every index is in [0, classes) or ignoreIndex, and in *counted how many are not ignoreIndex: with no branch
// per row, so that the compiler vectorises it (labels.cc).
bool countClassIndices(const int32_t* indices, size_t rows, size_t classes, int64_t ignoreIndex, size_t* counted);
bool countClassIndices(const uint16_t* indices, size_t rows, size_t classes, int64_t ignoreIndex, size_t* counted);
bool countClassIndices(const uint8_t* indices, size_t rows, size_t classes, int64_t ignoreIndex, size_t* counted);

template <class Index>
ClassIndexScan scanClassIndices(const Index* indices, size_t rows, size_t classes, int64_t ignoreIndex, const float* weight) {
  // Without a weight the divisor is the count (a double added per row would wait on the one before: 1 ns a row);
  // the row-by-row loop below runs only to find the first invalid index.
  size_t counted;
  if (weight == nullptr && countClassIndices(indices, rows, classes, ignoreIndex, &counted)) return {rows, static_cast<double>(counted)};
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
