// The asynchronous entry points of both losses (async_call.h). A call in flight computes on memory it owns:
// copies of its inputs, and outputs that are copied into the caller's arrays on the main thread when it
// completes. So no JavaScript operation on the arrays while it runs (a transfer, a detach, a resize, garbage
// collection) can make it read or write memory it does not own; an output array that is gone or resized by then
// gets nothing, and the promise rejects. Arrays on a SharedArrayBuffer (which cannot be detached, transferred
// away or shrunk) are used in place. What differs per loss is which arrays a call has (visitArrays) and which
// kernel runs (executeAsync); the rest is written once.
#include "async_call.h"

#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <type_traits>

#include "../dispatch/parallel.h"
#include "../generated/contract.h"
#include "bce_call.h"
#include "ce_call.h"

namespace fused_bce {
namespace binding {

using namespace contract;

namespace {

// An output the call writes into its own block; copied into the caller's array when the call completes.
struct OwnedOutput {
  napi_ref ref = nullptr;   // the caller's array
  float* caller = nullptr;  // where it was when the call started (null: absent, or written in place)
  const float* owned = nullptr;
  size_t count = 0;
};

struct AsyncCall {
  bool ce = false;  // which loss: BCE (call) or softmax cross-entropy (ceCall)
  Call call;
  CeCall ceCall;
  const IsaEntry* isa = nullptr;
  napi_ref refs[8] = {};      // the arrays (argument order), kept alive until the promise settles
  size_t refCount = 0;
  napi_ref paramsRef = nullptr;
  int sumSlot = 0, paramSlots = 0;  // where the loss sum goes in the parameter block, and its length
  bool wantLossSum = false;
  OwnedOutput outputs[2];     // lossOut, gradOut
  bool shared[8] = {};        // per argument (the loss's argument order): on a SharedArrayBuffer, used in place
  void* owned = nullptr;      // one block: the other inputs' copies and outputs
  size_t ownedBytes = 0;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  double sum = 0;
};

struct EnvData {
  napi_ref resourceName = nullptr;  // a one-element array holding the name string
  AsyncCall* spare[8] = {};
  size_t spareCount = 0;
};

// (The reference to the name is not deleted here: the environment frees its references as it tears down.)
void freeEnvData(napi_env, void* data, void*) {
  auto* d = static_cast<EnvData*>(data);
  for (size_t k = 0; k < d->spareCount; ++k) delete d->spare[k];
  delete d;
}

EnvData* envData(napi_env env) {
  void* data = nullptr;
  return napi_get_instance_data(env, &data) == napi_ok ? static_cast<EnvData*>(data) : nullptr;
}

// The async resource name, "fused-bce": created once per environment and kept in a one-element array (before
// Node-API 10 a reference can only hold an object).
napi_value resourceName(napi_env env, EnvData* d) {
  napi_value holder = nullptr, name = nullptr;
  if (d != nullptr && d->resourceName != nullptr && napi_get_reference_value(env, d->resourceName, &holder) == napi_ok &&
      holder != nullptr && napi_get_element(env, holder, 0, &name) == napi_ok) {
    return name;
  }
  if (napi_create_string_utf8(env, "fused-bce", NAPI_AUTO_LENGTH, &name) != napi_ok) return nullptr;
  if (d != nullptr && d->resourceName == nullptr && napi_create_array_with_length(env, 1, &holder) == napi_ok &&
      napi_set_element(env, holder, 0, name) == napi_ok) {
    napi_create_reference(env, holder, 1, &d->resourceName);
  }
  return name;
}

AsyncCall* takeCallRecord(EnvData* d) {
  if (d != nullptr && d->spareCount > 0) {
    AsyncCall* a = d->spare[--d->spareCount];
    *a = AsyncCall{};
    return a;
  }
  return new AsyncCall;
}

void returnCallRecord(EnvData* d, AsyncCall* a) {
  if (d != nullptr && d->spareCount < sizeof d->spare / sizeof d->spare[0]) d->spare[d->spareCount++] = a;
  else delete a;
}

// Owned blocks are reused: a fresh block costs a page fault per 4 KiB on first touch (about 10 us each on these
// VMs), more than the copy itself at large sizes. Blocks are taken and returned on the JavaScript thread of
// their environment (RunAsync, completeAsync), so a thread-local cache of two needs no lock.
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

// A block of at least `bytes` (a cached one if it is no more than twice that), its size in *capacity.
void* takeBlock(size_t bytes, size_t* capacity) {
  for (OwnedBlock& b : blockCache.slots) {
    if (b.data != nullptr && b.bytes >= bytes && b.bytes / 2 <= bytes) {
      void* data = b.data;
      *capacity = b.bytes;
      b = OwnedBlock{};
      return data;
    }
  }
  *capacity = bytes;
  return std::malloc(bytes);
}

// Keeps the two largest blocks returned; frees the rest.
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

// Whether a typed array is on a SharedArrayBuffer. A typed array's buffer is an ArrayBuffer or a SharedArrayBuffer,
// and napi_is_arraybuffer is false exactly for the latter, whatever its prototype chain says. Such memory cannot be
// detached, transferred away or shrunk (growable ones are refused), so a call that keeps the array referenced may
// read and write it in place.
bool onSharedBuffer(napi_env env, napi_value array) {
  napi_value buffer;
  napi_typedarray_type type;
  size_t length;
  void* data;
  bool isArrayBuffer = true;
  if (napi_get_typedarray_info(env, array, &type, &length, &data, &buffer, nullptr) != napi_ok) return false;
  return napi_is_arraybuffer(env, buffer, &isArrayBuffer) == napi_ok && !isArrayBuffer;
}

// The caller's output array behind ref, if it is still there with n elements; else null.
float* outputStillThere(napi_env env, napi_ref ref, size_t n) {
  napi_value value;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_reference_value(env, ref, &value) != napi_ok || value == nullptr ||
      napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok) {
    return nullptr;
  }
  return length == n && (data != nullptr || n == 0) ? static_cast<float*>(data) : nullptr;
}

napi_value makeError(napi_env env, bool typeError, const char* text) {
  napi_value message = nullptr, error = nullptr;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message) != napi_ok) return nullptr;
  if (typeError) napi_create_type_error(env, nullptr, message, &error);
  else napi_create_error(env, nullptr, message, &error);
  return error;
}

// Whether the buffer behind a typed array can change length (a resizable ArrayBuffer, a growable
// SharedArrayBuffer): an asynchronous call takes only fixed-length arrays, as the public API does.
bool onResizableBuffer(napi_env env, napi_value array) {
  napi_value buffer, flag;
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, array, &type, &length, &data, &buffer, nullptr) != napi_ok) return false;
  for (const char* name : {"resizable", "growable"}) {
    bool value = false;
    if (napi_get_named_property(env, buffer, name, &flag) == napi_ok) {
      if (napi_get_value_bool(env, flag, &value) == napi_ok && value) return true;
    } else {
      // A getter that throws (a prototype changed to the other kind of buffer's): not this kind. The exception is
      // cleared, so that the call goes on. (Its inputs are copied whatever this says, and its outputs are checked
      // for their length when it completes.)
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
  }
  return false;
}

// Calls visit(pointer, count, argument, output) for each array of a call: its kernel argument (a reference, to be
// pointed elsewhere), its element count, its argument index, and which output it is (0 lossOut, 1 gradOut) or -1.
template <class Visit>
void visitArrays(AsyncCall* a, Visit&& visit) {
  if (a->ce) {
    CeKernelArgs& k = a->ceCall.args;
    const size_t n = k.rows * k.classes;
    visit(k.logits, n, kCePassLogits, -1);
    visit(k.probabilities, n, kCePassTargets, -1);
    visit(k.indicesI32, k.rows, kCePassTargets, -1);
    visit(k.indicesU16, k.rows, kCePassTargets, -1);
    visit(k.indicesU8, k.rows, kCePassTargets, -1);
    visit(k.weight, k.classes, kCePassWeight, -1);
    visit(k.gradOutput, k.rows, kCePassGradOutput, -1);
    visit(k.lossOut, k.rows, kCePassLossOut, 0);
    visit(k.gradOut, n, kCePassGradOut, 1);
  } else {
    KernelArgs& k = a->call.args;
    const size_t n = k.n;
    visit(k.logits, n, kPassLogits, -1);
    visit(k.targetsF32, n, kPassTargets, -1);
    visit(k.targetsU8, n, kPassTargets, -1);
    visit(k.posWeight, k.classes, kPassPosWeight, -1);
    visit(k.weight, k.weight == nullptr ? 0 : (k.weightPerElement ? n : k.classes), kPassWeight, -1);
    visit(k.gradOutput, n, kPassGradOutput, -1);
    visit(k.lossOut, n, kPassLossOut, 0);
    visit(k.gradOut, n, kPassGradOut, 1);
  }
}

// Copies the inputs that are not on a SharedArrayBuffer into one owned block, with room for the outputs that are
// not, and points the kernel arguments at it. Returns false if it cannot allocate.
bool ownMemory(AsyncCall* a) {
  const auto bytesOf = [](size_t count, size_t size) { return (count * size + 15) & ~size_t(15); };
  size_t bytes = 0;
  visitArrays(a, [&](auto*& p, size_t count, int arg, int) {
    if (p != nullptr && !a->shared[arg]) bytes += bytesOf(count, sizeof *p);
  });
  a->owned = takeBlock(bytes == 0 ? 1 : bytes, &a->ownedBytes);
  if (a->owned == nullptr) return false;
  char* next = static_cast<char*>(a->owned);
  visitArrays(a, [&](auto*& p, size_t count, int arg, int output) {
    using T = std::remove_const_t<std::remove_reference_t<decltype(*p)>>;
    if (p == nullptr || a->shared[arg]) return;  // (outputs on a SharedArrayBuffer are written in place)
    T* destination = reinterpret_cast<T*>(next);
    next += bytesOf(count, sizeof(T));
    if (output >= 0) {
      if constexpr (std::is_same<T, float>::value) a->outputs[output] = OwnedOutput{nullptr, const_cast<float*>(p), destination, count};
    } else if (count != 0) {
      std::memcpy(destination, p, count * sizeof(T));
    }
    p = destination;
  });
  return true;
}

void executeAsync(napi_env, void* data) {
  auto* a = static_cast<AsyncCall*>(data);
  a->sum = a->ce ? runCeBlocked(a->isa->runCe, a->ceCall.args, a->ceCall.threads)
                 : runBlocked(a->isa->run, a->call.args, a->call.threads);
}

void completeAsync(napi_env env, napi_status status, void* data) {
  auto* a = static_cast<AsyncCall*>(data);
  napi_value outcome = nullptr;
  bool resolve = false;
  if (status != napi_ok) {
    outcome = makeError(env, false, "fused-bce: native: the asynchronous call was cancelled");
  } else {
    // (An empty output has nothing to receive, whatever became of it; outputs written in place, on a
    // SharedArrayBuffer, have nothing to copy back and cannot have gone.)
    float* destinations[2] = {};
    bool gone = false;
    for (int k = 0; k < 2; ++k) {
      const OwnedOutput& o = a->outputs[k];
      if (o.caller == nullptr || o.count == 0) continue;
      destinations[k] = outputStillThere(env, o.ref, o.count);
      gone = gone || destinations[k] == nullptr;
    }
    if (gone) {
      outcome = makeError(env, true,
                          "fused-bce: native: an output array (lossOut or gradOut) was detached, transferred or resized while "
                          "the asynchronous call ran; nothing was written");
    } else {
      // Written now, on the main thread, where no JavaScript runs beside it.
      for (int k = 0; k < 2; ++k) {
        if (destinations[k] != nullptr) std::memcpy(destinations[k], a->outputs[k].owned, a->outputs[k].count * sizeof(float));
      }
      if (a->wantLossSum) {
        napi_value params;
        napi_typedarray_type type;
        size_t length = 0;
        void* p = nullptr;
        if (napi_get_reference_value(env, a->paramsRef, &params) == napi_ok && params != nullptr &&
            napi_get_typedarray_info(env, params, &type, &length, &p, nullptr, nullptr) == napi_ok &&
            type == napi_float64_array && length >= static_cast<size_t>(a->paramSlots) && p != nullptr) {
          static_cast<double*>(p)[a->sumSlot] = a->sum;
        }
      }
      resolve = napi_create_double(env, a->sum, &outcome) == napi_ok;
      if (!resolve) outcome = makeError(env, false, "fused-bce: native: could not create the result");
    }
  }
  if (outcome != nullptr) {
    if (resolve) napi_resolve_deferred(env, a->deferred, outcome);
    else napi_reject_deferred(env, a->deferred, outcome);
  }
  for (size_t k = 0; k < a->refCount; ++k) napi_delete_reference(env, a->refs[k]);
  napi_delete_async_work(env, a->work);
  returnBlock(a->owned, a->ownedBytes);
  returnCallRecord(envData(env), a);
}

// Starts a call whose arguments were read into a (arrays: the present arrays in argument order; argv: all
// arguments, with the outputs at lossOutArg and gradOutArg and the parameter block at paramsArg): the resizable-
// buffer check, the owned block, the promise and the async work. Returns the promise, or null after throwing.
napi_value startAsync(napi_env env, AsyncCall* a, const napi_value* arrays, size_t arrayCount, const napi_value* argv,
                      int lossOutArg, int gradOutArg, int paramsArg) {
  EnvData* data = envData(env);
  for (size_t k = 0; k < arrayCount; ++k) {
    if (onResizableBuffer(env, arrays[k])) {
      returnCallRecord(data, a);
      return throwError(env, false, "fused-bce: native: an asynchronous call takes fixed-length arrays; an argument is on a resizable or growable buffer");
    }
  }
  for (int k = 0; k < paramsArg; ++k) a->shared[k] = onSharedBuffer(env, argv[k]);
  if (!ownMemory(a)) {
    returnCallRecord(data, a);
    return throwError(env, true, "fused-bce: native: could not allocate the asynchronous call's copy of its arrays");
  }
  napi_value promise, name = resourceName(env, data);
  bool ok = name != nullptr && napi_create_promise(env, &a->deferred, &promise) == napi_ok &&
            napi_create_async_work(env, nullptr, name, executeAsync, completeAsync, a, &a->work) == napi_ok;
  for (; ok && a->refCount < arrayCount; ++a->refCount) {
    ok = napi_create_reference(env, arrays[a->refCount], 1, &a->refs[a->refCount]) == napi_ok;
  }
  if (ok) {
    // Which references are the outputs and the parameter block (the arrays are referenced in argument order).
    for (size_t k = 0; k < arrayCount; ++k) {
      if (arrays[k] == argv[lossOutArg]) a->outputs[0].ref = a->refs[k];
      if (arrays[k] == argv[gradOutArg]) a->outputs[1].ref = a->refs[k];
      if (arrays[k] == argv[paramsArg]) a->paramsRef = a->refs[k];
    }
    ok = napi_queue_async_work(env, a->work) == napi_ok;
  }
  if (!ok) {
    for (size_t k = 0; k < a->refCount; ++k) napi_delete_reference(env, a->refs[k]);
    if (a->work != nullptr) napi_delete_async_work(env, a->work);
    returnBlock(a->owned, a->ownedBytes);
    returnCallRecord(data, a);  // the promise (if created) is dropped unsettled; the caller gets the exception instead
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) throwError(env, false, "fused-bce: native: could not start the asynchronous call");
    return nullptr;
  }
  return promise;
}

}  // namespace

napi_value PassAsync(napi_env env, napi_callback_info info) {
  napi_value argv[kPassArgCount];
  const IsaEntry* isa;
  Call call;
  if (!readArgv(env, info, kPassArgCount, argv, &isa) || !readCall(env, argv, &call)) return nullptr;
  AsyncCall* a = takeCallRecord(envData(env));
  a->call = call;
  a->isa = isa;
  a->sumSlot = kLossSum;
  a->paramSlots = kParamCount;
  a->wantLossSum = call.args.wantLossSum;
  return startAsync(env, a, call.arrays, call.arrayCount, argv, kPassLossOut, kPassGradOut, kPassParams);
}

napi_value CePassAsync(napi_env env, napi_callback_info info) {
  napi_value argv[kCePassArgCount];
  const IsaEntry* isa;
  CeCall call;
  if (!readArgv(env, info, kCePassArgCount, argv, &isa) || !readCeCall(env, argv, &call)) return nullptr;
  AsyncCall* a = takeCallRecord(envData(env));
  a->ce = true;
  a->ceCall = call;
  a->isa = isa;
  a->sumSlot = kCeLossSum;
  a->paramSlots = kCeParamCount;
  a->wantLossSum = call.args.wantLossSum;
  return startAsync(env, a, call.arrays, call.arrayCount, argv, kCePassLossOut, kCePassGradOut, kCePassParams);
}

void prepareEnvironment(napi_env env) {
  if (envData(env) == nullptr) napi_set_instance_data(env, new EnvData, freeEnvData, nullptr);
}

}  // namespace binding
}  // namespace fused_bce
