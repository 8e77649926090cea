// Reading the typed arrays and numbers of a binding call: what every entry point checks before a kernel runs.
#pragma once
#include <node_api.h>

#include <cstddef>

#include "../kernel/kernel_api.h"

namespace fused_bce {
namespace binding {

// A typed array argument as read: its memory, length and type, or not present (null/undefined).
struct View {
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type = napi_float32_array;
  bool present = false;
};

// Throws a RangeError (range) or TypeError with the message; returns null, for `return throwError(...)`.
napi_value throwError(napi_env env, bool range, const char* message);

// Reads a Float32Array argument (or a Uint8Array where allowU8); null/undefined is allowed where `optional`.
// Returns false after throwing.
bool readView(napi_env env, napi_value value, const char* name, bool optional, bool allowU8, View* out);

// Whether a present view has the expected length; throws a RangeError naming it if not.
bool checkLength(napi_env env, const View& v, size_t expected, const char* name);

// The call's arguments (exactly `expected` of them) and the ISA entry the function was created for.
bool readArgv(napi_env env, napi_callback_info info, size_t expected, napi_value* argv, const IsaEntry** isa);

// The numbers every pass's parameter block holds, read and checked against n logits.
struct CommonParams {
  double* params = nullptr;  // the block, a Float64Array of at least its loss's slot count
  size_t classes = 1;        // an integer >= 1 dividing n
  unsigned threads = 0;      // 0 (auto) to kMaxThreads
  bool wantLossSum = false;
};

// Reads the parameter block `value` (at least `slotCount` slots) and its classes, threads and wantLossSum slots.
// Returns false after throwing.
bool readCommonParams(napi_env env, napi_value value, int slotCount, int classesSlot, int threadsSlot, int wantSlot,
                      size_t n, CommonParams* out);

}  // namespace binding
}  // namespace fused_bce
