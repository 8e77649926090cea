// The owned-block cache (owned_blocks.h). A fresh block costs a page fault per 4 KiB on first touch (about 4-10 us
// each on the VMs measured), more than the copy itself; so blocks are kept: up to sixteen (calls in flight at once
// each hold one) and 64 MiB. They are taken and returned on the JavaScript thread of their environment, so a
// thread-local cache needs no lock.
#include "owned_blocks.h"

#include <cstdint>
#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace fused_bce {
namespace binding {

namespace {

struct OwnedBlock {
  void* data = nullptr;
  size_t bytes = 0;
  bool pagedIn = false;
};

constexpr size_t kCachedBytes = size_t(64) << 20;

struct BlockCache {
  OwnedBlock slots[16];
  ~BlockCache() {
    for (OwnedBlock& b : slots) std::free(b.data);
  }
};

thread_local BlockCache blockCache;

}  // namespace

// A cached block is taken if it is no more than twice the size asked for; a paged-in one first.
void* takeBlock(size_t bytes, size_t* capacity, bool* fresh) {
  for (int pass = 0; pass < 2; ++pass) {
    const bool wantPagedIn = pass == 0;
    for (OwnedBlock& b : blockCache.slots) {
      if (b.data != nullptr && b.bytes >= bytes && b.bytes / 2 <= bytes && b.pagedIn == wantPagedIn) {
        void* data = b.data;
        *capacity = b.bytes;
        *fresh = !b.pagedIn;
        b = OwnedBlock{};
        return data;
      }
    }
  }
  *capacity = bytes;
  *fresh = true;
  return std::malloc(bytes);
}

// Kept in an empty slot while the cache stays within kCachedBytes, else in place of the smallest kept block if
// that is smaller (the largest blocks cost the most to fault in again); else freed.
void returnBlock(void* data, size_t bytes, bool pagedIn) {
  if (data == nullptr) return;
  size_t cached = 0;
  OwnedBlock* empty = nullptr;
  OwnedBlock* smallest = nullptr;
  for (OwnedBlock& b : blockCache.slots) {
    cached += b.bytes;
    if (b.data == nullptr) {
      if (empty == nullptr) empty = &b;
    } else if (smallest == nullptr || b.bytes < smallest->bytes) {
      smallest = &b;
    }
  }
  if (empty != nullptr && cached + bytes <= kCachedBytes) {
    *empty = OwnedBlock{data, bytes, pagedIn};
  } else if (smallest != nullptr && smallest->bytes < bytes && cached - smallest->bytes + bytes <= kCachedBytes) {
    std::free(smallest->data);
    *smallest = OwnedBlock{data, bytes, pagedIn};
  } else {
    std::free(data);
  }
}

// On the VMs measured (Linux 6.x guests), a fault per page costs 12-20 us. Asking the kernel for the pages first
// (MADV_POPULATE_WRITE) and then writing each takes about half as long (4.7 MB: 15-18 ms -> 5-9 ms); the request
// alone is quicker still, but leaves a cost of about 8 ms to the first writes, which are the main thread's.
void pageIn(char* data, size_t bytes) {
  constexpr uintptr_t kPage = 4096;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data), end = begin + bytes;
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  // Whole pages from the first boundary on (the last page is the allocation's too, as the block's last byte is).
  const uintptr_t aligned = (begin + kPage - 1) & ~(kPage - 1);
  if (aligned < end) madvise(reinterpret_cast<void*>(aligned), end - aligned, MADV_POPULATE_WRITE);  // (a hint)
#endif
  for (uintptr_t p = begin; p < end; p = (p & ~(kPage - 1)) + kPage) *reinterpret_cast<volatile char*>(p) = 0;
}

}  // namespace binding
}  // namespace fused_bce
