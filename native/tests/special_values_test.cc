// The special-value table of the README, for every ISA, with the special element at every lane position of a
// vector and in the tail: limits at infinite logits, NaN propagation (elements and the sum), exact masking
// by weight 0, saturated finite logits, overflow of the element loss (also with in-place gradients), and the
// empty input.
#include <cmath>
#include <limits>
#include <vector>

#include "harness.h"
#include "reference_f64.h"

namespace {
using namespace fused_bce_test;

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kMax = std::numeric_limits<float>::max();

struct Row {
  float x, y;
  double a;  // symmetric smoothing
  float loss, grad;
};
const Row kTable[] = {
    {kInf, 1, 0, 0, 0},           {kInf, 0, 0, kInf, 1},          {kInf, 1, 0.05, kInf, 0.05f},
    {kInf, 0, 0.05, kInf, 0.95f},   {-kInf, 0, 0, 0, 0},            {-kInf, 1, 0, kInf, -1},
    {-kInf, 1, 0.05, kInf, -0.95f}, {-kInf, 0, 0.05, kInf, -0.05f}, {kInf, 1, -0.05, -kInf, -0.05f},
    {-kInf, 0, -0.05, -kInf, 0.05f}, {kNaN, 1, 0, kNaN, kNaN},       {kNaN, 0, 0.05, kNaN, kNaN},
    {0, kNaN, 0, kNaN, kNaN},       {kInf, kNaN, 0, kNaN, kNaN},    {kMax, 1, 0, 0, 0},
    {-kMax, 0, 0, 0, 0},            {kMax, 0, 0, kMax, 1},          {0, 1, 0, 0.693147182f, -0.5f},
    {-0.0f, 0, 0, 0.693147182f, 0.5f}, {kMax, 0, 0.05, 0.95f * kMax, 0.95f}, {-kMax, 1, 0.5, 0.5f * kMax, -0.5f},
};

constexpr size_t kLength = 2 * 16 + 3;

bool close(float result, float expected) {
  if (std::isnan(expected)) return std::isnan(result);
  if (!std::isfinite(expected)) return result == expected;
  return std::fabs(static_cast<double>(result) - expected) <= 4 * 0x1p-24 * std::fabs(expected) + 0x1p-149;
}

}  // namespace

int main() {
  Failures failures;
  for (const fused_bce::IsaEntry& isa : isasToTest()) {
    for (const Row& row : kTable) {
      for (int u8 = 0; u8 < 2; ++u8) {
        if (u8 && std::isnan(row.y)) continue;
        for (size_t pos = 0; pos < kLength; ++pos) {
          std::vector<float> logits(kLength, 0.5f), targets(kLength, 1.0f), loss(kLength), grad(kLength);
          std::vector<uint8_t> labels(kLength, 1);
          logits[pos] = row.x;
          targets[pos] = row.y;
          labels[pos] = static_cast<uint8_t>(row.y == 1);
          fused_bce::KernelArgs a;
          a.logits = logits.data();
          if (u8) a.targetsU8 = labels.data();
          else a.targetsF32 = targets.data();
          a.n = kLength;
          a.smoothScale = 1 - 2 * row.a;
          a.smoothShift = row.a;
          a.lossOut = loss.data();
          a.gradOut = grad.data();
          a.wantLossSum = true;
          const double sum = isa.run(a);
          FUSED_BCE_CHECK(failures, close(loss[pos], row.loss) && close(grad[pos], row.grad),
                          "%s %s x=%g y=%g a=%g at %zu: loss %g grad %g, expected %g %g", isa.name, u8 ? "u8" : "f32",
                          row.x, row.y, row.a, pos, loss[pos], grad[pos], row.loss, row.grad);
          double expectedSum = 0;
          for (size_t i = 0; i < kLength; ++i) expectedSum += i == pos ? static_cast<double>(row.loss) : loss[i];
          const bool sumOk = std::isnan(expectedSum) ? std::isnan(sum)
                             : std::isinf(row.loss)  ? sum == expectedSum
                                                     : std::fabs(sum - expectedSum) <= 4 * 0x1p-24 * std::fabs(expectedSum) + 1e-30;
          FUSED_BCE_CHECK(failures, sumOk, "%s x=%g y=%g a=%g at %zu: sum %g, expected %g", isa.name, row.x, row.y, row.a, pos,
                          sum, expectedSum);
          // Weight 0 masks the element to +0 (loss and gradient), whatever its logit and target.
          const float zero = 0.0f, one = 1.0f;
          std::vector<float> weight(kLength, one);
          weight[pos] = zero;
          a.weight = weight.data();
          a.weightPerElement = true;
          const double maskedSum = isa.run(a);
          FUSED_BCE_CHECK(failures, sameFloat(loss[pos], 0.0f) && sameFloat(grad[pos], 0.0f),
                          "%s x=%g y=%g at %zu: weight 0 gives %g %g, not +0", isa.name, row.x, row.y, pos, loss[pos], grad[pos]);
          FUSED_BCE_CHECK(failures, std::isfinite(maskedSum), "%s x=%g y=%g at %zu: masked sum %g", isa.name, row.x, row.y, pos,
                          maskedSum);
        }
      }
    }
    // An element loss that overflows float32 (weight 3e38) makes the span's sum be recomputed in float64; with an
    // in-place gradient that must use the logits as they were, not the gradient written over them. Spans of
    // ~1024 elements (classes 1) and rows too long to save (1500 classes, loss then gradient).
    for (size_t classes : {size_t(1), size_t(1500)}) {
      const size_t n = 3000;  // 3000 rows of one class, or 2 rows of 1500
      std::vector<float> logits(n), labels(n), posWeight(classes, 1.5f), weight(n, 1.0f), grad(n);
      for (size_t i = 0; i < n; ++i) logits[i] = static_cast<float>(i % 17) - 8.0f, labels[i] = i % 3 == 0 ? 1.0f : 0.0f;
      weight[16] = 3e38f;  // x = 8, y = 0: loss about 7.6, times 3e38 overflows
      weight[2515] = -3e38f;
      fused_bce::KernelArgs b;
      b.logits = logits.data();
      b.targetsF32 = labels.data();
      b.posWeight = classes > 1 ? posWeight.data() : nullptr;
      b.classes = classes;
      b.weight = weight.data();
      b.weightPerElement = true;
      b.n = n;
      b.smoothScale = 0.9;
      b.smoothShift = 0.05;
      b.gradOut = grad.data();
      b.gradScale = 1.0 / n;
      b.wantLossSum = true;
      const double outOfPlace = isa.run(b);
      std::vector<float> inPlace = logits;
      b.logits = inPlace.data();
      b.gradOut = inPlace.data();
      const double inPlaceSum = isa.run(b);
      FUSED_BCE_CHECK(failures, std::isfinite(outOfPlace) && inPlaceSum == outOfPlace,
                      "%s classes=%zu: in-place sum %a vs out-of-place %a", isa.name, classes, inPlaceSum, outOfPlace);
      for (size_t i = 0; i < n; ++i) {
        FUSED_BCE_CHECK(failures, sameFloat(inPlace[i], grad[i]), "%s classes=%zu: in-place gradient differs at %zu", isa.name, classes, i);
      }
    }

    // The empty input writes nothing and sums to 0.
    float untouched = -77.0f;
    fused_bce::KernelArgs empty;
    empty.logits = &untouched;
    empty.targetsF32 = &untouched;
    empty.lossOut = &untouched;
    empty.gradOut = &untouched;
    empty.wantLossSum = true;
    const double emptySum = isa.run(empty);
    FUSED_BCE_CHECK(failures, emptySum == 0 && untouched == -77.0f, "%s: empty input", isa.name);
  }
  return failures.exitCode("special_values_test");
}
