// Reading a BCE pass's arguments (the contract's PassArg order) into kernel arguments.
#pragma once
#include "views.h"

namespace fused_bce {
namespace binding {

// One call's arguments, read and checked: the kernel arguments, the thread count, where the sum goes, and the
// typed arrays themselves (argument order), which an asynchronous call keeps referenced until it settles.
struct Call {
  KernelArgs args;
  double* params = nullptr;  // the parameter block (contract Param); its kLossSum slot receives the sum
  unsigned threads = 0;
  napi_value arrays[8] = {};
  size_t arrayCount = 0;
};

// (logits, targets, posWeight, weight, lossOut, gradOut, gradOutput, params). Returns false after throwing.
bool readCall(napi_env env, const napi_value* argv, Call* call);

// The same without the Uint8 label check (a pass over n bytes), which the caller makes: an asynchronous call makes
// it in turns of the main thread, before anything is written.
bool readCallLabelsUnchecked(napi_env env, const napi_value* argv, Call* call);

// The common shape, (logits, targets, gradOut, params): no posWeight, weight, lossOut or per-element gradOutput,
// so a call reads four arguments instead of eight. gradOut may be null (the loss alone).
bool readCommonCall(napi_env env, const napi_value* argv, Call* call);

}  // namespace binding
}  // namespace fused_bce
