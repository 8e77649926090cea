// Reading the typed arrays and numbers of a binding call (views.h).
#include "views.h"

#include <cmath>
#include <cstdio>

#include "../generated/contract.h"

namespace fused_bce {
namespace binding {

using namespace contract;

napi_value throwError(napi_env env, bool range, const char* message) {
  if (range) napi_throw_range_error(env, nullptr, message);
  else napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

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

bool readCommonParams(napi_env env, napi_value value, int slotCount, int classesSlot, int threadsSlot, int wantSlot,
                      size_t n, CommonParams* out) {
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array || length < static_cast<size_t>(slotCount) || data == nullptr) {
    char message[120];
    std::snprintf(message, sizeof message, "fused-bce: native: params must be a Float64Array of length %d", slotCount);
    throwError(env, false, message);
    return false;
  }
  double* params = static_cast<double*>(data);
  const double classes = params[classesSlot], threads = params[threadsSlot], want = params[wantSlot];
  if (!(threads >= 0 && threads <= kMaxThreads && std::floor(threads) == threads)) {
    char message[120];
    std::snprintf(message, sizeof message, "fused-bce: native: params[threads] must be an integer from 0 (auto) to %u", kMaxThreads);
    throwError(env, true, message);
    return false;
  }
  if (!(want == 0 || want == 1)) {
    throwError(env, true, "fused-bce: native: params[wantLossSum] must be 0 or 1");
    return false;
  }
  if (!(classes >= 1 && classes <= 9007199254740991.0 && std::floor(classes) == classes)) {
    throwError(env, true, "fused-bce: native: classes must be an integer >= 1");
    return false;
  }
  if (n % static_cast<size_t>(classes) != 0) {
    throwError(env, true, "fused-bce: native: the length of logits must be a multiple of classes");
    return false;
  }
  out->params = params;
  out->classes = static_cast<size_t>(classes);
  out->threads = static_cast<unsigned>(threads);
  out->wantLossSum = want == 1;
  return true;
}

}  // namespace binding
}  // namespace fused_bce
