// libFuzzer target over the kernel entry points (every ISA this CPU runs) and runBlocked: arbitrary lengths,
// class counts, float bit patterns for logits, targets, weights and upstream gradients, any combination of
// outputs. Built with clang -fsanitize=fuzzer,address,undefined (npm run fuzz:native). Beyond "no crash, no
// out-of-bounds access, no undefined behaviour" it checks what must hold for any input: masked elements are
// +0, a loss-only pass writes the same bits as the fused pass, blocked and threaded runs give the same bits,
// and the returned sum is the sum of the written losses.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../dispatch/parallel.h"
#include "../kernel/kernel_api.h"

namespace {

struct Reader {
  const uint8_t* data;
  size_t size;
  uint8_t byte() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v = (v << 8) | byte();
    return v;
  }
  float f32() {
    const uint32_t bits = u32();
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

bool same(float a, float b) { return std::memcmp(&a, &b, 4) == 0 || (std::isnan(a) && std::isnan(b)); }

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "kernel_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in{data, size};
  const uint8_t flags = in.byte();
  const size_t classes = 1 + in.byte() % 9;
  const size_t rows = in.byte() % 24;
  const size_t n = rows * classes;
  const bool u8 = flags & 1, usePosWeight = flags & 2, useWeight = flags & 4, weightPerElement = flags & 8;
  const bool useGradOutput = flags & 16, wantLossOut = flags & 32;
  // Smoothing coefficients as the TS layer derives them: a in [-8, 1] for either convention.
  const double a = -8.0 + 9.0 * (in.byte() / 255.0);
  const bool uniform = flags & 64;
  const double scale = uniform ? 1 - a : 1 - 2 * a, shift = uniform ? a / 2 : a;
  const double gradScale = in.byte() == 0 ? 1.0 : 1.0 / (1 + in.byte());

  std::vector<float> logits(n), targets(n), posWeight(classes), weight(weightPerElement ? n : classes), gradOutput(n);
  std::vector<uint8_t> labels(n);
  for (size_t i = 0; i < n; ++i) {
    logits[i] = in.f32();
    targets[i] = in.f32();
    labels[i] = in.byte() & 1;
    gradOutput[i] = in.f32();
  }
  for (float& p : posWeight) p = in.f32();
  for (float& w : weight) w = (in.byte() & 3) == 0 ? 0.0f : in.f32();

  fused_bce::KernelArgs args;
  args.logits = logits.data();
  if (u8) args.targetsU8 = labels.data();
  else args.targetsF32 = targets.data();
  args.posWeight = usePosWeight ? posWeight.data() : nullptr;
  args.weight = useWeight ? weight.data() : nullptr;
  args.weightPerElement = useWeight && weightPerElement;
  args.n = n;
  args.classes = classes;
  args.smoothScale = scale;
  args.smoothShift = shift;
  args.gradScale = gradScale;
  args.gradOutput = useGradOutput ? gradOutput.data() : nullptr;
  args.wantLossSum = true;

  const fused_bce::IsaEntry* entries;
  const size_t count = fused_bce::compiledIsas(&entries);
  std::vector<float> loss(n), grad(n), lossOnly(n), lossThreads(n), gradThreads(n);
  for (size_t k = 0; k < count; ++k) {
    if (!fused_bce::cpuSupports(entries[k].isa)) continue;
    args.lossOut = loss.data();
    args.gradOut = grad.data();
    const double sum = entries[k].run(args);
    double written = 0, writtenMagnitude = 0;
    for (size_t i = 0; i < n; ++i) {
      written += loss[i];
      writtenMagnitude += std::fabs(loss[i]);
      if (useWeight && weight[weightPerElement ? i : i % classes] == 0) {
        check(same(loss[i], 0.0f) && same(grad[i], 0.0f), "weight 0 masks loss and gradient to +0");
      }
    }
    // Summed in another order (vector lanes, spans): equal up to float64 rounding, which scales with the sum of
    // the magnitudes (the losses may cancel: negative smoothing, negative weights).
    if (std::isfinite(sum) && std::isfinite(written)) {
      check(std::fabs(sum - written) <= 4.0 * static_cast<double>(n + 1) * 0x1p-53 * writtenMagnitude, "sum of the written losses");
    }
    if (!wantLossOut) continue;
    fused_bce::KernelArgs lossArgs = args;
    lossArgs.lossOut = lossOnly.data();
    lossArgs.gradOut = nullptr;
    const double lossOnlySum = entries[k].run(lossArgs);
    check(same(static_cast<float>(lossOnlySum), static_cast<float>(sum)), "loss-only sum equals the fused sum");
    for (size_t i = 0; i < n; ++i) check(same(lossOnly[i], loss[i]), "loss-only pass writes the fused losses");
    args.lossOut = lossThreads.data();
    args.gradOut = gradThreads.data();
    const double blocked = fused_bce::runBlocked(entries[k].run, args, 1 + (flags >> 7) * 2);
    for (size_t i = 0; i < n; ++i) check(same(lossThreads[i], loss[i]) && same(gradThreads[i], grad[i]), "blocked run writes the same bits");
    check(same(static_cast<float>(blocked), static_cast<float>(sum)) || (std::isnan(blocked) && std::isnan(sum)), "blocked sum");
  }
  return 0;
}
