// Test-only helper addon (never shipped; built by `npm run build:test-helpers`, which npm test runs when a
// compiler is there): sets and reads the floating-point control state of the calling thread, and of the libuv
// pool threads, so that the suite can check that a caller's FTZ/DAZ or rounding mode does not change the bits.
//   setState(hostile: boolean)          this thread: FTZ + DAZ + round toward zero (x86), FZ + RZ (AArch64), or default
//   state(): number                     this thread's control bits
//   setPoolState(hostile, ms): Promise  one work item that sets the state of the pool thread it runs on and then
//                                       holds that thread for ms, so that several at once reach distinct threads
#include <node_api.h>

#include <chrono>
#include <cstdint>
#include <thread>
#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace {

#if defined(__x86_64__) || defined(_M_X64)
double readState() { return static_cast<double>(_mm_getcsr() & 0xffc0u); }
void writeState(bool hostile) { _mm_setcsr(hostile ? (0x1f80u | 0x8000u | 0x0040u | 0x6000u) : 0x1f80u); }
#elif defined(__aarch64__)
double readState() {
  uint64_t v;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
  return static_cast<double>(v);
}
void writeState(bool hostile) {
  const uint64_t v = hostile ? ((1ull << 24) | (3ull << 22)) : 0;
  __asm__ __volatile__("msr fpcr, %0" : : "r"(v));
}
#else
double readState() { return 0; }
void writeState(bool) {}
#endif

napi_value SetState(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool hostile = false;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc == 1) napi_get_value_bool(env, argv[0], &hostile);
  writeState(hostile);
  return nullptr;
}

napi_value State(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_double(env, readState(), &out);
  return out;
}

struct PoolWork {
  bool hostile;
  uint32_t ms;
  napi_deferred deferred;
  napi_async_work work;
};

napi_value SetPoolState(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  auto* w = new PoolWork{false, 0, nullptr, nullptr};
  napi_get_value_bool(env, argv[0], &w->hostile);
  napi_get_value_uint32(env, argv[1], &w->ms);
  napi_value promise, name;
  napi_create_promise(env, &w->deferred, &promise);
  napi_create_string_utf8(env, "fp-state", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(
      env, nullptr, name,
      [](napi_env, void* data) {
        auto* w = static_cast<PoolWork*>(data);
        writeState(w->hostile);
        std::this_thread::sleep_for(std::chrono::milliseconds(w->ms));
      },
      [](napi_env env, napi_status, void* data) {
        auto* w = static_cast<PoolWork*>(data);
        napi_value undefined;
        napi_get_undefined(env, &undefined);
        napi_resolve_deferred(env, w->deferred, undefined);
        napi_delete_async_work(env, w->work);
        delete w;
      },
      w, &w->work);
  napi_queue_async_work(env, w->work);
  return promise;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"setState", nullptr, SetState, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"state", nullptr, State, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setPoolState", nullptr, SetPoolState, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
