// Reading a BCE pass's arguments (bce_call.h). Every type and length the kernel relies on is re-checked, so a
// direct call with wrong arguments throws instead of touching memory out of bounds.
#include "bce_call.h"

#include <cstdio>

#include "../generated/contract.h"
#include "labels.h"

namespace fused_bce {
namespace binding {

using namespace contract;

namespace {

// The arguments of a call in the order of the full pass (contract PassArg; absent arrays not present).
struct CallViews {
  View views[7];
  napi_value values[8] = {};
};

// Checks the parameter block and every length the kernel relies on, and fills the call. Returns false after
// throwing.
bool checkCall(napi_env env, const CallViews& in, Call* call, bool checkLabels) {
  const View& logits = in.views[kPassLogits];
  const View& targets = in.views[kPassTargets];
  const View& posWeight = in.views[kPassPosWeight];
  const View& weight = in.views[kPassWeight];
  const View& lossOut = in.views[kPassLossOut];
  const View& gradOut = in.views[kPassGradOut];
  const View& gradOutput = in.views[kPassGradOutput];
  const napi_value* argv = in.values;
  const size_t n = logits.length;
  CommonParams common;
  if (!readCommonParams(env, argv[kPassParams], kParamCount, kClasses, kThreads, kWantLossSum, n, &common)) return false;
  double* params = common.params;
  const size_t classes = common.classes;
  if (!checkLength(env, targets, n, "targets") || !checkLength(env, posWeight, classes, "posWeight") ||
      !checkLength(env, lossOut, n, "lossOut") || !checkLength(env, gradOut, n, "gradOut") ||
      !checkLength(env, gradOutput, n, "gradOutput")) {
    return false;
  }
  if (weight.present && weight.length != n && weight.length != classes) {
    throwError(env, true, "fused-bce: native: weight must have the length of logits or classes");
    return false;
  }

  const double focalGamma = params[kFocalGamma], focalAlpha = params[kFocalAlpha];
  if (!(focalGamma == -1 || (focalGamma >= 0 && focalGamma <= 1e300))) {
    throwError(env, true, "fused-bce: native: params[focalGamma] must be -1 (no focal term) or a finite number >= 0");
    return false;
  }
  if (!(focalAlpha == -1 || (focalAlpha >= 0 && focalAlpha <= 1))) {
    throwError(env, true, "fused-bce: native: params[focalAlpha] must be -1 (no alpha) or in [0, 1]");
    return false;
  }
  // The focal loss is defined for targets in [0, 1]: both smoothed hard labels must be (float targets outside
  // give NaN for their element).
  const double smoothedOne = params[kSmoothScale] + params[kSmoothShift], smoothedZero = params[kSmoothShift];
  if (focalGamma != -1 && !(smoothedOne >= 0 && smoothedOne <= 1 && smoothedZero >= 0 && smoothedZero <= 1)) {
    throwError(env, true, "fused-bce: native: with the focal term, the smoothed labels must be in [0, 1]");
    return false;
  }

  KernelArgs& args = call->args;
  args.logits = static_cast<const float*>(logits.data);
  if (targets.type == napi_uint8_array) {
    args.targetsU8 = static_cast<const uint8_t*>(targets.data);
    const size_t bad = checkLabels ? firstInvalidLabel(args.targetsU8, n) : n;
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
  args.wantLossSum = common.wantLossSum;
  args.focalGamma = focalGamma;
  args.focalAlpha = focalGamma == -1 ? -1 : focalAlpha;
  // An empty posWeight/weight (n = 0) has no data pointer; the kernel returns before reading it.
  call->params = params;
  call->threads = common.threads;
  for (int k = 0; k < 7; ++k) {
    if (in.views[k].present) call->arrays[call->arrayCount++] = argv[k];
  }
  call->arrays[call->arrayCount++] = argv[kPassParams];
  return true;
}

}  // namespace

namespace {

bool readFullCall(napi_env env, const napi_value* argv, Call* call, bool checkLabels) {
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
  return checkCall(env, in, call, checkLabels);
}

}  // namespace

bool readCall(napi_env env, const napi_value* argv, Call* call) { return readFullCall(env, argv, call, true); }

bool readCallLabelsUnchecked(napi_env env, const napi_value* argv, Call* call) { return readFullCall(env, argv, call, false); }

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
  return checkCall(env, in, call, true);
}

}  // namespace binding
}  // namespace fused_bce
