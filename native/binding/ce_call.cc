// Reading a softmax cross-entropy pass's arguments (ce_call.h).
#include "ce_call.h"

#include <cmath>
#include <cstdio>

#include "../generated/contract.h"
#include "labels.h"

namespace fused_bce {
namespace binding {

using namespace contract;

namespace {

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

// The arguments of a call in the order of the full pass (contract CePassArg; absent arrays not present).
struct CeCallViews {
  View views[kCePassParams];
  napi_value values[kCePassArgCount] = {};
};

// Checks the parameter block and every length the kernel relies on, runs the class-index pre-pass and fills the
// call. Returns false after throwing.
bool checkCeCall(napi_env env, const CeCallViews& in, CeCall* call) {
  const View& logits = in.views[kCePassLogits];
  const View& targets = in.views[kCePassTargets];
  const View& weight = in.views[kCePassWeight];
  const View& lossOut = in.views[kCePassLossOut];
  const View& gradOut = in.views[kCePassGradOut];
  const View& gradOutput = in.views[kCePassGradOutput];
  const napi_value* argv = in.values;
  const size_t n = logits.length;
  CommonParams common;
  if (!readCommonParams(env, argv[kCePassParams], kCeParamCount, kCeClasses, kCeThreads, kCeWantLossSum, n, &common)) return false;
  double* params = common.params;
  const size_t classes = common.classes;
  const double eps = params[kCeLabelSmoothing], ignore = params[kCeIgnoreIndex];
  if (!(params[kCeMean] == 0 || params[kCeMean] == 1)) return throwError(env, true, "fused-bce: native: params[mean] must be 0 or 1"), false;
  if (!(eps >= 0 && eps <= 1)) return throwError(env, true, "fused-bce: native: params[labelSmoothing] must be in [0, 1]"), false;
  if (!(std::fabs(ignore) <= 9007199254740991.0 && std::floor(ignore) == ignore)) {
    return throwError(env, true, "fused-bce: native: params[ignoreIndex] must be an integer"), false;
  }
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
  a.wantLossSum = common.wantLossSum;
  double weightTotal = static_cast<double>(classes);
  if (a.weight != nullptr) {
    weightTotal = 0;
    for (size_t c = 0; c < classes; ++c) weightTotal += static_cast<double>(a.weight[c]);
  }
  a.weightTotal = weightTotal;
  ClassIndexScan scan{rows, static_cast<double>(rows)};
  if (probabilities) {
    a.probabilities = static_cast<const float*>(targets.data);
  } else if (targets.type == napi_int32_array) {
    a.indicesI32 = static_cast<const int32_t*>(targets.data);
    scan = scanClassIndices(a.indicesI32, rows, classes, a.ignoreIndex, a.weight);
  } else if (targets.type == napi_uint16_array) {
    a.indicesU16 = static_cast<const uint16_t*>(targets.data);
    scan = scanClassIndices(a.indicesU16, rows, classes, a.ignoreIndex, a.weight);
  } else {
    a.indicesU8 = static_cast<const uint8_t*>(targets.data);
    scan = scanClassIndices(a.indicesU8, rows, classes, a.ignoreIndex, a.weight);
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
  call->threads = common.threads;
  for (int k = 0; k < kCePassParams; ++k) {
    if (in.views[k].present) call->arrays[call->arrayCount++] = argv[k];
  }
  call->arrays[call->arrayCount++] = argv[kCePassParams];
  return true;
}

}  // namespace

bool readCeCall(napi_env env, const napi_value* argv, CeCall* call) {
  CeCallViews in;
  View* v = in.views;
  for (int k = 0; k < kCePassArgCount; ++k) in.values[k] = argv[k];
  if (!readView(env, argv[kCePassLogits], "logits", false, false, &v[kCePassLogits]) ||
      !readClassTargets(env, argv[kCePassTargets], &v[kCePassTargets]) ||
      !readView(env, argv[kCePassWeight], "weight", true, false, &v[kCePassWeight]) ||
      !readView(env, argv[kCePassLossOut], "lossOut", true, false, &v[kCePassLossOut]) ||
      !readView(env, argv[kCePassGradOut], "gradOut", true, false, &v[kCePassGradOut]) ||
      !readView(env, argv[kCePassGradOutput], "gradOutput", true, false, &v[kCePassGradOutput])) {
    return false;
  }
  return checkCeCall(env, in, call);
}

bool readCeCommonCall(napi_env env, const napi_value* argv, CeCall* call) {
  CeCallViews in;
  View* v = in.views;
  in.values[kCePassLogits] = argv[kCePassUnweightedLogits];
  in.values[kCePassTargets] = argv[kCePassUnweightedTargets];
  in.values[kCePassGradOut] = argv[kCePassUnweightedGradOut];
  in.values[kCePassParams] = argv[kCePassUnweightedParams];
  if (!readView(env, argv[kCePassUnweightedLogits], "logits", false, false, &v[kCePassLogits]) ||
      !readClassTargets(env, argv[kCePassUnweightedTargets], &v[kCePassTargets]) ||
      !readView(env, argv[kCePassUnweightedGradOut], "gradOut", true, false, &v[kCePassGradOut])) {
    return false;
  }
  return checkCeCall(env, in, call);
}

}  // namespace binding
}  // namespace fused_bce
