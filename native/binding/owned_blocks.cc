// The owned-block cache (owned_blocks.h). A fresh block costs a page fault per 4 KiB on first touch (about 4-10 us
// each on the VMs measured), more than the copy itself; so blocks are kept. They are taken and returned on the
// JavaScript thread of their environment, so a thread-local cache of two needs no lock.
#include "owned_blocks.h"

#include <cstdlib>

namespace fused_bce {
namespace binding {

namespace {

struct OwnedBlock {
  void* data = nullptr;
  size_t bytes = 0;
};

struct BlockCache {
  OwnedBlock slots[2];
  ~BlockCache() {
    for (OwnedBlock& b : slots) std::free(b.data);
  }
};

thread_local BlockCache blockCache;

}  // namespace

// A cached block is taken if it is no more than twice the size asked for.
void* takeBlock(size_t bytes, size_t* capacity, bool* fresh) {
  for (OwnedBlock& b : blockCache.slots) {
    if (b.data != nullptr && b.bytes >= bytes && b.bytes / 2 <= bytes) {
      void* data = b.data;
      *capacity = b.bytes;
      *fresh = false;
      b = OwnedBlock{};
      return data;
    }
  }
  *capacity = bytes;
  *fresh = true;
  return std::malloc(bytes);
}

void returnBlock(void* data, size_t bytes) {
  if (data == nullptr) return;
  OwnedBlock* smallest = blockCache.slots[0].bytes <= blockCache.slots[1].bytes ? &blockCache.slots[0] : &blockCache.slots[1];
  if (smallest->bytes >= bytes) {
    std::free(data);
    return;
  }
  std::free(smallest->data);
  *smallest = OwnedBlock{data, bytes};
}

}  // namespace binding
}  // namespace fused_bce
