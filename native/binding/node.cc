// The Node-API binding: per runnable ISA, the passes of each loss with the contract's argument order
// (native/contract): BCE's full pass (KernelPass), its unweighted pass (four arguments) and its asynchronous form;
// softmax cross-entropy's pass (CeKernelPass), its unweighted pass (four arguments) and its asynchronous form.
// Reading and checking the arguments is in bce_call.cc and ce_call.cc, the asynchronous calls in async_call.cc. No
// C++ exceptions (-fno-exceptions); no allocation per synchronous single-threaded call.
#include <napi.h>

#include "../dispatch/parallel.h"
#include "../generated/contract.h"
#include "../kernel/kernel_api.h"
#include "async_call.h"
#include "bce_call.h"
#include "ce_call.h"

namespace {

using fused_bce::IsaEntry;
using namespace fused_bce::binding;
using namespace fused_bce::contract;

// A synchronous BCE entry point reading kArgs arguments with kRead: writes the loss sum into params[lossSum] and
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

// A synchronous softmax cross-entropy entry point reading kArgs arguments with kRead (the CeParam block), as RunSync.
template <size_t kArgs, bool (*kRead)(napi_env, const napi_value*, CeCall*)>
napi_value RunCeSync(napi_env env, napi_callback_info info) {
  napi_value argv[kArgs];
  const IsaEntry* isa;
  CeCall call;
  if (!readArgv(env, info, kArgs, argv, &isa) || !kRead(env, argv, &call)) return nullptr;
  const double sum = fused_bce::runCeBlocked(isa->runCe, call.args, call.threads);
  if (call.args.wantLossSum) call.params[kCeLossSum] = sum;
  return nullptr;
}

// (logits, targets, weight, lossOut, gradOut, gradOutput, params)
napi_value CePassSync(napi_env env, napi_callback_info info) { return RunCeSync<kCePassArgCount, readCeCall>(env, info); }

// The common shape: (logits, targets, gradOut or null, params).
napi_value CePassUnweightedSync(napi_env env, napi_callback_info info) {
  return RunCeSync<kCePassUnweightedArgCount, readCeCommonCall>(env, info);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  prepareEnvironment(env);
  const IsaEntry* entries;
  const size_t count = fused_bce::compiledIsas(&entries);
  Napi::Array runnable = Napi::Array::New(env);
  Napi::Object passes = Napi::Object::New(env);
  Napi::Object passesAsync = Napi::Object::New(env);
  Napi::Object passesUnweighted = Napi::Object::New(env);
  Napi::Object cePasses = Napi::Object::New(env);
  Napi::Object cePassesAsync = Napi::Object::New(env);
  Napi::Object cePassesUnweighted = Napi::Object::New(env);
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
    add(cePassesUnweighted, entries[k], CePassUnweightedSync);
  }
  // In the table's best-first order: isas[0] is the best this CPU runs.
  exports.Set("isas", runnable);
  exports.Set("passes", passes);
  exports.Set("passesAsync", passesAsync);
  exports.Set("passesUnweighted", passesUnweighted);
  exports.Set("cePasses", cePasses);
  exports.Set("cePassesAsync", cePassesAsync);
  exports.Set("cePassesUnweighted", cePassesUnweighted);
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
