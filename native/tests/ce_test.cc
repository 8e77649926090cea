// Softmax cross-entropy on every ISA (the AVX-512 kernel over SIMDe in the emulated build, NEON under qemu in the
// arm64 build): random rows over class counts from 1 to 1000 (the row-per-lane and the streamed paths), logit
// scales, smoothing, class weights, index targets with ignored rows and probability targets, against a float64
// reference: each row's loss within 4 ulp, each gradient element within 4 units (2^-24 times the magnitudes of its
// terms K p_c and k_c); ignored rows +0; two threads give the bits of one.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "../dispatch/parallel.h"
#include "harness.h"

namespace {
using namespace fused_bce_test;

struct Reference {
  std::vector<double> loss, lossMagnitude, grad, gradMagnitude;
};

// PyTorch's formulas in float64; -log p = (m - x) + log1p(others), others over every class but one maximal one.
Reference reference(const fused_bce::CeKernelArgs& a) {
  Reference ref;
  const size_t C = a.classes;
  for (size_t r = 0; r < a.rows; ++r) {
    const float* x = a.logits + r * C;
    size_t top = 0;
    for (size_t c = 1; c < C; ++c) if (x[c] > x[top]) top = c;
    const double m = x[top];
    double others = 0;
    for (size_t c = 0; c < C; ++c) if (c != top) others += std::exp(static_cast<double>(x[c]) - m);
    const double logSum = std::log1p(others);
    const int64_t y = a.indicesI32 != nullptr ? a.indicesI32[r] : -1;
    const bool ignored = a.indicesI32 != nullptr && y == a.ignoreIndex;
    std::vector<double> k(C);
    double total = 0;
    for (size_t c = 0; c < C; ++c) {
      const double w = a.weight != nullptr ? a.weight[c] : 1.0;
      k[c] = a.probabilities != nullptr ? w * (a.probabilities[r * C + c] * (1 - a.labelSmoothing) + a.labelSmoothing / C)
                                        : w * ((static_cast<int64_t>(c) == y ? 1 - a.labelSmoothing : 0) + a.labelSmoothing / C);
      total += k[c];
    }
    double loss = 0, magnitude = 0;
    for (size_t c = 0; c < C; ++c) {
      const double negLogP = (m - x[c]) + logSum;
      loss += k[c] * negLogP;
      magnitude += std::fabs(k[c] * negLogP);
      const double p = std::exp(static_cast<double>(x[c]) - m) / (1 + others);
      ref.grad.push_back(ignored ? 0 : a.gradScale * (total * p - k[c]));
      ref.gradMagnitude.push_back(ignored ? 0 : std::fabs(a.gradScale) * (std::fabs(total * p) + std::fabs(k[c])));
    }
    ref.loss.push_back(ignored ? 0 : loss);
    ref.lossMagnitude.push_back(ignored ? 0 : magnitude);
  }
  return ref;
}

}  // namespace

int main() {
  Failures failures;
  std::mt19937 random(20261201);
  std::uniform_real_distribution<float> unit(0, 1);
  std::normal_distribution<float> normal(0, 1);
  const size_t classCounts[] = {1, 2, 3, 7, 10, 16, 31, 32, 33, 64, 100, 1000, 4096, 4097};
  for (const fused_bce::IsaEntry& isa : isasToTest()) {
    if (isa.runCe == nullptr) continue;
    double worstUlps = 0, worstUnits = 0;
    for (size_t C : classCounts) {
      for (float scale : {1.0f, 8.0f, 40.0f, 1e4f}) {
        for (int variant = 0; variant < 8; ++variant) {
          const bool probabilities = variant & 1, weighted = variant & 2;
          const double eps = (variant & 4) ? 0.1 : 0.0;
          const size_t rows = C >= 1000 ? 3 : 21;
          std::vector<float> logits(rows * C), targets(rows * C), weight(C), grad(rows * C), loss(rows), grad2(rows * C), loss2(rows);
          std::vector<int32_t> indices(rows);
          for (float& v : logits) v = scale * normal(random);
          for (size_t r = 0; r < rows; r += 3) logits[r * C + random() % C] = scale * 30;  // confident rows
          for (float& w : weight) w = 0.25f + 2 * unit(random);
          for (size_t r = 0; r < rows; ++r) {
            indices[r] = r % 5 == 4 ? -100 : static_cast<int32_t>(random() % C);
            double s = 0;
            for (size_t c = 0; c < C; ++c) s += targets[r * C + c] = unit(random);
            for (size_t c = 0; c < C; ++c) targets[r * C + c] = static_cast<float>(targets[r * C + c] / s);
          }
          fused_bce::CeKernelArgs a;
          a.logits = logits.data();
          if (probabilities) a.probabilities = targets.data();
          else a.indicesI32 = indices.data();
          a.weight = weighted ? weight.data() : nullptr;
          a.rows = rows;
          a.classes = C;
          a.labelSmoothing = eps;
          double weightTotal = static_cast<double>(C);
          if (weighted) {
            weightTotal = 0;
            for (float w : weight) weightTotal += w;
          }
          a.weightTotal = weightTotal;
          a.gradScale = 0.5;
          a.lossOut = loss.data();
          a.gradOut = grad.data();
          a.wantLossSum = true;
          const double sum = isa.runCe(a);
          const Reference ref = reference(a);
          for (size_t r = 0; r < rows; ++r) {
            const double truth = ref.loss[r];
            const double ulps = std::fabs(loss[r] - truth) / std::fmax(std::ldexp(1.0, std::ilogb(std::fmax(std::fabs(truth), 0x1p-126)) - 23), 0x1p-149);
            worstUlps = std::fmax(worstUlps, ulps);
            FUSED_BCE_CHECK(failures, ulps <= 4, "%s C=%zu scale=%g variant %d row %zu: loss %.9g vs %.17g (%.2f ulp)", isa.name, C, scale, variant, r, loss[r], truth, ulps);
            for (size_t c = 0; c < C; ++c) {
              const double unitSize = std::fmax(0x1p-24 * ref.gradMagnitude[r * C + c], 0x1p-149);
              const double units = std::fabs(grad[r * C + c] - ref.grad[r * C + c]) / unitSize;
              worstUnits = std::fmax(worstUnits, units);
              FUSED_BCE_CHECK(failures, units <= 4, "%s C=%zu scale=%g variant %d row %zu class %zu: grad %.9g vs %.17g (%.2f units)", isa.name, C, scale, variant, r, c, grad[r * C + c], ref.grad[r * C + c], units);
              if (!probabilities && indices[r] == -100) FUSED_BCE_CHECK(failures, grad[r * C + c] == 0 && !std::signbit(grad[r * C + c]), "ignored rows are +0");
            }
          }
          a.lossOut = loss2.data();
          a.gradOut = grad2.data();
          const double threaded = fused_bce::runCeBlocked(isa.runCe, a, 2);
          FUSED_BCE_CHECK(failures, threaded == sum && loss2 == loss && grad2 == grad, "%s C=%zu: two threads give the bits of one", isa.name, C);
          // In place (the gradient over the logits, where the kernel cannot keep e^(x - max) in the gradient's
          // place between its reads of a row): the same bits.
          std::vector<float> inPlace = logits;
          a.logits = inPlace.data();
          a.gradOut = inPlace.data();
          const double inPlaceSum = isa.runCe(a);
          FUSED_BCE_CHECK(failures, inPlaceSum == sum && loss2 == loss && inPlace == grad, "%s C=%zu variant %d: in place gives the same bits", isa.name, C, variant);
        }
      }
    }
    std::printf("ce_test: %s: worst loss %.2f ulp, gradient %.2f units\n", isa.name, worstUlps, worstUnits);
  }
  return failures.exitCode("ce_test");
}
