// The Node-API binding: per runnable ISA, a synchronous and an asynchronous function with the KernelRun
// signature of src/types.ts. It re-checks every type and length the kernel relies on, so a direct call with
// wrong arguments throws instead of touching memory out of bounds. No C++ exceptions (-fno-exceptions); no
// allocation per synchronous single-threaded call.
#include <napi.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "../dispatch/parallel.h"
#include "../kernel/kernel_api.h"

namespace {

using fused_bce::IsaEntry;
using fused_bce::KernelArgs;

constexpr size_t kArgCount = 8;

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

// Slots of the parameter block (src/types.ts, Param): numbers travel in a Float64Array, never boxed.
enum Param { kClasses = 0, kSmoothScale, kSmoothShift, kGradScale, kThreads, kWantLossSum, kLossSum, kParamCount };

// One call's arguments, read and checked: the kernel arguments, the thread count, where the sum goes, and the
// typed arrays themselves, which an asynchronous call keeps referenced until it settles.
struct Call {
  KernelArgs args;
  double* params = nullptr;  // the parameter block; its kLossSum slot receives the sum
  unsigned threads = 0;
  napi_value arrays[8] = {};
  size_t arrayCount = 0;
};

// (logits, targets, posWeight, weight, lossOut, gradOut, gradOutput, params), params a Float64Array of
// [classes, smoothScale, smoothShift, gradScale, threads, wantLossSum, lossSum]. Returns false after throwing.
bool readCall(napi_env env, const napi_value* argv, Call* call) {
  View logits, targets, posWeight, weight, lossOut, gradOut, gradOutput;
  if (!readView(env, argv[0], "logits", false, false, &logits)) return false;
  if (!readView(env, argv[1], "targets", false, true, &targets)) return false;
  if (!readView(env, argv[2], "posWeight", true, false, &posWeight)) return false;
  if (!readView(env, argv[3], "weight", true, false, &weight)) return false;
  if (!readView(env, argv[4], "lossOut", true, false, &lossOut)) return false;
  if (!readView(env, argv[5], "gradOut", true, false, &gradOut)) return false;
  if (!readView(env, argv[6], "gradOutput", true, false, &gradOutput)) return false;
  napi_typedarray_type type = napi_int8_array;
  size_t paramCount = 0;
  void* paramData = nullptr;
  const bool isTyped = napi_get_typedarray_info(env, argv[7], &type, &paramCount, &paramData, nullptr, nullptr) == napi_ok;
  if (!isTyped || type != napi_float64_array || paramCount < kParamCount || paramData == nullptr) {
    char message[120];
    std::snprintf(message, sizeof message, "fused-bce: native: params must be a Float64Array of length %d", static_cast<int>(kParamCount));
    throwError(env, false, message);
    return false;
  }
  double* params = static_cast<double*>(paramData);
  const double classesNumber = params[kClasses], threadsNumber = params[kThreads], want = params[kWantLossSum];
  if (!(threadsNumber >= 0 && threadsNumber <= 1024 && std::floor(threadsNumber) == threadsNumber)) {
    throwError(env, true, "fused-bce: native: params[threads] must be an integer from 0 (auto) to 1024");
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
      char message[200];
      std::snprintf(message, sizeof message,
                    "fused-bce: targets is a Uint8Array of hard labels, each must be 0 or 1, got %u at index %zu",
                    static_cast<unsigned>(args.targetsU8[bad]), bad);
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
  const View* views[7] = {&logits, &targets, &posWeight, &weight, &lossOut, &gradOut, &gradOutput};
  for (int k = 0; k < 7; ++k) {
    if (views[k]->present) call->arrays[call->arrayCount++] = argv[k];
  }
  call->arrays[call->arrayCount++] = argv[7];
  return true;
}

bool readArgv(napi_env env, napi_callback_info info, napi_value* argv, const IsaEntry** isa) {
  size_t argc = kArgCount;
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return false;
  if (argc != kArgCount) {
    throwError(env, false, "fused-bce: native: expected 8 arguments");
    return false;
  }
  *isa = static_cast<const IsaEntry*>(data);
  return true;
}

// The synchronous entry point: writes the loss sum into params[lossSum] and returns undefined, so that a call
// with caller-provided arrays allocates nothing on the JavaScript heap (a returned double would be boxed).
napi_value Run(napi_env env, napi_callback_info info) {
  napi_value argv[kArgCount];
  const IsaEntry* isa;
  Call call;
  if (!readArgv(env, info, argv, &isa) || !readCall(env, argv, &call)) return nullptr;
  const double sum = fused_bce::runBlocked(isa->run, call.args, call.threads);
  if (call.args.wantLossSum) call.params[kLossSum] = sum;
  return nullptr;
}

// An asynchronous call in flight: its arguments, references that keep its arrays alive, and its promise.
struct AsyncCall {
  Call call;
  const IsaEntry* isa = nullptr;
  napi_ref refs[8] = {};
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  double sum = 0;
};

void executeAsync(napi_env, void* data) {
  auto* a = static_cast<AsyncCall*>(data);
  a->sum = fused_bce::runBlocked(a->isa->run, a->call.args, a->call.threads);
}

void completeAsync(napi_env env, napi_status status, void* data) {
  auto* a = static_cast<AsyncCall*>(data);
  napi_value value;
  if (status == napi_ok) {
    if (a->call.args.wantLossSum) a->call.params[kLossSum] = a->sum;  // still referenced, so still there
    napi_create_double(env, a->sum, &value);
    napi_resolve_deferred(env, a->deferred, value);
  } else {
    napi_value message;
    napi_create_string_utf8(env, "fused-bce: native: the asynchronous call was cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, nullptr, message, &value);
    napi_reject_deferred(env, a->deferred, value);
  }
  for (size_t k = 0; k < a->call.arrayCount; ++k) napi_delete_reference(env, a->refs[k]);
  napi_delete_async_work(env, a->work);
  delete a;
}

// The asynchronous entry point: the same arguments; a promise of the loss sum (also written to
// params[lossSum]), computed on the libuv pool.
// The typed arrays stay referenced until the promise settles.
napi_value RunAsync(napi_env env, napi_callback_info info) {
  napi_value argv[kArgCount];
  const IsaEntry* isa;
  Call call;
  if (!readArgv(env, info, argv, &isa) || !readCall(env, argv, &call)) return nullptr;
  auto* a = new AsyncCall;
  a->call = call;
  a->isa = isa;
  napi_value promise, name;
  bool ok = napi_create_promise(env, &a->deferred, &promise) == napi_ok &&
            napi_create_string_utf8(env, "fused-bce", NAPI_AUTO_LENGTH, &name) == napi_ok &&
            napi_create_async_work(env, nullptr, name, executeAsync, completeAsync, a, &a->work) == napi_ok;
  size_t referenced = 0;
  for (; ok && referenced < call.arrayCount; ++referenced) {
    ok = napi_create_reference(env, call.arrays[referenced], 1, &a->refs[referenced]) == napi_ok;
  }
  if (ok) ok = napi_queue_async_work(env, a->work) == napi_ok;
  if (!ok) {
    for (size_t k = 0; k < referenced; ++k) napi_delete_reference(env, a->refs[k]);
    if (a->work != nullptr) napi_delete_async_work(env, a->work);
    delete a;  // the promise (if created) is dropped unsettled; the caller gets the exception instead
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) throwError(env, false, "fused-bce: native: could not start the asynchronous call");
    return nullptr;
  }
  return promise;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const IsaEntry* entries;
  const size_t count = fused_bce::compiledIsas(&entries);
  Napi::Array runnable = Napi::Array::New(env);
  Napi::Object kernels = Napi::Object::New(env);
  Napi::Object kernelsAsync = Napi::Object::New(env);
  uint32_t runnableCount = 0;
  for (size_t k = 0; k < count; ++k) {
    if (!fused_bce::cpuSupports(entries[k].isa)) continue;
    runnable.Set(runnableCount++, Napi::String::New(env, entries[k].name));
    napi_value fn;
    // The entry is static and immutable: safe to share between contexts and worker threads.
    napi_create_function(env, entries[k].name, NAPI_AUTO_LENGTH, Run, const_cast<IsaEntry*>(&entries[k]), &fn);
    kernels.Set(entries[k].name, Napi::Value(env, fn));
    napi_create_function(env, entries[k].name, NAPI_AUTO_LENGTH, RunAsync, const_cast<IsaEntry*>(&entries[k]), &fn);
    kernelsAsync.Set(entries[k].name, Napi::Value(env, fn));
  }
  // In the table's best-first order: isas[0] is the best this CPU runs.
  exports.Set("isas", runnable);
  exports.Set("kernels", kernels);
  exports.Set("kernelsAsync", kernelsAsync);
  // The parameter block's layout, so that a test holds src/types.ts Param against it.
  Napi::Object slots = Napi::Object::New(env);
  const struct {
    const char* name;
    Param slot;
  } kSlots[] = {{"classes", kClasses}, {"smoothScale", kSmoothScale}, {"smoothShift", kSmoothShift}, {"gradScale", kGradScale},
                {"threads", kThreads}, {"wantLossSum", kWantLossSum}, {"lossSum", kLossSum}, {"count", kParamCount}};
  for (const auto& s : kSlots) slots.Set(s.name, Napi::Number::New(env, s.slot));
  exports.Set("paramSlots", slots);
  return exports;
}

}  // namespace

NODE_API_MODULE(fused_bce, Init)
