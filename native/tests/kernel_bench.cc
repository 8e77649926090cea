// Kernel-only timing per ISA (no JavaScript): ns/element of the fused forward+backward at a few sizes, median
// of repeats. A development tool for kernel work (the package's benchmark is bench/run.js).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "harness.h"

int main(int argc, char** argv) {
  const double smoothing = argc > 1 ? std::atof(argv[1]) : 0.05;
  std::mt19937 gen(1);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  for (size_t n : {size_t(1) << 12, size_t(1) << 16, size_t(1) << 20}) {
    std::vector<float> logits(n), loss(n), grad(n);
    std::vector<uint8_t> labels(n);
    for (size_t i = 0; i < n; ++i) logits[i] = normal(gen), labels[i] = (i * 2654435761u >> 7) % 10 == 0;
    for (const fused_bce::IsaEntry& isa : fused_bce_test::isasToTest()) {
      fused_bce::KernelArgs a;
      a.logits = logits.data();
      a.targetsU8 = labels.data();
      a.n = n;
      a.smoothScale = 1 - 2 * smoothing;
      a.smoothShift = smoothing;
      const char* mode = std::getenv("MODE");  // fused (default), loss, grad
      const bool loss = mode == nullptr || std::string(mode) != "grad";
      const bool gradient = mode == nullptr || std::string(mode) != "loss";
      a.gradOut = gradient ? grad.data() : nullptr;
      a.gradScale = 1.0 / n;
      a.wantLossSum = loss;
      const size_t inner = std::max<size_t>(1, (size_t(1) << 24) / n / (isa.isa == fused_bce::Isa::Scalar ? 16 : 1));
      std::vector<double> samples;
      double sink = 0;
      for (int r = 0; r < 9; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        for (size_t k = 0; k < inner; ++k) sink += isa.run(a);
        const auto t1 = std::chrono::steady_clock::now();
        samples.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / inner / n);
      }
      std::sort(samples.begin(), samples.end());
      std::printf("n=%8zu %-7s %.3f ns/element (%g)\n", n, isa.name, samples[samples.size() / 2], sink > 0 ? 1.0 : 0.0);
    }
  }
  return 0;
}
