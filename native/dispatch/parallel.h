// Running the kernel over fixed-size blocks, on one or several threads, with a loss sum that is the same bits
// whatever the thread count: each block's float64 sum is taken alone and the block sums are added in block order.
#pragma once
#include <cstddef>

#include "../kernel/kernel_api.h"

namespace fused_bce {

// Elements per block: about 64K, a whole number of rows (a multiple of args.classes).
size_t sumBlockSize(size_t classes);

// The most threads a call can use: the caller's plus the pool's workers, one per CPU this process may use (its
// affinity mask and cgroup CPU quota), at most parallelThreadLimit(). Creates the pool on first use.
unsigned availableThreads();
unsigned parallelThreadLimit();

// The thread count used for n elements when the caller asks for "auto" (0): 1 below 256K elements, then up to
// one per 128K elements, at most availableThreads().
unsigned autoThreads(size_t n);

// Runs `run` over args in blocks on up to `threads` threads (0: autoThreads(n); more than availableThreads()
// run as that many). Returns the float64 loss sum (when args.wantLossSum), added block by block in order, so
// the bits are the same for any thread count.
double runBlocked(KernelFn run, const KernelArgs& args, unsigned threads);

// The same for a softmax cross-entropy call, in blocks of whole rows (about 64K elements, at least one row): the
// per-row losses are independent of the split, and the sum is the same bits for any thread count.
double runCeBlocked(CeKernelFn run, const CeKernelArgs& args, unsigned threads);

}  // namespace fused_bce
