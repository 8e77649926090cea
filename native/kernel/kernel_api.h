// The plain-C++ interface between the binding, the dispatcher and the per-ISA kernels. No SIMD types here.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fused_bce {

// One call of the fused pass. Lengths were checked by the caller (the binding re-checks them):
// logits, targets, lossOut, gradOut, gradOutput have n elements; posWeight has `classes`; weight has n
// (weightPerElement) or `classes`; n is a multiple of classes. gradOut may equal logits (in place).
struct KernelArgs {
  const float* logits = nullptr;
  const float* targetsF32 = nullptr;   // exactly one of targetsF32 / targetsU8 is set (when n > 0)
  const uint8_t* targetsU8 = nullptr;  // hard labels, each 0 or 1 (checked before the call)
  const float* posWeight = nullptr;    // null: 1
  const float* weight = nullptr;       // null: 1
  bool weightPerElement = false;
  size_t n = 0;
  size_t classes = 1;
  double smoothScale = 1;  // y' = y * smoothScale + smoothShift
  double smoothShift = 0;
  float* lossOut = nullptr;           // per-element losses, or null
  float* gradOut = nullptr;           // gradient, or null
  double gradScale = 1;               // upstream gradient (divided by n for 'mean')
  const float* gradOutput = nullptr;  // per-element upstream gradient, or null
  bool wantLossSum = false;           // return the float64 sum of the losses
  double focalGamma = -1;             // the focal loss's gamma (>= 0), or -1: plain BCE
  double focalAlpha = -1;             // the focal loss's alpha in [0, 1], or -1: no alpha weighting
};

// Whether a call computes the focal loss: gamma 0 without alpha is BCE itself, and runs as BCE (the same bits).
inline bool isFocal(const KernelArgs& a) { return a.focalGamma > 0 || (a.focalGamma == 0 && a.focalAlpha >= 0); }

// The arguments for elements [begin, end) of a call; begin must start a row (a multiple of classes), so that
// per-class posWeight/weight need no offset.
inline KernelArgs elementRange(const KernelArgs& a, size_t begin, size_t end) {
  KernelArgs r = a;
  r.n = end - begin;
  r.logits = a.logits + begin;
  if (a.targetsF32 != nullptr) r.targetsF32 = a.targetsF32 + begin;
  if (a.targetsU8 != nullptr) r.targetsU8 = a.targetsU8 + begin;
  if (a.weight != nullptr && a.weightPerElement) r.weight = a.weight + begin;
  if (a.lossOut != nullptr) r.lossOut = a.lossOut + begin;
  if (a.gradOut != nullptr) r.gradOut = a.gradOut + begin;
  if (a.gradOutput != nullptr) r.gradOutput = a.gradOutput + begin;
  return r;
}

// Returns the float64 sum of the per-element losses when args.wantLossSum, else 0.
using KernelFn = double (*)(const KernelArgs& args);

// One softmax cross-entropy call over `rows` rows of `classes` logits (row-major). The targets are class indices
// (exactly one of the three index pointers set; every index is in [0, classes) or ignoreIndex, checked by the
// caller) or class probabilities (`probabilities`, one per logit). Lengths were checked by the caller: logits,
// probabilities and gradOut have rows * classes elements; weight has `classes`; lossOut and gradOutput `rows`.
// gradOut may equal logits (in place: each row is read before its gradient is written).
struct CeKernelArgs {
  const float* logits = nullptr;
  const int32_t* indicesI32 = nullptr;
  const uint16_t* indicesU16 = nullptr;
  const uint8_t* indicesU8 = nullptr;
  const float* probabilities = nullptr;
  const float* weight = nullptr;   // per class, or null: 1
  size_t rows = 0;
  size_t classes = 1;
  double labelSmoothing = 0;       // eps: targets (1 - eps) onehot + eps / C
  int64_t ignoreIndex = -100;      // rows with this class index count for nothing
  double weightTotal = 1;          // the sum of weight (classes without one), for the smoothing term
  float* lossOut = nullptr;        // per-row losses, or null
  float* gradOut = nullptr;        // gradient, or null
  double gradScale = 1;            // upstream gradient, already divided by the mean's divisor
  const float* gradOutput = nullptr;  // per-row upstream gradient, or null
  bool wantLossSum = false;        // return the float64 sum of the per-row losses (in float64, before rounding)
};

// The arguments for rows [begin, end) of a call.
inline CeKernelArgs rowRange(const CeKernelArgs& a, size_t begin, size_t end) {
  CeKernelArgs r = a;
  const size_t offset = begin * a.classes;
  r.rows = end - begin;
  r.logits = a.logits + offset;
  if (a.indicesI32 != nullptr) r.indicesI32 = a.indicesI32 + begin;
  if (a.indicesU16 != nullptr) r.indicesU16 = a.indicesU16 + begin;
  if (a.indicesU8 != nullptr) r.indicesU8 = a.indicesU8 + begin;
  if (a.probabilities != nullptr) r.probabilities = a.probabilities + offset;
  if (a.lossOut != nullptr) r.lossOut = a.lossOut + begin;
  if (a.gradOut != nullptr) r.gradOut = a.gradOut + offset;
  if (a.gradOutput != nullptr) r.gradOutput = a.gradOutput + begin;
  return r;
}

// Returns the float64 sum of the per-row losses (row order) when args.wantLossSum, else 0.
using CeKernelFn = double (*)(const CeKernelArgs& args);

enum class Isa { Avx512, Avx2, Sse2, Neon, Scalar };

struct IsaEntry {
  Isa isa;
  const char* name;
  KernelFn run;
  CeKernelFn runCe;
};

// Per-ISA entry points (native/isa/*.cc); each exists only where its architecture is compiled.
double runScalar(const KernelArgs& args);
double runAvx2(const KernelArgs& args);
double runAvx512(const KernelArgs& args);
double runSse2(const KernelArgs& args);
double runNeon(const KernelArgs& args);
double runWasm(const KernelArgs& args);
double runCeScalar(const CeKernelArgs& args);
double runCeAvx2(const CeKernelArgs& args);
double runCeAvx512(const CeKernelArgs& args);
double runCeSse2(const CeKernelArgs& args);
double runCeNeon(const CeKernelArgs& args);
double runCeWasm(const CeKernelArgs& args);

// The ISAs compiled into this binary, best first (native/dispatch/dispatch.cc).
size_t compiledIsas(const IsaEntry** entries);
// Whether this CPU and OS can run an ISA (CPUID plus XGETBV on x86).
bool cpuSupports(Isa isa);

// The loss sum in float64 throughout (scalar, libm), used when the float32 lanes overflow or meet NaN
// (native/kernel/loss_sum_f64.cc).
double lossSumFloat64(const KernelArgs& args);

}  // namespace fused_bce
