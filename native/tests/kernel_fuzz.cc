// libFuzzer target over the kernel entry points (every ISA this CPU runs) and runBlocked: arbitrary lengths,
// class counts, float bit patterns for logits, targets, weights and upstream gradients, any combination of
// outputs. Built with clang -fsanitize=fuzzer,address,undefined (npm run fuzz:native). Beyond "no crash, no
// out-of-bounds access, no undefined behaviour" it checks what must hold for any input: masked elements are
// +0, a loss-only pass writes the same bits as the fused pass, blocked and threaded runs give the same bits,
// and the returned sum is the sum of the written losses (of the unrounded ones for the focal loss). The bytes
// left over drive a softmax cross-entropy call (fuzzCe): class indices of three types or probabilities, weights,
// upstream gradients, in-place gradients, with the same invariants (ignored rows are +0, a loss-only pass writes
// the fused losses, threads change nothing).
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

void fuzzCe(Reader& in) {
  const uint8_t flags = in.byte();
  const size_t classes = 1 + in.byte() % 40;  // both the row-per-lane (<= 32) and the streamed path
  const size_t rows = in.byte() % 13;
  const size_t n = rows * classes;
  const int kind = flags & 3;  // 0 Int32, 1 Uint16, 2 Uint8 indices, 3 probabilities
  const bool useWeight = flags & 4, useGradOutput = flags & 8, inPlace = flags & 16;
  std::vector<float> logits(n), probabilities(n), weight(classes), gradOutput(rows);
  std::vector<int32_t> i32(rows);
  std::vector<uint16_t> u16(rows);
  std::vector<uint8_t> u8(rows);
  for (float& x : logits) x = in.f32();
  for (float& t : probabilities) t = in.f32();
  for (float& w : weight) w = (in.byte() & 3) == 0 ? 0.0f : in.f32();
  for (float& g : gradOutput) g = in.f32();
  const int64_t ignoreIndex = (flags & 32) ? 255 : -100;
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t b = in.byte();
    const int64_t y = (b & 7) == 0 ? ignoreIndex : static_cast<int64_t>(b % classes);
    i32[r] = static_cast<int32_t>(y);
    u16[r] = static_cast<uint16_t>(y < 0 ? 0 : y);
    u8[r] = static_cast<uint8_t>(y < 0 ? 0 : y);
  }
  fused_bce::CeKernelArgs args;
  args.logits = logits.data();
  if (kind == 0) args.indicesI32 = i32.data();
  if (kind == 1) args.indicesU16 = u16.data();
  if (kind == 2) args.indicesU8 = u8.data();
  if (kind == 3) args.probabilities = probabilities.data();
  args.weight = useWeight ? weight.data() : nullptr;
  args.rows = rows;
  args.classes = classes;
  args.labelSmoothing = in.byte() / 255.0;
  args.ignoreIndex = ignoreIndex;
  double weightTotal = static_cast<double>(classes);
  if (useWeight) {
    weightTotal = 0;
    for (float w : weight) weightTotal += w;
  }
  args.weightTotal = weightTotal;
  args.gradScale = in.byte() == 0 ? 1.0 : 1.0 / (1 + in.byte());
  args.gradOutput = useGradOutput ? gradOutput.data() : nullptr;
  args.wantLossSum = true;
  const auto ignored = [&](size_t r) {
    if (kind == 3) return false;
    const int64_t y = kind == 0 ? i32[r] : kind == 1 ? u16[r] : u8[r];
    return y == ignoreIndex;
  };
  const fused_bce::IsaEntry* entries;
  const size_t count = fused_bce::compiledIsas(&entries);
  std::vector<float> loss(rows), grad(n), lossOnly(rows), lossThreads(rows), gradThreads(n), work(n);
  for (size_t k = 0; k < count; ++k) {
    if (!fused_bce::cpuSupports(entries[k].isa)) continue;
    // In place: the gradient over a copy of the logits, which must give what a separate output gets.
    fused_bce::CeKernelArgs fused = args;
    fused.lossOut = loss.data();
    fused.gradOut = grad.data();
    const double sum = entries[k].runCe(fused);
    for (size_t r = 0; r < rows; ++r) {
      if (!ignored(r)) continue;
      check(same(loss[r], 0.0f), "an ignored row's loss is +0");
      for (size_t c = 0; c < classes; ++c) check(same(grad[r * classes + c], 0.0f), "an ignored row's gradient is +0");
    }
    if (inPlace && n != 0) {
      work = logits;
      fused_bce::CeKernelArgs place = fused;
      place.logits = work.data();
      place.gradOut = work.data();
      place.lossOut = lossOnly.data();
      entries[k].runCe(place);
      for (size_t i = 0; i < n; ++i) check(same(work[i], grad[i]), "an in-place gradient equals a separate one");
    }
    fused_bce::CeKernelArgs lossArgs = args;
    lossArgs.lossOut = lossOnly.data();
    const double lossOnlySum = entries[k].runCe(lossArgs);
    check(same(static_cast<float>(lossOnlySum), static_cast<float>(sum)), "cross-entropy: loss-only sum equals the fused sum");
    for (size_t r = 0; r < rows; ++r) check(same(lossOnly[r], loss[r]), "cross-entropy: loss-only pass writes the fused losses");
    fused.lossOut = lossThreads.data();
    fused.gradOut = gradThreads.data();
    const double blocked = fused_bce::runCeBlocked(entries[k].runCe, fused, 1 + (flags >> 7) * 2);
    for (size_t i = 0; i < n; ++i) check(same(gradThreads[i], grad[i]), "cross-entropy: threads write the same gradient");
    for (size_t r = 0; r < rows; ++r) check(same(lossThreads[r], loss[r]), "cross-entropy: threads write the same losses");
    check(same(static_cast<float>(blocked), static_cast<float>(sum)) || (std::isnan(blocked) && std::isnan(sum)), "cross-entropy: blocked sum");
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
  // The focal term (gamma 0 to 8 in steps of 1/8, alpha or none) where the smoothed labels are in [0, 1], as the
  // binding requires.
  const uint8_t focalByte = in.byte(), alphaByte = in.byte();
  if ((focalByte & 1) && scale + shift >= 0 && scale + shift <= 1 && shift >= 0 && shift <= 1) {
    args.focalGamma = (focalByte >> 1) / 8.0;
    args.focalAlpha = alphaByte & 1 ? (alphaByte >> 1) / 127.0 : -1;
  }

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
    // the magnitudes (the losses may cancel: negative smoothing, negative weights). The focal kernel sums each loss
    // unrounded and writes it rounded to float: each term then differs from the written loss by up to half a
    // float ulp (2^-24 relative, 2^-150 below float's normal range).
    const double termRounding = fused_bce::isFocal(args) ? 0x1p-24 * writtenMagnitude + 0x1p-150 * static_cast<double>(n) : 0;
    if (std::isfinite(sum) && std::isfinite(written)) {
      check(std::fabs(sum - written) <= 4.0 * static_cast<double>(n + 1) * 0x1p-53 * writtenMagnitude + termRounding,
            "sum of the written losses");
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
  fuzzCe(in);
  return 0;
}
