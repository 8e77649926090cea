// The asynchronous entry points (Node-API async work on the libuv pool), for BCE and softmax cross-entropy: the
// same arguments as the synchronous passes; a promise of the loss sum (also written to the parameter block).
#pragma once
#include <node_api.h>

namespace fused_bce {
namespace binding {

// (logits, targets, posWeight, weight, lossOut, gradOut, gradOutput, params), as the BCE pass.
napi_value PassAsync(napi_env env, napi_callback_info info);
// (logits, targets, weight, lossOut, gradOut, gradOutput, params), as the cross-entropy pass.
napi_value CePassAsync(napi_env env, napi_callback_info info);
// The per-environment state asynchronous calls keep (a resource name, spare call records); once per environment.
void prepareEnvironment(napi_env env);

}  // namespace binding
}  // namespace fused_bce
