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

// Rows per block of a softmax cross-entropy call: about 64K elements, at least one row.
size_t ceBlockRows(size_t classes);

// Runs `run` over args in blocks on up to `threads` threads (0: autoThreads(n); more than availableThreads()
// run as that many). Returns the float64 loss sum (when args.wantLossSum), added block by block in order from
// 0, so the bits are the same for any thread count. With blockSums, each block's own sum is also stored there
// (one per block): a call run in parts that start on block boundaries gives, added in block order from 0, the
// bits of the call run whole.
double runBlocked(KernelFn run, const KernelArgs& args, unsigned threads, double* blockSums = nullptr);

// The same for a softmax cross-entropy call, in blocks of ceBlockRows(classes) rows: the per-row losses are
// independent of the split, and the sum is the same bits for any thread count.
double runCeBlocked(CeKernelFn run, const CeKernelArgs& args, unsigned threads, double* blockSums = nullptr);

}  // namespace fused_bce
