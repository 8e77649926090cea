// The float64 reference and the accuracy bounds of the README, for the C++ kernel tests. It mirrors
// test/helpers/reference.ts and test/helpers/bounds.ts (an independent form of the loss, not the kernel's):
//   loss = w * ((1 - y') softplus(x) + p y' softplus(-x)),  grad = w * ((1 - y') sigmoid(x) - p y' sigmoid(-x)).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace fused_bce_test {

constexpr double kSubnormalSpacing = 0x1p-149;

// The smoothing conventions as y' = y * scale + shift (the TS plan passes the same doubles to the kernel).
struct Smoothing {
  double scale;
  double shift;
  static Smoothing symmetric(double a) { return {1 - 2 * a, a}; }
  static Smoothing uniform(double a) { return {1 - a, a / 2}; }
};

inline double softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }
inline double sigmoid(double x) {
  if (x >= 0) return 1 / (1 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1 + e);
}

// softplus(x), softplus(-x) and sigmoid(x) of one logit: the expensive part, shared by every target.
struct LogitTerms {
  double softplusPos, softplusNeg, sigmoidPos;
  explicit LogitTerms(float x) {
    const double xd = std::isinf(x) ? std::copysign(1e300, x) : x;
    softplusPos = softplus(xd);
    softplusNeg = softplus(-xd);
    sigmoidPos = sigmoid(xd);
  }
};

struct RefElement {
  double loss, lossMagnitude, grad, gradMagnitude, expFactor;
};

// y is the target as given (0/1 for Uint8); p = posWeight, w = weight.
inline RefElement refElement(const LogitTerms& t, double y, Smoothing s, double p, double w) {
  if (w == 0) return {0, 0, 0, 0, 0};
  const double smoothed = y * s.scale + s.shift;
  const double neg = (1 - y) * s.scale + s.shift;  // 1 - y' without cancellation
  const double pos = p * smoothed;
  const double t1 = neg == 0 ? 0 : neg * t.softplusPos;
  const double t2 = pos == 0 ? 0 : pos * t.softplusNeg;
  const double g1 = neg * t.sigmoidPos;
  const double g2 = pos * (1 - t.sigmoidPos);
  const double sigmoidTerm = std::fabs(t.sigmoidPos * (neg + pos));
  const bool inUnit = smoothed >= 0 && smoothed <= 1;
  return {w * (t1 + t2), std::fabs(w) * (std::fabs(t1) + std::fabs(t2)), w * (g1 - g2),
          std::fabs(w) * (inUnit ? std::max(sigmoidTerm, std::fabs(pos)) : sigmoidTerm + std::fabs(pos)),
          std::fabs(neg) + std::fabs(pos)};
}

// The spacing of float32 numbers at |t| (2^-149 for subnormals and zero).
inline double ulp32(double t) {
  const double a = std::fabs(t);
  if (!(a >= 0x1p-126)) return kSubnormalSpacing;
  if (std::isinf(a)) return std::numeric_limits<double>::infinity();
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  return std::ldexp(1.0, std::min(e - 1, 127) - 23);
}

// Error in float32 ulps of the truth; +-inf for a finite truth counts as +-2^128.
inline double ulpError(float result, double truth) {
  if (static_cast<double>(result) == truth) return 0;
  if (std::isnan(result) || std::isnan(truth) || std::isinf(truth)) return std::numeric_limits<double>::infinity();
  const double r = std::isinf(result) ? std::copysign(0x1p128, result) : result;
  return std::fabs(r - truth) / ulp32(truth);
}

inline bool sameFloat(float a, float b) { return std::memcmp(&a, &b, 4) == 0 || (std::isnan(a) && std::isnan(b)); }

// The loss bound: 4 ulp where the terms do not cancel, else 4 * 2^-24 * magnitude. Returns the error in
// units of the bound / 4 (so <= 4 passes), or infinity for a wrong non-finite result.
inline double lossError(float result, double truth, double magnitude, double subnormalScale) {
  if (sameFloat(result, static_cast<float>(truth))) return 0;
  if (std::isinf(truth) || std::isnan(truth) || (!std::isfinite(result) && std::fabs(truth) < 0x1p127)) {
    return std::numeric_limits<double>::infinity();
  }
  const double floor = kSubnormalSpacing * std::max(1.0, subnormalScale);
  if (!(magnitude > std::fabs(truth) * (1 + 1e-12))) {
    return ulpError(result, truth) * std::min(1.0, ulp32(truth) / floor);
  }
  const double unit = std::max(0x1p-24 * magnitude, floor);
  return std::fabs(static_cast<double>(result) - truth) / unit;
}

// The gradient bound: |error| / max(2^-24 * magnitude, 2^-149 * subnormalScale) <= 4.
inline double gradError(float result, double truth, double magnitude, double subnormalScale) {
  if (sameFloat(result, static_cast<float>(truth))) return 0;
  if (!std::isfinite(truth) || !std::isfinite(result)) return std::numeric_limits<double>::infinity();
  const double unit = std::max(0x1p-24 * magnitude, kSubnormalSpacing * std::max(1.0, subnormalScale));
  return std::fabs(static_cast<double>(result) - truth) / unit;
}

}  // namespace fused_bce_test
