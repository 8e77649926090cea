// The memory asynchronous calls own (their copies of the caller's arrays), reused between calls.
#pragma once
#include <cstddef>

namespace fused_bce {
namespace binding {

// A block of at least `bytes`, its size in *capacity; *fresh says whether its pages were never touched (a new
// allocation: on first touch each 4 KiB page costs a fault, slow on virtual machines). Null if it cannot allocate.
// Taken and returned on the JavaScript thread of one environment.
void* takeBlock(size_t bytes, size_t* capacity, bool* fresh);

// Gives a block back (null: nothing); pagedIn: whether its pages have been touched (a block taken fresh whose
// ring was never wanted has not). The largest blocks returned are kept for later calls, the rest freed.
void returnBlock(void* data, size_t capacity, bool pagedIn);

// Faults in the pages of [data, data + bytes) for writing: asked of the kernel in one request where it takes one
// (Linux 5.14's MADV_POPULATE_WRITE), then written to, a byte a page. Any thread.
void pageIn(char* data, size_t bytes);

}  // namespace binding
}  // namespace fused_bce
