// Lengths 0 .. 2 x the widest vector + 3 at offsets 0..3 (unaligned views), for every ISA: each element's
// loss and gradient are bit-identical to the same element computed inside full vectors, within the float64
// bound, nothing outside [offset, offset + n) is written, in-place gradients give the same bits, and the
// loss sum equals the sum of the written losses. Float32 and Uint8 targets, per-class and per-element weights.
#include <cmath>
#include <random>
#include <vector>

#include "harness.h"
#include "reference_f64.h"

namespace {
using namespace fused_bce_test;

constexpr size_t kMaxLength = 2 * 16 + 3;
constexpr size_t kBase = 96;  // a multiple of every vector width and of 3 classes
constexpr size_t kGuard = 8;
const float kCanary = -1234.5f;

struct Inputs {
  std::vector<float> logits, targets, weightPerElement, gradOutput;
  std::vector<uint8_t> labels;
  float posWeight[3] = {0.5f, 1.0f, 3.25f};
  float classWeight[3] = {1.0f, 0.0f, 2.0f};  // 0 masks a class
};

struct Variant {
  const char* name;
  bool u8, perClass, perElementWeight, upstream;
};
const Variant kVariants[] = {
    {"f32", false, false, false, false},
    {"u8", true, false, false, false},
    {"f32 per-class posWeight+weight", false, true, false, false},
    {"u8 per-element weight + gradOutput", true, false, true, true},
};

fused_bce::KernelArgs argsFor(const Inputs& in, const Variant& v, size_t first, size_t n, float* loss, float* grad,
                              const float* logits) {
  fused_bce::KernelArgs a;
  a.logits = logits;
  if (v.u8) a.targetsU8 = in.labels.data() + first;
  else a.targetsF32 = in.targets.data() + first;
  a.n = n;
  if (v.perClass) {
    a.classes = 3;
    a.posWeight = in.posWeight;
    a.weight = in.classWeight;
  }
  if (v.perElementWeight) {
    a.weight = in.weightPerElement.data() + first;
    a.weightPerElement = true;
  }
  a.smoothScale = 0.9;
  a.smoothShift = 0.05;
  a.lossOut = loss;
  a.gradOut = grad;
  a.gradScale = 1.0 / 3;
  a.gradOutput = v.upstream ? in.gradOutput.data() + first : nullptr;
  a.wantLossSum = true;
  return a;
}

}  // namespace

int main() {
  Failures failures;
  std::mt19937 gen(20261130);
  std::normal_distribution<float> normal(0.0f, 6.0f);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Inputs in;
  for (size_t i = 0; i < kBase; ++i) {
    in.logits.push_back(normal(gen));
    in.labels.push_back(unit(gen) < 0.3f ? 1 : 0);
    in.targets.push_back(i % 2 ? static_cast<float>(in.labels.back()) : unit(gen));
    in.weightPerElement.push_back(i % 7 == 0 ? 0.0f : 0.5f + unit(gen));
    in.gradOutput.push_back(normal(gen));
  }

  for (const fused_bce::IsaEntry& isa : isasToTest()) {
    for (const Variant& v : kVariants) {
      // Every element computed inside full vectors (kBase is a multiple of every width).
      std::vector<float> fullLoss(kBase), fullGrad(kBase);
      isa.run(argsFor(in, v, 0, kBase, fullLoss.data(), fullGrad.data(), in.logits.data()));
      for (size_t i = 0; i < kBase; ++i) {
        const size_t c = i % 3;
        const double y = v.u8 ? in.labels[i] : in.targets[i];
        const double p = v.perClass ? in.posWeight[c] : 1.0;
        const double w = v.perClass ? in.classWeight[c] : v.perElementWeight ? in.weightPerElement[i] : 1.0;
        const double scale = (1.0 / 3) * (v.upstream ? in.gradOutput[i] : 1.0);
        const RefElement r = refElement(LogitTerms(in.logits[i]), y, {0.9, 0.05}, p, w);
        const double le = lossError(fullLoss[i], r.loss, r.lossMagnitude, std::fabs(w) * r.expFactor);
        const double ge = gradError(fullGrad[i], r.grad * scale, r.gradMagnitude * std::fabs(scale),
                                    std::fabs(w * scale) * std::max(1.0, r.expFactor));
        FUSED_BCE_CHECK(failures, le <= 4 && ge <= 4, "%s %s [%zu]: loss %.2f ulp, grad %.2f units", isa.name, v.name, i, le, ge);
      }
      for (size_t n = 0; n <= kMaxLength; ++n) {
        if (v.perClass && n % 3 != 0) continue;
        for (size_t offset = 0; offset < 4; ++offset) {
          // The views start at `offset` floats into their buffers; the first element is element `first` of
          // the base data, so that per-class parameters line up (first is a multiple of 3).
          const size_t first = 3 * offset;
          std::vector<float> loss(n + offset + kGuard, kCanary), grad(n + offset + kGuard, kCanary);
          std::vector<float> logits(n + offset + kGuard, kCanary);
          std::copy(in.logits.begin() + first, in.logits.begin() + first + n, logits.begin() + offset);
          const double sum = isa.run(argsFor(in, v, first, n, loss.data() + offset, grad.data() + offset, logits.data() + offset));
          double written = 0;
          for (size_t i = 0; i < loss.size(); ++i) {
            const bool inside = i >= offset && i < offset + n;
            if (!inside) {
              FUSED_BCE_CHECK(failures, sameFloat(loss[i], kCanary) && sameFloat(grad[i], kCanary),
                              "%s %s n=%zu offset=%zu: wrote outside the view at %zu", isa.name, v.name, n, offset, i);
              continue;
            }
            const size_t k = first + i - offset;
            written += loss[i];
            FUSED_BCE_CHECK(failures, sameFloat(loss[i], fullLoss[k]) && sameFloat(grad[i], fullGrad[k]),
                            "%s %s n=%zu offset=%zu [%zu]: tail element %a/%a differs from vector lanes %a/%a", isa.name,
                            v.name, n, offset, i - offset, loss[i], grad[i], fullLoss[k], fullGrad[k]);
          }
          FUSED_BCE_CHECK(failures, std::fabs(sum - written) <= 64 * 0x1p-53 * (std::fabs(written) + 1),
                          "%s %s n=%zu offset=%zu: sum %a vs written %a", isa.name, v.name, n, offset, sum, written);
          // In place: the gradient overwrites the logits.
          std::vector<float> inPlace = logits;
          isa.run(argsFor(in, v, first, n, nullptr, inPlace.data() + offset, inPlace.data() + offset));
          for (size_t i = 0; i < inPlace.size(); ++i) {
            const bool inside = i >= offset && i < offset + n;
            FUSED_BCE_CHECK(failures, sameFloat(inPlace[i], inside ? grad[i] : logits[i]),
                            "%s %s n=%zu offset=%zu: in-place gradient differs at %zu", isa.name, v.name, n, offset, i);
          }
        }
      }
    }
  }
  return failures.exitCode("tails_test");
}
