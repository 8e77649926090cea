// The Node-API binding: per runnable ISA, a synchronous and an asynchronous pass with the contract's argument
// order (native/contract: KernelPass), and a synchronous unweighted pass (KernelPassUnweighted: four arguments).
// It re-checks every type and length the kernel relies on, so a direct call with wrong arguments throws instead
// of touching memory out of bounds. No C++ exceptions (-fno-exceptions); no allocation per synchronous
// single-threaded call.
#include <napi.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <string>

#include "../dispatch/parallel.h"
#include "../generated/contract.h"
#include "../kernel/kernel_api.h"
#include "labels.h"

namespace {

using fused_bce::IsaEntry;
using fused_bce::KernelArgs;
using namespace fused_bce::contract;

struct View {
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type = napi_float32_array;
  bool present = false;
};

napi_value throwError(napi_env env, bool range, const char* message) {
  if (range) napi_throw_range_error(env, nullptr, message);
  else napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

// Reads a typed array argument; null/undefined is allowed where `optional`. Returns false after throwing.
bool readView(napi_env env, napi_value value, const char* name, bool optional, bool allowU8, View* out) {
  // One Node-API call on the common path (a typed array): each call costs tens of nanoseconds, and a tiny
  // input pays for all of them. Only when it fails are null/undefined looked for.
  if (napi_get_typedarray_info(env, value, &out->type, &out->length, &out->data, nullptr, nullptr) == napi_ok) {
    // A detached view reports length 0 and no data, which is safe to pass on (nothing is read). Node-API also
    // calls every zero-length buffer detached, so the length decides; data missing for a non-empty view would
    // be a broken invariant, refused rather than dereferenced.
    if (out->length != 0 && out->data == nullptr) {
      char message[160];
      std::snprintf(message, sizeof message, "fused-bce: native: %s is on a detached ArrayBuffer", name);
      throwError(env, false, message);
      return false;
    }
    if (out->type == napi_float32_array || (allowU8 && out->type == napi_uint8_array)) {
      out->present = true;
      if (out->length == 0) out->data = nullptr;
      return true;
    }
  } else if (optional) {
    napi_valuetype kind;
    if (napi_typeof(env, value, &kind) != napi_ok) return false;
    if (kind == napi_null || kind == napi_undefined) return true;
  }
  char message[200];
  std::snprintf(message, sizeof message, "fused-bce: native: %s must be a Float32Array%s%s", name,
                allowU8 ? " or Uint8Array" : "", optional ? " or null" : "");
  throwError(env, false, message);
  return false;
}

bool checkLength(napi_env env, const View& v, size_t expected, const char* name) {
  if (!v.present || v.length == expected) return true;
  char message[200];
  std::snprintf(message, sizeof message, "fused-bce: native: %s must have length %zu, got %zu", name, expected, v.length);
  throwError(env, true, message);
  return false;
}

// Slots of the parameter block (src/backends/kernel.ts, Param): numbers travel in a Float64Array, never boxed.
// One call's arguments, read and checked: the kernel arguments, the thread count, where the sum goes, and the
// typed arrays themselves, which an asynchronous call keeps referenced until it settles.
struct Call {
  KernelArgs args;
  double* params = nullptr;  // the parameter block; its kLossSum slot receives the sum
  unsigned threads = 0;
  napi_value arrays[8] = {};
  size_t arrayCount = 0;
};

// The arguments of a call in the order of the full pass (contract PassArg: logits, targets, posWeight, weight,
// lossOut, gradOut, gradOutput, params; absent arrays not present). The parameter block's slots are the
// contract's Param: numbers travel in a Float64Array, never boxed.
struct CallViews {
  View views[7];
  napi_value values[8] = {};
};

// Checks the parameter block and every length the kernel relies on, and fills the call. Returns false after
// throwing.
bool checkCall(napi_env env, const CallViews& in, Call* call) {
  const View& logits = in.views[kPassLogits];
  const View& targets = in.views[kPassTargets];
  const View& posWeight = in.views[kPassPosWeight];
  const View& weight = in.views[kPassWeight];
  const View& lossOut = in.views[kPassLossOut];
  const View& gradOut = in.views[kPassGradOut];
  const View& gradOutput = in.views[kPassGradOutput];
  const napi_value* argv = in.values;
  napi_typedarray_type type = napi_int8_array;
  size_t paramCount = 0;
  void* paramData = nullptr;
  const bool isTyped = napi_get_typedarray_info(env, argv[kPassParams], &type, &paramCount, &paramData, nullptr, nullptr) == napi_ok;
  if (!isTyped || type != napi_float64_array || paramCount < kParamCount || paramData == nullptr) {
    char message[120];
    std::snprintf(message, sizeof message, "fused-bce: native: params must be a Float64Array of length %d", static_cast<int>(kParamCount));
    throwError(env, false, message);
    return false;
  }
  double* params = static_cast<double*>(paramData);
  const double classesNumber = params[kClasses], threadsNumber = params[kThreads], want = params[kWantLossSum];
  if (!(threadsNumber >= 0 && threadsNumber <= kMaxThreads && std::floor(threadsNumber) == threadsNumber)) {
    char message[120];
    std::snprintf(message, sizeof message, "fused-bce: native: params[threads] must be an integer from 0 (auto) to %u", kMaxThreads);
    throwError(env, true, message);
    return false;
  }
  if (!(want == 0 || want == 1)) {
    throwError(env, true, "fused-bce: native: params[wantLossSum] must be 0 or 1");
    return false;
  }

  const size_t n = logits.length;
  if (!(classesNumber >= 1 && classesNumber <= 9007199254740991.0 && std::floor(classesNumber) == classesNumber)) {
    throwError(env, true, "fused-bce: native: classes must be an integer >= 1");
    return false;
  }
  const size_t classes = static_cast<size_t>(classesNumber);
  if (n % classes != 0) {
    throwError(env, true, "fused-bce: native: the length of logits must be a multiple of classes");
    return false;
  }
  if (!checkLength(env, targets, n, "targets") || !checkLength(env, posWeight, classes, "posWeight") ||
      !checkLength(env, lossOut, n, "lossOut") || !checkLength(env, gradOut, n, "gradOut") ||
      !checkLength(env, gradOutput, n, "gradOutput")) {
    return false;
  }
  if (weight.present && weight.length != n && weight.length != classes) {
    throwError(env, true, "fused-bce: native: weight must have the length of logits or classes");
    return false;
  }

  KernelArgs& args = call->args;
  args.logits = static_cast<const float*>(logits.data);
  if (targets.type == napi_uint8_array) {
    args.targetsU8 = static_cast<const uint8_t*>(targets.data);
    const size_t bad = fused_bce::firstInvalidLabel(args.targetsU8, n);
    if (bad != n) {
      // The public API reads the index from the parameter block and names its own function in the message.
      params[kInvalidLabelAt] = static_cast<double>(bad);
      char message[200];
      std::snprintf(message, sizeof message, kInvalidLabelFormat, "native", static_cast<long long>(args.targetsU8[bad]), bad);
      throwError(env, true, message);
      return false;
    }
  } else {
    args.targetsF32 = static_cast<const float*>(targets.data);
  }
  args.posWeight = posWeight.present ? static_cast<const float*>(posWeight.data) : nullptr;
  args.weight = weight.present ? static_cast<const float*>(weight.data) : nullptr;
  args.weightPerElement = weight.present && weight.length == n;
  args.n = n;
  args.classes = classes;
  args.smoothScale = params[kSmoothScale];
  args.smoothShift = params[kSmoothShift];
  args.lossOut = lossOut.present ? static_cast<float*>(lossOut.data) : nullptr;
  args.gradOut = gradOut.present ? static_cast<float*>(gradOut.data) : nullptr;
  args.gradScale = params[kGradScale];
  args.gradOutput = gradOutput.present ? static_cast<const float*>(gradOutput.data) : nullptr;
  args.wantLossSum = want == 1;
  // An empty posWeight/weight (n = 0) has no data pointer; the kernel returns before reading it.
  call->params = params;
  call->threads = static_cast<unsigned>(threadsNumber);
  for (int k = 0; k < 7; ++k) {
    if (in.views[k].present) call->arrays[call->arrayCount++] = argv[k];
  }
  call->arrays[call->arrayCount++] = argv[kPassParams];
  return true;
}

// (logits, targets, posWeight, weight, lossOut, gradOut, gradOutput, params), params a Float64Array of
// [classes, smoothScale, smoothShift, gradScale, threads, wantLossSum, lossSum]. Returns false after throwing.
bool readCall(napi_env env, const napi_value* argv, Call* call) {
  CallViews in;
  View* v = in.views;
  for (int k = 0; k < 8; ++k) in.values[k] = argv[k];
  if (!readView(env, argv[kPassLogits], "logits", false, false, &v[kPassLogits])) return false;
  if (!readView(env, argv[kPassTargets], "targets", false, true, &v[kPassTargets])) return false;
  if (!readView(env, argv[kPassPosWeight], "posWeight", true, false, &v[kPassPosWeight])) return false;
  if (!readView(env, argv[kPassWeight], "weight", true, false, &v[kPassWeight])) return false;
  if (!readView(env, argv[kPassLossOut], "lossOut", true, false, &v[kPassLossOut])) return false;
  if (!readView(env, argv[kPassGradOut], "gradOut", true, false, &v[kPassGradOut])) return false;
  if (!readView(env, argv[kPassGradOutput], "gradOutput", true, false, &v[kPassGradOutput])) return false;
  return checkCall(env, in, call);
}

// The common shape, (logits, targets, gradOut, params): no posWeight, weight, lossOut or per-element
// gradOutput, so a call reads four arguments instead of eight. gradOut may be null (the loss alone).
bool readCommonCall(napi_env env, const napi_value* argv, Call* call) {
  CallViews in;
  View* v = in.views;
  in.values[kPassLogits] = argv[kPassUnweightedLogits];
  in.values[kPassTargets] = argv[kPassUnweightedTargets];
  in.values[kPassGradOut] = argv[kPassUnweightedGradOut];
  in.values[kPassParams] = argv[kPassUnweightedParams];
  if (!readView(env, argv[kPassUnweightedLogits], "logits", false, false, &v[kPassLogits])) return false;
  if (!readView(env, argv[kPassUnweightedTargets], "targets", false, true, &v[kPassTargets])) return false;
  if (!readView(env, argv[kPassUnweightedGradOut], "gradOut", true, false, &v[kPassGradOut])) return false;
  return checkCall(env, in, call);
}

bool readArgv(napi_env env, napi_callback_info info, size_t expected, napi_value* argv, const IsaEntry** isa) {
  size_t argc = expected;
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return false;
  if (argc != expected) {
    char message[80];
    std::snprintf(message, sizeof message, "fused-bce: native: expected %zu arguments", expected);
    throwError(env, false, message);
    return false;
  }
  *isa = static_cast<const IsaEntry*>(data);
  return true;
}

// A synchronous entry point reading kArgs arguments with kRead: writes the loss sum into params[lossSum] and
// returns undefined, so that a call with caller-provided arrays allocates nothing on the JavaScript heap (a
// returned double would be boxed).
template <size_t kArgs, bool (*kRead)(napi_env, const napi_value*, Call*)>
napi_value RunSync(napi_env env, napi_callback_info info) {
  napi_value argv[kArgs];
  const IsaEntry* isa;
  Call call;
  if (!readArgv(env, info, kArgs, argv, &isa) || !kRead(env, argv, &call)) return nullptr;
  const double sum = fused_bce::runBlocked(isa->run, call.args, call.threads);
  if (call.args.wantLossSum) call.params[kLossSum] = sum;
  return nullptr;
}

// (logits, targets, posWeight, weight, lossOut, gradOut, gradOutput, params)
napi_value PassSync(napi_env env, napi_callback_info info) { return RunSync<kPassArgCount, readCall>(env, info); }

// The common shape: (logits, targets, gradOut or null, params).
napi_value PassUnweightedSync(napi_env env, napi_callback_info info) {
  return RunSync<kPassUnweightedArgCount, readCommonCall>(env, info);
}

// ---- Softmax cross-entropy: (logits, targets, weight, lossOut, gradOut, gradOutput, params), CeParam slots. ----

using fused_bce::CeKernelArgs;

struct CeCall {
  CeKernelArgs args;
  double* params = nullptr;
  unsigned threads = 0;
  napi_value arrays[kCePassArgCount] = {};
  size_t arrayCount = 0;
  bool floatTargets = false;
};

// Reads a class-target argument: a Float32Array (probabilities) or an Int32Array, Uint16Array or Uint8Array
// (indices).
bool readClassTargets(napi_env env, napi_value value, View* out) {
  if (napi_get_typedarray_info(env, value, &out->type, &out->length, &out->data, nullptr, nullptr) == napi_ok &&
      (out->type == napi_float32_array || out->type == napi_int32_array || out->type == napi_uint16_array ||
       out->type == napi_uint8_array) &&
      !(out->length != 0 && out->data == nullptr)) {
    out->present = true;
    if (out->length == 0) out->data = nullptr;
    return true;
  }
  throwError(env, false, "fused-bce: native: targets must be class indices (an Int32Array, Uint16Array or Uint8Array) or class probabilities (a Float32Array)");
  return false;
}

// Reads and checks a softmax cross-entropy call, runs the class-index pre-pass (a bad index is refused before
// anything is written: params[invalidTargetAt] names its row) and writes params[meanDivisor]. Returns false after
// throwing.
bool readCeCall(napi_env env, const napi_value* argv, CeCall* call) {
  View logits, targets, weight, lossOut, gradOut, gradOutput;
  if (!readView(env, argv[kCePassLogits], "logits", false, false, &logits) || !readClassTargets(env, argv[kCePassTargets], &targets) ||
      !readView(env, argv[kCePassWeight], "weight", true, false, &weight) ||
      !readView(env, argv[kCePassLossOut], "lossOut", true, false, &lossOut) ||
      !readView(env, argv[kCePassGradOut], "gradOut", true, false, &gradOut) ||
      !readView(env, argv[kCePassGradOutput], "gradOutput", true, false, &gradOutput)) {
    return false;
  }
  napi_typedarray_type type = napi_int8_array;
  size_t paramCount = 0;
  void* paramData = nullptr;
  if (napi_get_typedarray_info(env, argv[kCePassParams], &type, &paramCount, &paramData, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array || paramCount < kCeParamCount || paramData == nullptr) {
    char message[120];
    std::snprintf(message, sizeof message, "fused-bce: native: params must be a Float64Array of length %d", static_cast<int>(kCeParamCount));
    return throwError(env, false, message), false;
  }
  double* params = static_cast<double*>(paramData);
  const double classesNumber = params[kCeClasses], threadsNumber = params[kCeThreads];
  const double eps = params[kCeLabelSmoothing], ignore = params[kCeIgnoreIndex];
  if (!(threadsNumber >= 0 && threadsNumber <= kMaxThreads && std::floor(threadsNumber) == threadsNumber)) {
    char message[120];
    std::snprintf(message, sizeof message, "fused-bce: native: params[threads] must be an integer from 0 (auto) to %u", kMaxThreads);
    return throwError(env, true, message), false;
  }
  if (!(params[kCeWantLossSum] == 0 || params[kCeWantLossSum] == 1) || !(params[kCeMean] == 0 || params[kCeMean] == 1)) {
    return throwError(env, true, "fused-bce: native: params[wantLossSum] and params[mean] must be 0 or 1"), false;
  }
  if (!(eps >= 0 && eps <= 1)) return throwError(env, true, "fused-bce: native: params[labelSmoothing] must be in [0, 1]"), false;
  if (!(std::fabs(ignore) <= 9007199254740991.0 && std::floor(ignore) == ignore)) {
    return throwError(env, true, "fused-bce: native: params[ignoreIndex] must be an integer"), false;
  }
  if (!(classesNumber >= 1 && classesNumber <= 9007199254740991.0 && std::floor(classesNumber) == classesNumber)) {
    return throwError(env, true, "fused-bce: native: classes must be an integer >= 1"), false;
  }
  const size_t n = logits.length, classes = static_cast<size_t>(classesNumber);
  if (n % classes != 0) return throwError(env, true, "fused-bce: native: the length of logits must be a multiple of classes"), false;
  const size_t rows = n / classes;
  const bool probabilities = targets.type == napi_float32_array;
  if (!checkLength(env, targets, probabilities ? n : rows, "targets") || !checkLength(env, weight, classes, "weight") ||
      !checkLength(env, lossOut, rows, "lossOut") || !checkLength(env, gradOut, n, "gradOut") ||
      !checkLength(env, gradOutput, rows, "gradOutput")) {
    return false;
  }
  CeKernelArgs& a = call->args;
  a.logits = static_cast<const float*>(logits.data);
  a.weight = weight.present ? static_cast<const float*>(weight.data) : nullptr;
  a.rows = rows;
  a.classes = classes;
  a.labelSmoothing = eps;
  a.ignoreIndex = static_cast<int64_t>(ignore);
  a.lossOut = lossOut.present ? static_cast<float*>(lossOut.data) : nullptr;
  a.gradOut = gradOut.present ? static_cast<float*>(gradOut.data) : nullptr;
  a.gradOutput = gradOutput.present ? static_cast<const float*>(gradOutput.data) : nullptr;
  a.wantLossSum = params[kCeWantLossSum] == 1;
  double weightTotal = static_cast<double>(classes);
  if (a.weight != nullptr) {
    weightTotal = 0;
    for (size_t c = 0; c < classes; ++c) weightTotal += static_cast<double>(a.weight[c]);
  }
  a.weightTotal = weightTotal;
  fused_bce::ClassIndexScan scan{rows, static_cast<double>(rows)};
  if (probabilities) {
    a.probabilities = static_cast<const float*>(targets.data);
  } else if (targets.type == napi_int32_array) {
    a.indicesI32 = static_cast<const int32_t*>(targets.data);
    scan = fused_bce::scanClassIndices(a.indicesI32, rows, classes, a.ignoreIndex, a.weight);
  } else if (targets.type == napi_uint16_array) {
    a.indicesU16 = static_cast<const uint16_t*>(targets.data);
    scan = fused_bce::scanClassIndices(a.indicesU16, rows, classes, a.ignoreIndex, a.weight);
  } else {
    a.indicesU8 = static_cast<const uint8_t*>(targets.data);
    scan = fused_bce::scanClassIndices(a.indicesU8, rows, classes, a.ignoreIndex, a.weight);
  }
  params[kCeInvalidTargetAt] = -1;
  if (scan.invalidRow != rows) {
    params[kCeInvalidTargetAt] = static_cast<double>(scan.invalidRow);
    const int64_t value = a.indicesI32 ? a.indicesI32[scan.invalidRow] : a.indicesU16 ? a.indicesU16[scan.invalidRow] : a.indicesU8[scan.invalidRow];
    char message[240];
    std::snprintf(message, sizeof message, kInvalidClassIndexFormat, "native", scan.invalidRow, static_cast<long long>(value), classes,
                  static_cast<long long>(a.ignoreIndex));
    return throwError(env, true, message), false;
  }
  params[kCeMeanDivisor] = scan.meanDivisor;
  // The gradient of 'mean' is the sum's divided by the divisor (0 / 0 gives NaN, as PyTorch).
  a.gradScale = params[kCeGradScale] / (params[kCeMean] == 1 ? scan.meanDivisor : 1.0);
  call->params = params;
  call->threads = static_cast<unsigned>(threadsNumber);
  call->floatTargets = probabilities;
  const View* views[] = {&logits, &targets, &weight, &lossOut, &gradOut, &gradOutput};
  for (int k = 0; k < kCePassParams; ++k) {
    if (views[k]->present) call->arrays[call->arrayCount++] = argv[k];
  }
  call->arrays[call->arrayCount++] = argv[kCePassParams];
  return true;
}

napi_value CePassSync(napi_env env, napi_callback_info info) {
  napi_value argv[kCePassArgCount];
  const IsaEntry* isa;
  CeCall call;
  if (!readArgv(env, info, kCePassArgCount, argv, &isa) || !readCeCall(env, argv, &call)) return nullptr;
  const double sum = fused_bce::runCeBlocked(isa->runCe, call.args, call.threads);
  if (call.args.wantLossSum) call.params[kCeLossSum] = sum;
  return nullptr;
}

// An asynchronous call in flight. It computes on memory it owns: copies of its inputs, and outputs that are
// copied into the caller's arrays on the main thread when it completes. So no JavaScript operation on the arrays
// while it runs (a transfer, a detach, a resize, garbage collection) can make it read or write memory it does
// not own; an output array that is gone or resized by then gets nothing, and the promise rejects.
struct AsyncCall {
  Call call;
  const IsaEntry* isa = nullptr;
  napi_ref refs[8] = {};      // the arrays (call.arrays order), kept alive until the promise settles
  napi_ref lossOutRef = nullptr, gradOutRef = nullptr, paramsRef = nullptr;
  float* callerLossOut = nullptr;
  float* callerGradOut = nullptr;
  bool shared[kPassArgCount] = {};  // per argument (PassArg order): on a SharedArrayBuffer, used in place
  void* owned = nullptr;      // one block: the other inputs' copies and outputs
  size_t ownedBytes = 0;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  double sum = 0;
};

// What one environment (the main thread, or a worker) keeps between asynchronous calls: the async resource name
// (a string created once) and a few finished call records, so that a call above the inline threshold allocates
// neither (Node-API's own work object and the promise remain). Freed with the environment.
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

// Copies the inputs that are not on a SharedArrayBuffer into one owned block, with room for the outputs that are
// not, and points the kernel arguments at it. Returns false if it cannot allocate.
bool ownMemory(AsyncCall* a) {
  KernelArgs& k = a->call.args;
  const bool* shared = a->shared;
  const size_t n = k.n, weightLength = k.weight == nullptr ? 0 : (k.weightPerElement ? n : k.classes);
  const auto owned = [shared](const void* p, int arg, size_t count) { return p != nullptr && !shared[arg] ? count : 0; };
  const size_t floats = owned(k.logits, kPassLogits, n) + owned(k.targetsF32, kPassTargets, n) +
                        owned(k.posWeight, kPassPosWeight, k.classes) + owned(k.weight, kPassWeight, weightLength) +
                        owned(k.gradOutput, kPassGradOutput, n) + owned(k.lossOut, kPassLossOut, n) +
                        owned(k.gradOut, kPassGradOut, n);
  const size_t bytes = floats * sizeof(float) + owned(k.targetsU8, kPassTargets, n);
  a->owned = takeBlock(bytes == 0 ? 1 : bytes, &a->ownedBytes);
  if (a->owned == nullptr) return false;
  float* next = static_cast<float*>(a->owned);
  const auto copy = [&next, shared](const float* source, int arg, size_t count) {
    if (source == nullptr || shared[arg]) return source;
    float* destination = next;
    if (count != 0) std::memcpy(destination, source, count * sizeof(float));
    next += count;
    return static_cast<const float*>(destination);
  };
  k.logits = copy(k.logits, kPassLogits, n);
  k.targetsF32 = copy(k.targetsF32, kPassTargets, n);
  k.posWeight = copy(k.posWeight, kPassPosWeight, k.classes);
  k.weight = copy(k.weight, kPassWeight, weightLength);
  k.gradOutput = copy(k.gradOutput, kPassGradOutput, n);
  // Outputs on a SharedArrayBuffer are written in place (callerX stays null: nothing to copy back).
  if (k.lossOut && !shared[kPassLossOut]) a->callerLossOut = k.lossOut, k.lossOut = next, next += n;
  if (k.gradOut && !shared[kPassGradOut]) a->callerGradOut = k.gradOut, k.gradOut = next, next += n;
  if (k.targetsU8 && !shared[kPassTargets]) {
    uint8_t* labels = reinterpret_cast<uint8_t*>(next);
    if (n != 0) std::memcpy(labels, k.targetsU8, n);
    k.targetsU8 = labels;
  }
  return true;
}

void executeAsync(napi_env, void* data) {
  auto* a = static_cast<AsyncCall*>(data);
  a->sum = fused_bce::runBlocked(a->isa->run, a->call.args, a->call.threads);
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

void completeAsync(napi_env env, napi_status status, void* data) {
  auto* a = static_cast<AsyncCall*>(data);
  const size_t n = a->call.args.n;
  napi_value outcome = nullptr;
  bool resolve = false;
  if (status != napi_ok) {
    outcome = makeError(env, false, "fused-bce: native: the asynchronous call was cancelled");
  } else {
    // (An empty output has nothing to receive, whatever became of it.)
    // (Outputs written in place, on a SharedArrayBuffer, have nothing to copy back and cannot have gone.)
    float* lossOut = a->callerLossOut && n != 0 ? outputStillThere(env, a->lossOutRef, n) : nullptr;
    float* gradOut = a->callerGradOut && n != 0 ? outputStillThere(env, a->gradOutRef, n) : nullptr;
    if (n != 0 && ((a->callerLossOut && lossOut == nullptr) || (a->callerGradOut && gradOut == nullptr))) {
      outcome = makeError(env, true,
                          "fused-bce: native: an output array (lossOut or gradOut) was detached, transferred or resized while "
                          "the asynchronous call ran; nothing was written");
    } else {
      // Written now, on the main thread, where no JavaScript runs beside it.
      if (lossOut && n != 0) std::memcpy(lossOut, a->call.args.lossOut, n * sizeof(float));
      if (gradOut && n != 0) std::memcpy(gradOut, a->call.args.gradOut, n * sizeof(float));
      if (a->call.args.wantLossSum) {
        napi_value params;
        napi_typedarray_type type;
        size_t length = 0;
        void* p = nullptr;
        if (napi_get_reference_value(env, a->paramsRef, &params) == napi_ok && params != nullptr &&
            napi_get_typedarray_info(env, params, &type, &length, &p, nullptr, nullptr) == napi_ok &&
            type == napi_float64_array && length >= kParamCount && p != nullptr) {
          static_cast<double*>(p)[kLossSum] = a->sum;
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
  for (size_t k = 0; k < a->call.arrayCount; ++k) napi_delete_reference(env, a->refs[k]);
  napi_delete_async_work(env, a->work);
  returnBlock(a->owned, a->ownedBytes);
  returnCallRecord(envData(env), a);
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

// The asynchronous entry point: the same arguments; a promise of the loss sum (also written to
// params[lossSum]), computed on the libuv pool on memory the call owns.
napi_value PassAsync(napi_env env, napi_callback_info info) {
  napi_value argv[kPassArgCount];
  const IsaEntry* isa;
  Call call;
  if (!readArgv(env, info, kPassArgCount, argv, &isa) || !readCall(env, argv, &call)) return nullptr;
  for (size_t k = 0; k < call.arrayCount; ++k) {
    if (onResizableBuffer(env, call.arrays[k])) {
      return throwError(env, false, "fused-bce: native: an asynchronous call takes fixed-length arrays; an argument is on a resizable or growable buffer");
    }
  }
  EnvData* data = envData(env);
  AsyncCall* a = takeCallRecord(data);
  a->call = call;
  a->isa = isa;
  for (int k = 0; k < kPassParams; ++k) a->shared[k] = onSharedBuffer(env, argv[k]);
  if (!ownMemory(a)) {
    returnCallRecord(data, a);
    return throwError(env, true, "fused-bce: native: could not allocate the asynchronous call's copy of its arrays");
  }
  napi_value promise, name = resourceName(env, data);
  bool ok = name != nullptr && napi_create_promise(env, &a->deferred, &promise) == napi_ok &&
            napi_create_async_work(env, nullptr, name, executeAsync, completeAsync, a, &a->work) == napi_ok;
  size_t referenced = 0;
  for (; ok && referenced < call.arrayCount; ++referenced) {
    ok = napi_create_reference(env, call.arrays[referenced], 1, &a->refs[referenced]) == napi_ok;
  }
  if (ok) {
    // Which references are the outputs and the parameter block (the arrays are referenced in argument order).
    for (size_t k = 0; k < call.arrayCount; ++k) {
      if (call.arrays[k] == argv[kPassLossOut]) a->lossOutRef = a->refs[k];
      if (call.arrays[k] == argv[kPassGradOut]) a->gradOutRef = a->refs[k];
      if (call.arrays[k] == argv[kPassParams]) a->paramsRef = a->refs[k];
    }
    ok = napi_queue_async_work(env, a->work) == napi_ok;
  }
  if (!ok) {
    for (size_t k = 0; k < referenced; ++k) napi_delete_reference(env, a->refs[k]);
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

// A softmax cross-entropy call in flight, under the same ownership rule as AsyncCall: it computes on copies of its
// inputs, and its outputs are copied into the caller's arrays on the main thread when it completes.
struct CeAsyncCall {
  CeCall call;
  const IsaEntry* isa = nullptr;
  napi_ref refs[kCePassArgCount] = {};
  napi_ref lossOutRef = nullptr, gradOutRef = nullptr, paramsRef = nullptr;
  float* callerLossOut = nullptr;
  float* callerGradOut = nullptr;
  void* owned = nullptr;
  size_t ownedBytes = 0;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  double sum = 0;
};

// Copies the inputs into one owned block with room for the outputs. Returns false if it cannot allocate.
bool ownCeMemory(CeAsyncCall* a) {
  CeKernelArgs& k = a->call.args;
  const size_t n = k.rows * k.classes, rows = k.rows;
  const size_t indexBytes = k.indicesI32 ? rows * 4 : k.indicesU16 ? rows * 2 : k.indicesU8 ? rows : 0;
  const size_t floats = n + (k.probabilities ? n : 0) + (k.weight ? k.classes : 0) + (k.gradOutput ? rows : 0) +
                        (k.lossOut ? rows : 0) + (k.gradOut ? n : 0);
  const size_t bytes = floats * sizeof(float) + indexBytes;
  a->owned = takeBlock(bytes == 0 ? 1 : bytes, &a->ownedBytes);
  if (a->owned == nullptr) return false;
  float* next = static_cast<float*>(a->owned);
  const auto copy = [&next](const float* source, size_t count) -> const float* {
    if (source == nullptr) return nullptr;
    float* destination = next;
    if (count != 0) std::memcpy(destination, source, count * sizeof(float));
    next += count;
    return destination;
  };
  k.logits = copy(k.logits, n);
  k.probabilities = copy(k.probabilities, n);
  k.weight = copy(k.weight, k.classes);
  k.gradOutput = copy(k.gradOutput, rows);
  if (k.lossOut) a->callerLossOut = k.lossOut, k.lossOut = next, next += rows;
  if (k.gradOut) a->callerGradOut = k.gradOut, k.gradOut = next, next += n;
  void* indices = next;
  if (indexBytes != 0) {
    if (k.indicesI32) std::memcpy(indices, k.indicesI32, indexBytes), k.indicesI32 = static_cast<const int32_t*>(indices);
    if (k.indicesU16) std::memcpy(indices, k.indicesU16, indexBytes), k.indicesU16 = static_cast<const uint16_t*>(indices);
    if (k.indicesU8) std::memcpy(indices, k.indicesU8, indexBytes), k.indicesU8 = static_cast<const uint8_t*>(indices);
  }
  return true;
}

void executeCeAsync(napi_env, void* data) {
  auto* a = static_cast<CeAsyncCall*>(data);
  a->sum = fused_bce::runCeBlocked(a->isa->runCe, a->call.args, a->call.threads);
}

void completeCeAsync(napi_env env, napi_status status, void* data) {
  auto* a = static_cast<CeAsyncCall*>(data);
  const size_t rows = a->call.args.rows, n = rows * a->call.args.classes;
  napi_value outcome = nullptr;
  bool resolve = false;
  if (status != napi_ok) {
    outcome = makeError(env, false, "fused-bce: native: the asynchronous call was cancelled");
  } else {
    float* lossOut = a->callerLossOut && rows != 0 ? outputStillThere(env, a->lossOutRef, rows) : nullptr;
    float* gradOut = a->callerGradOut && n != 0 ? outputStillThere(env, a->gradOutRef, n) : nullptr;
    if ((a->callerLossOut && rows != 0 && lossOut == nullptr) || (a->callerGradOut && n != 0 && gradOut == nullptr)) {
      outcome = makeError(env, true,
                          "fused-bce: native: an output array (lossOut or gradOut) was detached, transferred or resized while "
                          "the asynchronous call ran; nothing was written");
    } else {
      if (lossOut) std::memcpy(lossOut, a->call.args.lossOut, rows * sizeof(float));
      if (gradOut) std::memcpy(gradOut, a->call.args.gradOut, n * sizeof(float));
      napi_value params;
      napi_typedarray_type type;
      size_t length = 0;
      void* p = nullptr;
      if (a->call.args.wantLossSum && napi_get_reference_value(env, a->paramsRef, &params) == napi_ok && params != nullptr &&
          napi_get_typedarray_info(env, params, &type, &length, &p, nullptr, nullptr) == napi_ok &&
          type == napi_float64_array && length >= kCeParamCount && p != nullptr) {
        static_cast<double*>(p)[kCeLossSum] = a->sum;
      }
      resolve = napi_create_double(env, a->sum, &outcome) == napi_ok;
      if (!resolve) outcome = makeError(env, false, "fused-bce: native: could not create the result");
    }
  }
  if (outcome != nullptr) {
    if (resolve) napi_resolve_deferred(env, a->deferred, outcome);
    else napi_reject_deferred(env, a->deferred, outcome);
  }
  for (size_t k = 0; k < a->call.arrayCount; ++k) napi_delete_reference(env, a->refs[k]);
  napi_delete_async_work(env, a->work);
  returnBlock(a->owned, a->ownedBytes);
  delete a;
}

// The asynchronous softmax cross-entropy entry point: the same arguments; a promise of the loss sum (also written
// to params[lossSum]), computed on the libuv pool on memory the call owns.
napi_value CePassAsync(napi_env env, napi_callback_info info) {
  napi_value argv[kCePassArgCount];
  const IsaEntry* isa;
  CeCall call;
  if (!readArgv(env, info, kCePassArgCount, argv, &isa) || !readCeCall(env, argv, &call)) return nullptr;
  for (size_t k = 0; k < call.arrayCount; ++k) {
    if (onResizableBuffer(env, call.arrays[k])) {
      return throwError(env, false, "fused-bce: native: an asynchronous call takes fixed-length arrays; an argument is on a resizable or growable buffer");
    }
  }
  auto* a = new CeAsyncCall;
  a->call = call;
  a->isa = isa;
  if (!ownCeMemory(a)) {
    delete a;
    return throwError(env, true, "fused-bce: native: could not allocate the asynchronous call's copy of its arrays");
  }
  napi_value promise, name = resourceName(env, envData(env));
  bool ok = name != nullptr && napi_create_promise(env, &a->deferred, &promise) == napi_ok &&
            napi_create_async_work(env, nullptr, name, executeCeAsync, completeCeAsync, a, &a->work) == napi_ok;
  size_t referenced = 0;
  for (; ok && referenced < call.arrayCount; ++referenced) {
    ok = napi_create_reference(env, call.arrays[referenced], 1, &a->refs[referenced]) == napi_ok;
  }
  if (ok) {
    for (size_t k = 0; k < call.arrayCount; ++k) {
      if (call.arrays[k] == argv[kCePassLossOut]) a->lossOutRef = a->refs[k];
      if (call.arrays[k] == argv[kCePassGradOut]) a->gradOutRef = a->refs[k];
      if (call.arrays[k] == argv[kCePassParams]) a->paramsRef = a->refs[k];
    }
    ok = napi_queue_async_work(env, a->work) == napi_ok;
  }
  if (!ok) {
    for (size_t k = 0; k < referenced; ++k) napi_delete_reference(env, a->refs[k]);
    if (a->work != nullptr) napi_delete_async_work(env, a->work);
    returnBlock(a->owned, a->ownedBytes);
    delete a;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) throwError(env, false, "fused-bce: native: could not start the asynchronous call");
    return nullptr;
  }
  return promise;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (envData(env) == nullptr) napi_set_instance_data(env, new EnvData, freeEnvData, nullptr);
  const IsaEntry* entries;
  const size_t count = fused_bce::compiledIsas(&entries);
  Napi::Array runnable = Napi::Array::New(env);
  Napi::Object passes = Napi::Object::New(env);
  Napi::Object passesAsync = Napi::Object::New(env);
  Napi::Object passesUnweighted = Napi::Object::New(env);
  Napi::Object cePasses = Napi::Object::New(env);
  Napi::Object cePassesAsync = Napi::Object::New(env);
  uint32_t runnableCount = 0;
  const auto add = [&env](Napi::Object& to, const IsaEntry& entry, napi_callback callback) {
    napi_value fn;
    // The entry is static and immutable: safe to share between contexts and worker threads.
    napi_create_function(env, entry.name, NAPI_AUTO_LENGTH, callback, const_cast<IsaEntry*>(&entry), &fn);
    to.Set(entry.name, Napi::Value(env, fn));
  };
  for (size_t k = 0; k < count; ++k) {
    if (!fused_bce::cpuSupports(entries[k].isa)) continue;
    runnable.Set(runnableCount++, Napi::String::New(env, entries[k].name));
    add(passes, entries[k], PassSync);
    add(passesAsync, entries[k], PassAsync);
    add(passesUnweighted, entries[k], PassUnweightedSync);
    add(cePasses, entries[k], CePassSync);
    add(cePassesAsync, entries[k], CePassAsync);
  }
  // In the table's best-first order: isas[0] is the best this CPU runs.
  exports.Set("isas", runnable);
  exports.Set("passes", passes);
  exports.Set("passesAsync", passesAsync);
  exports.Set("passesUnweighted", passesUnweighted);
  exports.Set("cePasses", cePasses);
  exports.Set("cePassesAsync", cePassesAsync);
  // The parameter block's layout as this binary was built with it, so that a test holds it against the contract.
  Napi::Object slots = Napi::Object::New(env);
  for (int k = 0; k < kParamCount; ++k) slots.Set(kParamNames[k], Napi::Number::New(env, k));
  slots.Set("count", Napi::Number::New(env, kParamCount));
  exports.Set("paramSlots", slots);
  Napi::Object ceSlots = Napi::Object::New(env);
  for (int k = 0; k < kCeParamCount; ++k) ceSlots.Set(kCeParamNames[k], Napi::Number::New(env, k));
  ceSlots.Set("count", Napi::Number::New(env, kCeParamCount));
  exports.Set("ceParamSlots", ceSlots);
  exports.Set("maxThreads", Napi::Number::New(env, fused_bce::availableThreads()));
  return exports;
}

}  // namespace

NODE_API_MODULE(fused_bce, Init)
