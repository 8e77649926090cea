// Reading a softmax cross-entropy pass's arguments (the contract's CePassArg order) into kernel arguments.
#pragma once
#include "views.h"

namespace fused_bce {
namespace binding {

struct CeCall {
  CeKernelArgs args;
  double* params = nullptr;  // the parameter block (contract CeParam); its kCeLossSum slot receives the sum
  unsigned threads = 0;
  napi_value arrays[7] = {};  // the present arrays, in argument order
  size_t arrayCount = 0;
};

// (logits, targets, weight, lossOut, gradOut, gradOutput, params): reads and checks the call, runs the
// class-index pre-pass (a bad index is refused before anything is written: params[invalidTargetAt] names its
// row) and writes params[meanDivisor]. Returns false after throwing.
bool readCeCall(napi_env env, const napi_value* argv, CeCall* call);

// (logits, targets, gradOut or null, params): the same without weight, lossOut and gradOutput.
bool readCeCommonCall(napi_env env, const napi_value* argv, CeCall* call);

}  // namespace binding
}  // namespace fused_bce
