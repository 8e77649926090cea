// The asynchronous entry points of both losses (async_call.h): the promise, the async works, the main thread's
// turns and their lifetimes. How the work is shared is async_pipeline's: the worker computes on memory the call
// owns (a ring of chunks its inputs are copied into and its outputs out of, on the main thread), and the main
// thread computes on the caller's arrays only within its own turns; so nothing JavaScript does to the arrays
// while the call runs (a transfer, a detach, a resize, garbage collection) can make it read or write memory it
// does not own. An input or output that is gone when its next chunk is copied or computed stops the call, and the
// promise rejects. Arrays on a SharedArrayBuffer (which cannot be detached, transferred away or shrunk) are used
// in place.
#include "async_call.h"

#include <cstdio>
#include <initializer_list>

#include "../generated/contract.h"
#include "async_pipeline.h"
#include "owned_blocks.h"

namespace fused_bce {
namespace binding {

using namespace contract;

namespace {

constexpr size_t kLabelsInTurnsAbove = size_t(1) << 20;

struct EnvData {
  napi_ref resourceName = nullptr;  // a one-element array holding the name string
  AsyncCall* spare[8] = {};
  size_t spareCount = 0;
  // The main thread's turns run from setImmediate: the calls waiting for one, and whether it is scheduled.
  napi_ref setImmediate = nullptr;  // the global setImmediate, looked up when the addon loads
  napi_ref turnFunction = nullptr;  // the native function it is given
  bool setImmediateMissing = false;
  AsyncCall* waiting = nullptr;
  bool turnsScheduled = false;
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

// Call records are reused (a record holds a mutex and a condition variable; they are reconstructed, not copied).
AsyncCall* takeCallRecord(EnvData* d) {
  if (d != nullptr && d->spareCount > 0) {
    AsyncCall* a = d->spare[--d->spareCount];
    a->~AsyncCall();
    return new (a) AsyncCall;
  }
  return new AsyncCall;
}

void returnCallRecord(EnvData* d, AsyncCall* a) {
  if (d != nullptr && d->spareCount < sizeof d->spare / sizeof d->spare[0]) d->spare[d->spareCount++] = a;
  else delete a;
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
      // cleared, so that the call goes on. (Its arrays are re-read, length and all, at every chunk.)
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
  }
  return false;
}

const char* errorMessage(PipelineError error) {
  switch (error) {
    case PipelineError::kInputGone:
      return "fused-bce: native: an input array was detached, transferred or resized while the asynchronous call ran "
             "(inputs are read until the promise settles); the outputs are incomplete";
    case PipelineError::kOutputGone:
      return "fused-bce: native: an output array (lossOut or gradOut) was detached, transferred or resized while the "
             "asynchronous call ran; the outputs are incomplete";
    case PipelineError::kInputChanged:
      return "fused-bce: native: an input array was written while the asynchronous call ran (a label or class index "
             "became invalid; inputs are read until the promise settles); the outputs are incomplete";
    case PipelineError::kInvalidLabel:
      return "";  // (formatted with the label and its index where the error is made)
    case PipelineError::kNoWorker:
      return "fused-bce: native: the asynchronous call could not queue its work on the libuv pool";
    default:
      return "fused-bce: native: the asynchronous call was stopped: its environment is closing";
  }
}

// The environment is closing with the call in flight: a worker stops at its next entry.
void stopOnTeardown(void* data) { stopPipeline(static_cast<AsyncCall*>(data), PipelineError::kClosing); }

void settle(napi_env env, AsyncCall* a, bool cancelled);
void queueWorker(napi_env env, AsyncCall* a);

// Turns of the main thread for every call waiting for one; run by setImmediate. A call with chunks left for the
// main thread waits again, for the next turn of the event loop.
napi_value takeTurns(napi_env env, napi_callback_info);

// Whether setImmediate can be used (looked up once per environment).
bool canSchedule(napi_env env, EnvData* d) {
  if (d->setImmediate != nullptr) return true;
  if (d->setImmediateMissing) return false;
  napi_value global, setImmediate = nullptr, turns = nullptr;
  napi_valuetype type = napi_undefined;
  if (napi_get_global(env, &global) != napi_ok || napi_get_named_property(env, global, "setImmediate", &setImmediate) != napi_ok ||
      napi_typeof(env, setImmediate, &type) != napi_ok || type != napi_function ||
      napi_create_function(env, "fusedBceTurns", NAPI_AUTO_LENGTH, takeTurns, nullptr, &turns) != napi_ok ||
      napi_create_reference(env, turns, 1, &d->turnFunction) != napi_ok ||
      napi_create_reference(env, setImmediate, 1, &d->setImmediate) != napi_ok) {
    bool pending = false;
    napi_value ignored;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
    d->setImmediateMissing = true;
    d->setImmediate = nullptr;
    return false;
  }
  return true;
}

// Schedules takeTurns with setImmediate (once for all waiting calls); false if that cannot be done.
bool scheduleTurns(napi_env env, EnvData* d) {
  if (d->turnsScheduled) return true;
  if (!canSchedule(env, d)) return false;
  napi_value global, setImmediate, turns, result;
  if (napi_get_reference_value(env, d->setImmediate, &setImmediate) != napi_ok || napi_get_reference_value(env, d->turnFunction, &turns) != napi_ok ||
      napi_get_global(env, &global) != napi_ok || napi_call_function(env, global, setImmediate, 1, &turns, &result) != napi_ok) {
    bool pending = false;
    napi_value ignored;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
    return false;
  }
  d->turnsScheduled = true;
  return true;
}

void waitForTurn(EnvData* d, AsyncCall* a) {
  if (a->waitingForTurn) return;
  a->waitingForTurn = true;
  a->nextWaiting = d->waiting;
  d->waiting = a;
}

// Takes a call off the list of calls waiting for a turn.
void forgetTurn(EnvData* d, AsyncCall* a) {
  if (d == nullptr || !a->waitingForTurn) return;
  for (AsyncCall** p = &d->waiting; *p != nullptr; p = &(*p)->nextWaiting) {
    if (*p == a) {
      *p = a->nextWaiting;
      break;
    }
  }
  a->nextWaiting = nullptr;
  a->waitingForTurn = false;
}

// After a turn or a worker's end: queue a worker for the entries filled, settle if all is done.
void afterProgress(napi_env env, AsyncCall* a) {
  if (!a->workQueued && workForWorker(a)) queueWorker(env, a);
  if (pipelineFinished(a)) settle(env, a, false);
}

// Takes the next call off a list of waiting calls.
AsyncCall* popWaiting(AsyncCall*& list) {
  AsyncCall* a = list;
  list = a->nextWaiting;
  a->nextWaiting = nullptr;
  a->waitingForTurn = false;
  return a;
}

napi_value takeTurns(napi_env env, napi_callback_info) {
  EnvData* d = envData(env);
  if (d == nullptr) return nullptr;
  d->turnsScheduled = false;
  AsyncCall* list = d->waiting;
  d->waiting = nullptr;
  while (list != nullptr) {
    AsyncCall* a = popWaiting(list);
    if (!a->startedTurns) {
      // The call may have started in this same task of the event loop (its start is 1.5-2.5 ms the first time in
      // a process, V8's first run of the JS path): its work begins a turn later, with timers between.
      a->startedTurns = true;
      waitForTurn(d, a);
      continue;
    }
    if (!a->workQueued && workForWorker(a)) {
      // A worker wanted from the start (to page in a fresh ring) is queued in a turn of its own: the first in a
      // process starts libuv's pool, 1-4 ms.
      queueWorker(env, a);
      waitForTurn(d, a);
      afterProgress(env, a);  // (settles the call if the worker could not be queued)
      continue;
    }
    if (pumpPipeline(env, a, false)) waitForTurn(d, a);
    afterProgress(env, a);
  }
  if (d->waiting != nullptr && !scheduleTurns(env, d)) {
    // (setImmediate was there a moment ago.) Without it the main thread does its share now, and leaves the rest
    // of each call to the worker.
    AsyncCall* rest = d->waiting;
    d->waiting = nullptr;
    while (rest != nullptr) {
      AsyncCall* a = popWaiting(rest);
      a->mayComputeInPlace = false;
      checkLabelsUntil(env, a, a->labelsToCheck);  // (as startAsync does without turns)
      pumpPipeline(env, a, false);
      afterProgress(env, a);
    }
  }
  return nullptr;
}

void executeAsync(napi_env, void* data) { runPipeline(static_cast<AsyncCall*>(data)); }

// A worker is done: copy out, refill (when the main thread takes no turns), queue the next, or settle.
void completeAsync(napi_env env, napi_status status, void* data) {
  auto* a = static_cast<AsyncCall*>(data);
  napi_delete_async_work(env, a->work);
  a->work = nullptr;
  a->workQueued = false;
  if (status != napi_ok) {
    stopPipeline(a, PipelineError::kClosing);
    forgetTurn(envData(env), a);
    return settle(env, a, true);
  }
  if (!a->mayComputeInPlace) pumpPipeline(env, a, false);
  afterProgress(env, a);
}

void queueWorker(napi_env env, AsyncCall* a) {
  EnvData* d = envData(env);
  napi_value name = resourceName(env, d);
  if (name != nullptr && napi_create_async_work(env, nullptr, name, executeAsync, completeAsync, a, &a->work) == napi_ok) {
    if (napi_queue_async_work(env, a->work) == napi_ok) {
      a->workQueued = true;
      return;
    }
    napi_delete_async_work(env, a->work);
    a->work = nullptr;
  }
  stopPipeline(a, PipelineError::kNoWorker);
}

// Writes a slot of the call's parameter block, if the block is still there with its length.
void writeParam(napi_env env, AsyncCall* a, int slot, double value) {
  napi_value params;
  napi_typedarray_type type;
  size_t length = 0;
  void* p = nullptr;
  if (napi_get_reference_value(env, a->paramsRef, &params) == napi_ok && params != nullptr &&
      napi_get_typedarray_info(env, params, &type, &length, &p, nullptr, nullptr) == napi_ok &&
      type == napi_float64_array && length >= static_cast<size_t>(a->paramSlots) && p != nullptr) {
    static_cast<double*>(p)[slot] = value;
  }
}

// Resolves or rejects the call's promise and gives back what it holds: once the worker is done and the main
// thread has claimed every chunk (or the call failed).
void settle(napi_env env, AsyncCall* a, bool cancelled) {
  if (a->settled) return;
  a->settled = true;
  forgetTurn(envData(env), a);
  napi_remove_env_cleanup_hook(env, stopOnTeardown, a);
  napi_value outcome = nullptr;
  bool resolve = false;
  if (cancelled) {
    outcome = makeError(env, false, "fused-bce: native: the asynchronous call was cancelled");
  } else {
    pumpPipeline(env, a, true);  // the entries not yet copied out
    a->sum = pipelineSum(a);
    PipelineError error;
    {
      std::lock_guard<std::mutex> lock(a->mutex);
      error = a->error;
    }
    if (error == PipelineError::kInvalidLabel) {
      // The synchronous call's error: a RangeError, and the index in the parameter block for the public API.
      napi_value message;
      writeParam(env, a, kInvalidLabelAt, static_cast<double>(a->invalidLabelAt));
      char text[200];
      std::snprintf(text, sizeof text, kInvalidLabelFormat, "native", static_cast<long long>(a->invalidLabel), a->invalidLabelAt);
      if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message) == napi_ok) napi_create_range_error(env, nullptr, message, &outcome);
    } else if (error != PipelineError::kNone) {
      outcome = makeError(env, error != PipelineError::kClosing && error != PipelineError::kNoWorker, errorMessage(error));
    } else {
      if (a->wantLossSum) writeParam(env, a, a->sumSlot, a->sum);
      resolve = napi_create_double(env, a->sum, &outcome) == napi_ok;
      if (!resolve) outcome = makeError(env, false, "fused-bce: native: could not create the result");
    }
  }
  if (outcome != nullptr) {
    if (resolve) napi_resolve_deferred(env, a->deferred, outcome);
    else napi_reject_deferred(env, a->deferred, outcome);
  }
  for (size_t k = 0; k < a->refCount; ++k) napi_delete_reference(env, a->refs[k]);
  returnBlock(a->block, a->blockBytes, ringPagedIn(a));
  a->block = nullptr;
  returnCallRecord(envData(env), a);
}

// Gives back what a call that could not start took, and throws (unless an exception is pending already). The
// promise (if created) is dropped unsettled; the caller gets the exception instead.
napi_value abandon(napi_env env, AsyncCall* a, bool range, const char* message) {
  for (size_t k = 0; k < a->refCount; ++k) napi_delete_reference(env, a->refs[k]);
  returnBlock(a->block, a->blockBytes, ringPagedIn(a));
  a->block = nullptr;
  returnCallRecord(envData(env), a);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) throwError(env, range, message);
  return nullptr;
}

// Starts a call whose arguments were read into a (arrays: the present arrays in argument order; argv: all
// arguments, with the parameter block at paramsArg): the resizable-buffer check, the layout, the promise; then
// the main thread's first turn is scheduled (or, without setImmediate, the ring filled now and a worker queued).
// Returns the promise, or null after throwing.
napi_value startAsync(napi_env env, AsyncCall* a, const napi_value* arrays, size_t arrayCount, const napi_value* argv,
                      int paramsArg) {
  EnvData* d = envData(env);
  for (size_t k = 0; k < arrayCount; ++k) {
    if (onResizableBuffer(env, arrays[k])) {
      returnCallRecord(d, a);
      return throwError(env, false, "fused-bce: native: an asynchronous call takes fixed-length arrays; an argument is on a resizable or growable buffer");
    }
  }
  if (!planPipeline(env, a, argv)) {
    return abandon(env, a, true, "fused-bce: native: could not allocate the asynchronous call's copy of its arrays");
  }
  napi_value promise;
  bool ok = napi_create_promise(env, &a->deferred, &promise) == napi_ok;
  for (; ok && a->refCount < arrayCount; ++a->refCount) {
    ok = napi_create_reference(env, arrays[a->refCount], 1, &a->refs[a->refCount]) == napi_ok;
  }
  ok = ok && napi_add_env_cleanup_hook(env, stopOnTeardown, a) == napi_ok;
  if (!ok) return abandon(env, a, false, "fused-bce: native: could not start the asynchronous call");
  // Which references are the parameter block and each array the pipeline re-reads (argument order).
  for (size_t k = 0; k < arrayCount; ++k) {
    if (arrays[k] == argv[paramsArg]) a->paramsRef = a->refs[k];
    for (size_t p = 0; p < a->arrayCount; ++p) {
      if (arrays[k] == argv[a->arrays[p].arg]) a->arrays[p].ref = a->refs[k];
    }
  }
  if (a->chunks == 0) {
    runPipeline(a);  // an empty call: the kernel reads and writes nothing
    settle(env, a, false);
    return promise;
  }
  a->mayComputeInPlace = d != nullptr && canSchedule(env, d);
  if (a->mayComputeInPlace) {
    waitForTurn(d, a);
    if (scheduleTurns(env, d)) return promise;  // the turns queue the worker when it has work
    forgetTurn(d, a);
    a->mayComputeInPlace = false;
  }
  checkLabelsUntil(env, a, a->labelsToCheck);  // no turns to spread it over: now, as the synchronous call
  pumpPipeline(env, a, false);
  afterProgress(env, a);
  return promise;
}

}  // namespace

napi_value PassAsync(napi_env env, napi_callback_info info) {
  napi_value argv[kPassArgCount];
  const IsaEntry* isa;
  Call call;
  if (!readArgv(env, info, kPassArgCount, argv, &isa)) return nullptr;
  // Uint8 labels are checked now, as by the synchronous call, up to kLabelsInTurnsAbove; a longer check (about
  // 2 ms at 32M) is made in the main thread's first turns instead, before anything is written, and a bad label
  // rejects the promise with the same RangeError.
  napi_typedarray_type targetsType;
  size_t targetsLength = 0;
  const bool inTurns = napi_get_typedarray_info(env, argv[kPassTargets], &targetsType, &targetsLength, nullptr, nullptr, nullptr) == napi_ok &&
                       targetsType == napi_uint8_array && targetsLength > kLabelsInTurnsAbove;
  if (!(inTurns ? readCallLabelsUnchecked(env, argv, &call) : readCall(env, argv, &call))) return nullptr;
  AsyncCall* a = takeCallRecord(envData(env));
  a->call = call;
  a->labelsToCheck = inTurns && call.args.targetsU8 != nullptr ? call.args.n : 0;
  a->isa = isa;
  a->sumSlot = kLossSum;
  a->paramSlots = kParamCount;
  a->wantLossSum = call.args.wantLossSum;
  return startAsync(env, a, call.arrays, call.arrayCount, argv, kPassParams);
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
  return startAsync(env, a, call.arrays, call.arrayCount, argv, kCePassParams);
}

void prepareEnvironment(napi_env env) {
  if (envData(env) != nullptr) return;
  auto* d = new EnvData;
  if (napi_set_instance_data(env, d, freeEnvData, nullptr) != napi_ok) {
    delete d;
    return;
  }
  canSchedule(env, d);  // (now rather than in the first asynchronous call, whose start would take it from the event loop)
}

}  // namespace binding
}  // namespace fused_bce
