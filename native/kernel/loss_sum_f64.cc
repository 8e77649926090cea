// The float64 loss sum: the slow, exact reduction behind every ISA, used only when the float32 lanes give a
// sum that is not finite. It follows the same steps as the kernels (and src/backends/js/bce-kernel.ts) in double,
// the focal loss's factor included.
#include <cmath>

#include "kernel_api.h"

namespace fused_bce {

double lossSumFloat64(const KernelArgs& a) {
  double sum = 0;
  for (size_t i = 0; i < a.n; ++i) {
    const size_t c = i % a.classes;
    const double x = a.logits[i];
    const double y = a.targetsU8 != nullptr ? static_cast<double>(a.targetsU8[i]) : static_cast<double>(a.targetsF32[i]);
    const double p = a.posWeight != nullptr ? a.posWeight[c] : 1.0;
    const double w = a.weight != nullptr ? a.weight[a.weightPerElement ? i : c] : 1.0;
    if (w == 0) continue;  // masked, whatever the logit and target
    const double smoothedTarget = y * a.smoothScale + a.smoothShift;
    const double negTarget = (1 - y) * a.smoothScale + a.smoothShift;
    const double posTarget = p * smoothedTarget;
    const double softplusWeight = negTarget + posTarget;
    const double absLogit = std::fabs(x);
    const double log1pExp = std::log1p(std::exp(-absLogit));
    const bool nonNegative = x >= 0;
    const double linearTarget = nonNegative ? negTarget : smoothedTarget;
    const double linearScale = nonNegative ? 1.0 : p;
    const double linear = linearTarget == 0 || linearScale == 0 ? 0.0 : linearTarget * absLogit * linearScale;
    double focal = 1;  // the focal loss's alpha_t (1 - p_t)^gamma (focal_kernel.inl)
    if (isFocal(a)) {
      const double e = std::exp(-absLogit);
      const double q = (nonNegative ? negTarget + smoothedTarget * e : negTarget * e + smoothedTarget) / (1 + e);
      const double alphaT = a.focalAlpha >= 0 ? a.focalAlpha * smoothedTarget + (1 - a.focalAlpha) * negTarget : 1.0;
      const bool alphaMayMask = a.focalAlpha == 0 || a.focalAlpha == 1;  // alpha_t is 0 only then
      if (alphaMayMask && static_cast<float>(alphaT) == 0) continue;    // masked by alpha_t, as the kernels do
      focal = std::pow(q, a.focalGamma) * alphaT;
      if (!(y >= 0 && y <= 1)) focal = NAN;
    }
    sum += w * focal * (linear + softplusWeight * log1pExp);
  }
  return sum;
}

}  // namespace fused_bce
