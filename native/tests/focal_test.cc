// The focal loss on every ISA (the AVX-512 kernel over SIMDe in the emulated build, NEON under qemu in the arm64
// build): gammas 0 (with alpha), 0.25, 0.5, 1, 1.5, 2, 2.7, 3, 4.5; alpha none and 0.25; smoothing 0 and 0.05; Uint8
// labels and soft float targets; posWeight (the precise path) and per-element weights; logits from small to
// saturated and infinite, against a long-double reference: each loss within 4 ulp, each gradient element within
// 4 units (2^-24 times the magnitudes of its terms alpha_t (|d(q^gamma)/dx| bce + q^gamma (p + t)) |w scale|, the
// issue's bound, p + t as p (1 - t + pw t) + pw t with posWeight);
// two threads give the bits of one; gamma 0 without alpha gives the BCE kernel's bits.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "../dispatch/parallel.h"
#include "harness.h"

namespace {
using namespace fused_bce_test;
using Wide = long double;

struct Reference {
  double loss, lossMagnitude, grad, gradMagnitude;
};

// torchvision's formula in long double, with q from both sigmoids (no cancellation) and in log space.
Reference reference(float xf, float yf, float pw, float w, const fused_bce::KernelArgs& a) {
  const Wide x = xf, y = yf;
  const Wide t = y * a.smoothScale + a.smoothShift, negT = (1 - y) * a.smoothScale + a.smoothShift;
  const Wide absX = std::fabs(x);
  const Wide e = std::exp(-absX);
  const bool nonNegative = x >= 0;
  const Wide lin = nonNegative ? negT : t, oth = nonNegative ? t : negT;
  const Wide log1pE = std::log1p(e);
  const Wide posT = pw * t;
  const Wide linearCoef = nonNegative ? negT : posT;
  const Wide bce = (negT + posT) * log1pE + (linearCoef == 0 ? 0 : linearCoef * absX);
  const Wide bceSlope = (nonNegative ? negT - posT * e : negT * e - posT) / (1 + e);
  const Wide sigmoid = nonNegative ? 1 / (1 + e) : e / (1 + e);
  const Wide bceSlopeMagnitude = sigmoid * (negT + posT) + posT;  // bce' = p (1 - t + pw t) - pw t: its terms
  const Wide num = lin + oth * e;
  const Wide logQ = (num > 0 ? std::log(num) : std::log(oth) - absX) - log1pE;
  const Wide gamma = a.focalGamma;
  const Wide focal = gamma == 0 ? 1 : std::exp(gamma * logQ);
  // d(q^gamma)/dx = gamma q^gamma p (1 - p) / q (1 - 2t), p (1 - p) / q = e / ((1 + e) num) (1 / ((1 + e) oth) at e = 0, lin = 0)
  const Wide r = num > 0 ? e / ((1 + e) * num) : 1 / ((1 + e) * oth);
  const Wide focalSlope = gamma == 0 ? 0 : gamma * focal * r * (negT - t);
  const Wide alphaT = a.focalAlpha >= 0 ? a.focalAlpha * t + (1 - a.focalAlpha) * negT : 1;
  const Wide weight = w * alphaT;
  Reference ref;
  ref.loss = static_cast<double>(weight * focal * bce);
  ref.lossMagnitude = std::fabs(ref.loss);
  const Wide slopeTerm = focalSlope == 0 ? 0 : focalSlope * bce;  // (0 at infinite logits, where bce is)
  ref.grad = static_cast<double>(weight * a.gradScale * (slopeTerm + focal * bceSlope));
  ref.gradMagnitude = static_cast<double>(std::fabs(weight * a.gradScale) * (std::fabs(slopeTerm) + focal * bceSlopeMagnitude));
  return ref;
}

double ulpsOf(double result, double truth) {
  if (result == truth) return 0;
  if (std::isinf(truth) || std::isnan(truth)) return INFINITY;
  const double ulp = std::fmax(std::ldexp(1.0, std::ilogb(std::fmax(std::fabs(truth), 0x1p-126)) - 23), 0x1p-149);
  return std::fabs(result - truth) / ulp;
}

}  // namespace

int main() {
  Failures failures;
  std::mt19937 random(20261201);
  std::uniform_real_distribution<float> unit(0, 1);
  std::normal_distribution<float> normal(0, 1);
  const double gammas[] = {0, 0.25, 0.5, 1, 1.5, 2, 2.7, 3, 4.5};  // (each kind: integer, k + 1/2, 1/2, other)
  const size_t n = 203;  // not a multiple of any width: the tail runs too
  for (const fused_bce::IsaEntry& isa : isasToTest()) {
    double worstLoss = 0, worstGrad = 0;
    for (double gamma : gammas) {
      for (int variant = 0; variant < 16; ++variant) {
        const bool u8 = variant & 1, hasAlpha = (variant & 2) || gamma == 0, smoothed = variant & 4, posWeighted = variant & 8;
        std::vector<float> logits(n), targets(n), weight(n), loss(n), grad(n), loss2(n), grad2(n);
        std::vector<uint8_t> labels(n);
        for (size_t i = 0; i < n; ++i) {
          const float scales[] = {1, 4, 12, 40, 95, 150, 1e4f};
          logits[i] = scales[i % 7] * normal(random);
          labels[i] = unit(random) < 0.3f ? 1 : 0;
          targets[i] = u8 ? labels[i] : unit(random);
          weight[i] = i % 17 == 0 ? 0.0f : 0.5f + unit(random);
        }
        logits[0] = INFINITY;
        logits[1] = -INFINITY;
        logits[2] = 0;
        const float posWeight = 2.5f;
        fused_bce::KernelArgs a;
        a.logits = logits.data();
        if (u8) a.targetsU8 = labels.data();
        else a.targetsF32 = targets.data();
        a.posWeight = posWeighted ? &posWeight : nullptr;
        a.weight = weight.data();
        a.weightPerElement = true;
        a.n = n;
        a.smoothScale = smoothed ? 0.9 : 1;
        a.smoothShift = smoothed ? 0.05 : 0;
        a.lossOut = loss.data();
        a.gradOut = grad.data();
        a.gradScale = 0.75;
        a.wantLossSum = true;
        a.focalGamma = gamma;
        a.focalAlpha = hasAlpha ? 0.25 : -1;
        const double sum = isa.run(a);
        double refSum = 0, refMagnitude = 0;  // the sum of the reference losses, and of their magnitudes
        for (size_t i = 0; i < n; ++i) {
          const Reference ref = reference(logits[i], u8 ? labels[i] : targets[i], posWeighted ? posWeight : 1, weight[i], a);
          if (weight[i] != 0) refSum += ref.loss, refMagnitude += std::fabs(ref.loss);
          const double lossUlps = weight[i] == 0 ? (loss[i] == 0 ? 0 : INFINITY) : ulpsOf(loss[i], ref.loss);
          FUSED_BCE_CHECK(failures, lossUlps <= 4 || (std::isinf(ref.loss) && loss[i] == ref.loss),
                          "%s gamma %g variant %d [%zu] x=%g: loss %.9g vs %.17g (%.2f ulp)", isa.name, gamma, variant, i,
                          logits[i], loss[i], ref.loss, lossUlps);
          const double unitSize = std::fmax(0x1p-24 * ref.gradMagnitude, 0x1p-149);
          const double units = weight[i] == 0 ? (grad[i] == 0 ? 0 : INFINITY) : std::fabs(grad[i] - ref.grad) / unitSize;
          if (std::isfinite(ref.loss)) worstLoss = std::fmax(worstLoss, lossUlps);
          worstGrad = std::fmax(worstGrad, units);
          FUSED_BCE_CHECK(failures, units <= 4, "%s gamma %g variant %d [%zu] x=%g: grad %.9g vs %.17g (%.2f units)",
                          isa.name, gamma, variant, i, logits[i], grad[i], ref.grad, units);
        }
        // The sum adds each element's loss within its 4 ulp (unrounded where the kernel sums it in double).
        FUSED_BCE_CHECK(failures,
                        std::isfinite(refSum) ? std::fabs(sum - refSum) <= 4 * 0x1p-24 * refMagnitude
                                              : sum == refSum || (std::isnan(sum) && std::isnan(refSum)),
                        "%s gamma %g variant %d: sum %.17g vs %.17g", isa.name, gamma, variant, sum, refSum);
        a.lossOut = loss2.data();
        a.gradOut = grad2.data();
        const double threaded = fused_bce::runBlocked(isa.run, a, 2);
        FUSED_BCE_CHECK(failures, (threaded == sum || (std::isnan(sum) && std::isnan(threaded))) && loss2 == loss,
                        "%s gamma %g variant %d: two threads give the bits of one", isa.name, gamma, variant);
        for (size_t i = 0; i < n; ++i) {
          FUSED_BCE_CHECK(failures, std::memcmp(&grad[i], &grad2[i], sizeof(float)) == 0, "%s: threaded gradient differs at %zu", isa.name, i);
        }
        if (gamma == 0) {  // without alpha: exactly BCE
          a.focalAlpha = -1;
          const double focalSum = isa.run(a);
          a.focalGamma = -1;
          a.lossOut = loss.data();
          a.gradOut = grad.data();
          const double bceSum = isa.run(a);
          FUSED_BCE_CHECK(failures, (focalSum == bceSum || (std::isnan(bceSum) && std::isnan(focalSum))) &&
                                        std::memcmp(loss.data(), loss2.data(), n * 4) == 0 && std::memcmp(grad.data(), grad2.data(), n * 4) == 0,
                          "%s variant %d: gamma 0 without alpha is not BCE's bits", isa.name, variant);
        }
      }
    }
    std::printf("focal_test: %s: worst loss %.2f ulp, gradient %.2f units\n", isa.name, worstLoss, worstGrad);
  }
  return failures.exitCode("focal_test");
}
