// The benchmark's own addon (bench-only, never shipped): rows that need native code beside the package's.
//   bandwidthBaseline(a, b, out)          out[i] = a[i] + b[i]: the fused kernel's byte volume, no arithmetic
//   kernels[<kernel>][<isa>](logits, labels, gradOut, labelSmoothing) -> mean loss
//        <kernel>: current (this package's kernel), v010 (the 0.1.0 kernel), sketch (a careless float sketch)
//   noopRead8(...8 arguments)              reads what a fused call's 8 arguments need (typeof, typed array info)
//   variants.{current,v010}.<isa>(logits, targets, gradOut, a, posWeight | null, weight | null)   the kernels on float32 targets, posWeight, weight
//   noopRead4(a, b, c, d)                  reads four typed arrays (the common entry point's arguments)
//   noopAsync(): Promise                   a no-op trip through the libuv pool
//   ceSketch.<isa>(logits, targets: Int32Array, gradOut, classes, labelSmoothing) -> mean loss: the careless
//                                          softmax cross-entropy (ce_sketch.inl)
// Each call reads its typed arrays once and returns a double: the same thin layer for every kernel row.
#include <node_api.h>

#include <cstdint>
#include <cstring>

#include "../../native/kernel/kernel_api.h"

namespace fused_bce {
double sketchAvx2(const float* x, const uint8_t* y, float* g, size_t n, float a, double s);
double sketchAvx512(const float* x, const uint8_t* y, float* g, size_t n, float a, double s);
double ceSketchAvx2(const float* x, const int32_t* y, float* g, size_t rows, size_t classes, float eps);
double ceSketchAvx512(const float* x, const int32_t* y, float* g, size_t rows, size_t classes, float eps);
}  // namespace fused_bce
// The 0.1.0 kernel (kernel_010.cc); its KernelArgs has the same layout as today's.
extern "C" double fusedBceV010Avx512(const void* args);
extern "C" double fusedBceV010Avx2(const void* args);
extern "C" double fusedBceV010Scalar(const void* args);
double runV010Avx512(const fused_bce::KernelArgs& a) { return fusedBceV010Avx512(&a); }
double runV010Avx2(const fused_bce::KernelArgs& a) { return fusedBceV010Avx2(&a); }
double runV010Scalar(const fused_bce::KernelArgs& a) { return fusedBceV010Scalar(&a); }

namespace {

bool isaRuns(const char* name) {
  const fused_bce::IsaEntry* entries;
  const size_t count = fused_bce::compiledIsas(&entries);
  for (size_t k = 0; k < count; ++k) {
    if (std::strcmp(entries[k].name, name) == 0) return fused_bce::cpuSupports(entries[k].isa);
  }
  return false;
}

template <class T>
bool typed(napi_env env, napi_value v, T** data, size_t* length) {
  napi_typedarray_type type;
  void* p = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &p, nullptr, nullptr) != napi_ok) return false;
  *data = static_cast<T*>(p);
  return true;
}

napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

using KernelRun = double (*)(const fused_bce::KernelArgs&);
using SketchRun = double (*)(const float*, const uint8_t*, float*, size_t, float, double);

struct Row {
  KernelRun kernel = nullptr;
  SketchRun sketch = nullptr;
};

// (logits, labels, gradOut, labelSmoothing) -> mean loss; fused, symmetric smoothing, reduction mean.
napi_value RunRow(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  const Row* row = static_cast<const Row*>(data);
  float* logits;
  uint8_t* labels;
  float* grad;
  size_t n, nLabels, nGrad;
  double a = 0;
  if (argc != 4 || !typed(env, argv[0], &logits, &n) || !typed(env, argv[1], &labels, &nLabels) ||
      !typed(env, argv[2], &grad, &nGrad) || nLabels != n || nGrad != n || napi_get_value_double(env, argv[3], &a) != napi_ok) {
    napi_throw_type_error(env, nullptr, "bench: (logits: Float32Array, labels: Uint8Array, gradOut: Float32Array, a: number)");
    return nullptr;
  }
  if (n == 0) return number(env, 0);
  if (row->sketch) return number(env, row->sketch(logits, labels, grad, n, static_cast<float>(a), 1.0 / n) / n);
  fused_bce::KernelArgs args;
  args.logits = logits;
  args.targetsU8 = labels;
  args.n = n;
  args.smoothScale = 1 - 2 * a;
  args.smoothShift = a;
  args.gradOut = grad;
  args.gradScale = 1.0 / n;
  args.wantLossSum = true;
  return number(env, row->kernel(args) / n);
}

// The variants, kernel only: (logits, targets: Float32Array | Uint8Array, gradOut, labelSmoothing, posWeight | null,
// weight | null) -> mean loss; fused, symmetric smoothing, reduction mean; classes = posWeight's length (else 1),
// weight per element (length n) or per class.
napi_value RunVariant(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  const Row* row = static_cast<const Row*>(data);
  float *logits = nullptr, *grad = nullptr, *posWeight = nullptr, *weight = nullptr;
  void* targets = nullptr;
  size_t n = 0, nTargets = 0, nGrad = 0, classes = 1, nWeight = 0;
  napi_typedarray_type targetType;
  double a = 0;
  napi_valuetype kind;
  bool ok = argc == 6 && typed(env, argv[0], &logits, &n) &&
            napi_get_typedarray_info(env, argv[1], &targetType, &nTargets, &targets, nullptr, nullptr) == napi_ok &&
            typed(env, argv[2], &grad, &nGrad) && nTargets == n && nGrad == n && napi_get_value_double(env, argv[3], &a) == napi_ok;
  if (ok && napi_typeof(env, argv[4], &kind) == napi_ok && kind != napi_null) ok = typed(env, argv[4], &posWeight, &classes) && classes >= 1;
  if (ok && napi_typeof(env, argv[5], &kind) == napi_ok && kind != napi_null) ok = typed(env, argv[5], &weight, &nWeight) && (nWeight == n || nWeight == classes);
  if (!ok || n % classes != 0 || row->kernel == nullptr) {
    napi_throw_type_error(env, nullptr, "bench: (logits, targets, gradOut, a, posWeight | null, weight | null) of matching lengths");
    return nullptr;
  }
  if (n == 0) return number(env, 0);
  fused_bce::KernelArgs args;
  args.logits = logits;
  if (targetType == napi_uint8_array) args.targetsU8 = static_cast<const uint8_t*>(targets);
  else args.targetsF32 = static_cast<const float*>(targets);
  args.posWeight = posWeight;
  args.weight = weight;
  args.weightPerElement = weight != nullptr && nWeight == n;
  args.n = n;
  args.classes = classes;
  args.smoothScale = 1 - 2 * a;
  args.smoothShift = a;
  args.gradOut = grad;
  args.gradScale = 1.0 / n;
  args.wantLossSum = true;
  return number(env, row->kernel(args) / n);
}

napi_value BandwidthBaseline(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float *a, *out;
  void* b;
  size_t n, nb, no;
  napi_typedarray_type bType;
  if (argc != 3 || !typed(env, argv[0], &a, &n) ||
      napi_get_typedarray_info(env, argv[1], &bType, &nb, &b, nullptr, nullptr) != napi_ok || !typed(env, argv[2], &out, &no) ||
      nb != n || no != n) {
    napi_throw_type_error(env, nullptr, "bench: bandwidthBaseline(a, b, out) of one length");
    return nullptr;
  }
  if (bType == napi_uint8_array) {
    const uint8_t* bu = static_cast<const uint8_t*>(b);
    for (size_t i = 0; i < n; ++i) out[i] = a[i] + static_cast<float>(bu[i]);
  } else {
    const float* bf = static_cast<const float*>(b);
    for (size_t i = 0; i < n; ++i) out[i] = a[i] + bf[i];
  }
  return nullptr;
}

// What a fused call's arguments cost to read: 7 typed-array-or-null arguments and a Float64Array.
napi_value NoopRead8(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  for (size_t k = 0; k < argc; ++k) {
    napi_valuetype kind;
    napi_typeof(env, argv[k], &kind);
    bool isTyped = false;
    napi_is_typedarray(env, argv[k], &isTyped);
    if (isTyped) {
      napi_typedarray_type type;
      size_t length;
      void* p;
      napi_get_typedarray_info(env, argv[k], &type, &length, &p, nullptr, nullptr);
    }
  }
  return nullptr;
}

// What the common entry point's 4 arguments (logits, targets, gradOut, params) cost to read.
napi_value NoopRead4(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  for (size_t k = 0; k < argc; ++k) {
    napi_typedarray_type type;
    size_t length;
    void* p;
    napi_get_typedarray_info(env, argv[k], &type, &length, &p, nullptr, nullptr);
  }
  return nullptr;
}

// A no-op asynchronous call: one trip through the libuv pool and back, resolving with undefined.
struct NoopWork {
  napi_deferred deferred;
  napi_async_work work;
};
napi_value NoopAsync(napi_env env, napi_callback_info) {
  auto* w = new NoopWork{};
  napi_value promise, name;
  napi_create_promise(env, &w->deferred, &promise);
  napi_create_string_utf8(env, "noop", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(
      env, nullptr, name, [](napi_env, void*) {},
      [](napi_env env, napi_status, void* data) {
        auto* w = static_cast<NoopWork*>(data);
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

void setFunction(napi_env env, napi_value target, const char* name, napi_callback cb, void* data) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, data, &fn);
  napi_set_named_property(env, target, name, fn);
}

using CeSketchRun = double (*)(const float*, const int32_t*, float*, size_t, size_t, float);

// (logits, targets: Int32Array, gradOut, classes, labelSmoothing) -> mean loss: the careless cross-entropy.
napi_value RunCeSketch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  const auto run = reinterpret_cast<CeSketchRun>(data);
  float* logits;
  int32_t* targets;
  float* grad;
  size_t n, rows, nGrad;
  double classes = 0, eps = 0;
  if (argc != 5 || !typed(env, argv[0], &logits, &n) || !typed(env, argv[1], &targets, &rows) || !typed(env, argv[2], &grad, &nGrad) ||
      napi_get_value_double(env, argv[3], &classes) != napi_ok || napi_get_value_double(env, argv[4], &eps) != napi_ok ||
      classes < 1 || nGrad != n || rows * static_cast<size_t>(classes) != n || rows == 0) {
    napi_throw_type_error(env, nullptr, "bench: (logits: Float32Array, targets: Int32Array, gradOut: Float32Array, classes: number, eps: number)");
    return nullptr;
  }
  for (size_t r = 0; r < rows; ++r) {
    if (targets[r] < 0 || static_cast<size_t>(targets[r]) >= static_cast<size_t>(classes)) {
      napi_throw_range_error(env, nullptr, "bench: a class index out of range");
      return nullptr;
    }
  }
  return number(env, run(logits, targets, grad, rows, static_cast<size_t>(classes), static_cast<float>(eps)));
}

const Row kCurrentAvx512{fused_bce::runAvx512, nullptr}, kCurrentAvx2{fused_bce::runAvx2, nullptr},
    kCurrentSse2{fused_bce::runSse2, nullptr}, kCurrentScalar{fused_bce::runScalar, nullptr};
const Row kV010Avx512{runV010Avx512, nullptr}, kV010Avx2{runV010Avx2, nullptr},
    kV010Scalar{runV010Scalar, nullptr};
const Row kSketchAvx512{nullptr, fused_bce::sketchAvx512}, kSketchAvx2{nullptr, fused_bce::sketchAvx2};

napi_value Init(napi_env env, napi_value exports) {
  setFunction(env, exports, "bandwidthBaseline", BandwidthBaseline, nullptr);
  setFunction(env, exports, "noopRead8", NoopRead8, nullptr);
  setFunction(env, exports, "noopRead4", NoopRead4, nullptr);
  setFunction(env, exports, "noopAsync", NoopAsync, nullptr);
  napi_value kernels, current, v010, sketch, variants, currentVariants, v010Variants;
  napi_create_object(env, &variants);
  napi_create_object(env, &currentVariants);
  napi_create_object(env, &v010Variants);
  const struct {
    const char* isa;
    const Row* current;
    const Row* v010;
  } kVariantRows[] = {{"avx512", &kCurrentAvx512, &kV010Avx512}, {"avx2", &kCurrentAvx2, &kV010Avx2}, {"scalar", &kCurrentScalar, &kV010Scalar}};
  for (const auto& r : kVariantRows) {
    if (!isaRuns(r.isa)) continue;
    setFunction(env, currentVariants, r.isa, RunVariant, const_cast<Row*>(r.current));
    setFunction(env, v010Variants, r.isa, RunVariant, const_cast<Row*>(r.v010));
  }
  setFunction(env, currentVariants, "sse2", RunVariant, const_cast<Row*>(&kCurrentSse2));
  napi_set_named_property(env, variants, "current", currentVariants);
  napi_set_named_property(env, variants, "v010", v010Variants);
  napi_set_named_property(env, exports, "variants", variants);
  napi_create_object(env, &kernels);
  napi_create_object(env, &current);
  napi_create_object(env, &v010);
  napi_create_object(env, &sketch);
  const bool avx512 = isaRuns("avx512"), avx2 = isaRuns("avx2");
  if (avx512) {
    setFunction(env, current, "avx512", RunRow, const_cast<Row*>(&kCurrentAvx512));
    setFunction(env, v010, "avx512", RunRow, const_cast<Row*>(&kV010Avx512));
    setFunction(env, sketch, "avx512", RunRow, const_cast<Row*>(&kSketchAvx512));
  }
  if (avx2) {
    setFunction(env, current, "avx2", RunRow, const_cast<Row*>(&kCurrentAvx2));
    setFunction(env, v010, "avx2", RunRow, const_cast<Row*>(&kV010Avx2));
    setFunction(env, sketch, "avx2", RunRow, const_cast<Row*>(&kSketchAvx2));
  }
  setFunction(env, current, "sse2", RunRow, const_cast<Row*>(&kCurrentSse2));
  setFunction(env, current, "scalar", RunRow, const_cast<Row*>(&kCurrentScalar));
  setFunction(env, v010, "scalar", RunRow, const_cast<Row*>(&kV010Scalar));
  napi_set_named_property(env, kernels, "current", current);
  napi_set_named_property(env, kernels, "v010", v010);
  napi_set_named_property(env, kernels, "sketch", sketch);
  napi_set_named_property(env, exports, "kernels", kernels);
  napi_value ceSketch;
  napi_create_object(env, &ceSketch);
  if (avx512) setFunction(env, ceSketch, "avx512", RunCeSketch, reinterpret_cast<void*>(fused_bce::ceSketchAvx512));
  if (avx2) setFunction(env, ceSketch, "avx2", RunCeSketch, reinterpret_cast<void*>(fused_bce::ceSketchAvx2));
  napi_set_named_property(env, exports, "ceSketch", ceSketch);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
