// The input checks the bindings make before a kernel runs (what the kernels themselves do not check).
#pragma once
#include <cstddef>
#include <cstdint>

namespace fused_bce {

// Index of the first Uint8 label other than 0 or 1, or n when all are valid.
size_t firstInvalidLabel(const uint8_t* labels, size_t n);

}  // namespace fused_bce
