// Accuracy sweep of the whole per-element loss and gradient against float64, for every ISA this CPU runs.
// Logits: float32 bit patterns of both signs, every one below 110 in magnitude (where e^-|x| is not yet 0)
// with --stride 1 (npm run test:exhaustive), or every stride-th finite float (CI). Each logit is checked
// with targets 0, 1 and soft values (float32 and uint8), several smoothing rates in both conventions
// (negative ones too), posWeight, weight and gradient scales. Prints the worst error per ISA and config.
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include "harness.h"
#include "reference_f64.h"

namespace {
using namespace fused_bce_test;

struct Config {
  const char* name;
  float y;
  bool u8;
  Smoothing smoothing;
  float posWeight, weight;
  double gradScale;
  bool core;  // part of the exhaustive run (the CI run takes all)
};

const Config kConfigs[] = {
    {"y=0 u8 a=0", 0, true, Smoothing::symmetric(0), 1, 1, 1, true},
    {"y=1 u8 a=0", 1, true, Smoothing::symmetric(0), 1, 1, 1, true},
    {"y=0 u8 a=0.05 sym", 0, true, Smoothing::symmetric(0.05), 1, 1, 1, true},
    {"y=1 u8 a=0.05 sym", 1, true, Smoothing::symmetric(0.05), 1, 1, 1, true},
    {"y=1 f32 a=0.1 uniform", 1, false, Smoothing::uniform(0.1), 1, 1, 1, true},
    {"y=0.3 f32 a=0", 0.3f, false, Smoothing::symmetric(0), 1, 1, 1, true},
    {"y=0.7 f32 a=0.05 sym", 0.7f, false, Smoothing::symmetric(0.05), 1, 1, 1, true},
    {"y=1 u8 a=-0.05 sym", 1, true, Smoothing::symmetric(-0.05), 1, 1, 1, true},
    {"y=0 u8 a=-0.05 sym", 0, true, Smoothing::symmetric(-0.05), 1, 1, 1, true},
    {"y=0 f32 a=0.1 uniform", 0, false, Smoothing::uniform(0.1), 1, 1, 1, false},
    {"y=0.5 f32 a=0.3 sym", 0.5f, false, Smoothing::symmetric(0.3), 1, 1, 1, false},
    {"y=0.95 f32 a=0", 0.95f, false, Smoothing::symmetric(0), 1, 1, 1, false},
    {"y=1e-3 f32 a=0", 1e-3f, false, Smoothing::symmetric(0), 1, 1, 1, false},
    {"y=1 u8 a=-2 uniform", 1, true, Smoothing::uniform(-2), 1, 1, 1, false},
    {"y=0 u8 a=-8 sym", 0, true, Smoothing::symmetric(-8), 1, 1, 1, false},
    {"y=1 u8 a=0.05 p=3.7", 1, true, Smoothing::symmetric(0.05), 3.7f, 1, 1, false},
    {"y=0 u8 a=0.05 p=0.25", 0, true, Smoothing::symmetric(0.05), 0.25f, 1, 1, false},
    {"y=0.6 f32 a=0 p=100", 0.6f, false, Smoothing::symmetric(0), 100, 1, 1, false},
    {"y=1 u8 a=0.05 w=0.3 /7", 1, true, Smoothing::symmetric(0.05), 1, 0.3f, 1.0 / 7, false},
    {"y=0 u8 a=0.1 uniform w=2.5 /1000", 0, true, Smoothing::uniform(0.1), 1, 2.5f, 1e-3, false},
    {"y=1 u8 a=-0.05 p=2 /3", 1, true, Smoothing::symmetric(-0.05), 2, 1, 1.0 / 3, false},
    {"y=0 u8 a=0 /3", 0, true, Smoothing::symmetric(0), 1, 1, 1.0 / 3, false},
    {"y=0.3 f32 a=0.05 /7", 0.3f, false, Smoothing::symmetric(0.05), 1, 1, 1.0 / 7, false},
    {"y=1 u8 a=0.05 /1000", 1, true, Smoothing::symmetric(0.05), 1, 1, 1e-3, false},
    {"y=0.6 f32 a=0.05 p=2.7 w=0.8 /3", 0.6f, false, Smoothing::symmetric(0.05), 2.7f, 0.8f, 1.0 / 3, false},
    {"y=0.9 f32 a=0.1 uniform p=0.4 w=1.3", 0.9f, false, Smoothing::uniform(0.1), 0.4f, 1.3f, 1, false},
};

struct Worst {
  double loss = 0, grad = 0;
  float lossAt = 0, gradAt = 0;
  long checked = 0;
  void merge(const Worst& o) {
    if (o.loss > loss) loss = o.loss, lossAt = o.lossAt;
    if (o.grad > grad) grad = o.grad, gradAt = o.gradAt;
    checked += o.checked;
  }
};

float fromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

constexpr size_t kBlock = 1 << 14;

struct Sweep {
  std::vector<fused_bce::IsaEntry> isas;
  std::vector<const Config*> configs;
  uint64_t stride, limitBits;
  std::atomic<uint64_t> nextBlock{0};
  std::vector<Worst> worst;  // [isa][config]
  Failures failures;
  std::mutex mutex;

  uint64_t count() const { return limitBits / stride + 1; }  // magnitudes swept; each taken with both signs

  void run(unsigned threads) {
    worst.assign(isas.size() * configs.size(), Worst{});
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back([this] { work(); });
    for (auto& th : pool) th.join();
  }

  void work() {
    std::vector<float> logits(kBlock), targets(kBlock), loss(kBlock), grad(kBlock);
    std::vector<uint8_t> labels(kBlock);
    std::vector<LogitTerms> terms;
    terms.reserve(kBlock);
    std::vector<Worst> local(worst.size());
    Failures localFailures;
    const uint64_t total = count() * 2;
    for (;;) {
      const uint64_t begin = nextBlock.fetch_add(kBlock);
      if (begin >= total) break;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, total - begin));
      terms.clear();
      for (size_t i = 0; i < n; ++i) {
        const uint64_t k = begin + i;
        const uint32_t bits = static_cast<uint32_t>((k >> 1) * stride) | ((k & 1) ? 0x80000000u : 0u);
        logits[i] = fromBits(bits);
        terms.emplace_back(logits[i]);
      }
      for (size_t c = 0; c < configs.size(); ++c) {
        const Config& cfg = *configs[c];
        std::fill(targets.begin(), targets.begin() + n, cfg.y);
        std::fill(labels.begin(), labels.begin() + n, static_cast<uint8_t>(cfg.y));
        fused_bce::KernelArgs a;
        a.logits = logits.data();
        if (cfg.u8) a.targetsU8 = labels.data();
        else a.targetsF32 = targets.data();
        // Weights of exactly 1 are left out, so that the unweighted specialisation is the one measured.
        a.posWeight = cfg.posWeight == 1.0f ? nullptr : &cfg.posWeight;
        a.weight = cfg.weight == 1.0f ? nullptr : &cfg.weight;
        a.n = n;
        a.classes = 1;
        a.smoothScale = cfg.smoothing.scale;
        a.smoothShift = cfg.smoothing.shift;
        a.lossOut = loss.data();
        a.gradOut = grad.data();
        a.gradScale = cfg.gradScale;
        a.wantLossSum = true;
        for (size_t s = 0; s < isas.size(); ++s) {
          const double sum = isas[s].run(a);
          Worst& w = local[s * configs.size() + c];
          double truthSum = 0, boundSum = 0, absSum = 0;
          for (size_t i = 0; i < n; ++i) {
            const RefElement r = refElement(terms[i], cfg.y, cfg.smoothing, cfg.posWeight, cfg.weight);
            const double le = lossError(loss[i], r.loss, r.lossMagnitude, std::fabs(cfg.weight) * r.expFactor);
            const double gradScale = std::fabs(cfg.gradScale);
            const double ge = gradError(grad[i], r.grad * cfg.gradScale, r.gradMagnitude * gradScale,
                                        std::fabs(cfg.weight) * gradScale * std::max(1.0, r.expFactor));
            if (le > w.loss) w.loss = le, w.lossAt = logits[i];
            if (ge > w.grad) w.grad = ge, w.gradAt = logits[i];
            FUSED_BCE_CHECK(localFailures, le <= 4, "%s %s x=%a: loss %a vs %a (%.2f)", isas[s].name, cfg.name,
                            logits[i], loss[i], r.loss, le);
            FUSED_BCE_CHECK(localFailures, ge <= 4, "%s %s x=%a: grad %a vs %a (%.2f)", isas[s].name, cfg.name,
                            logits[i], grad[i], r.grad * cfg.gradScale, ge);
            truthSum += r.loss;
            absSum += std::fabs(r.loss);
            boundSum += 4 * std::max(r.lossMagnitude > std::fabs(r.loss) * (1 + 1e-12) ? 0x1p-24 * r.lossMagnitude
                                                                                        : ulp32(r.loss),
                                     kSubnormalSpacing * std::max(1.0, std::fabs(cfg.weight) * r.expFactor));
          }
          const double sumBound = boundSum + 2 * n * 0x1p-53 * absSum;
          FUSED_BCE_CHECK(localFailures, std::fabs(sum - truthSum) <= sumBound, "%s %s block %" PRIu64 ": sum %a vs %a",
                          isas[s].name, cfg.name, begin, sum, truthSum);
          w.checked += static_cast<long>(n);
        }
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    for (size_t k = 0; k < worst.size(); ++k) worst[k].merge(local[k]);
    failures.count += localFailures.count;
  }
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t stride = 4099;  // prime: the sampled mantissas cover every residue
  bool exhaustive = false;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--exhaustive") exhaustive = true, stride = 1;
    else if (arg == "--stride" && i + 1 < argc) stride = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--threads" && i + 1 < argc) threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    else {
      std::fprintf(stderr, "usage: accuracy_sweep [--stride N | --exhaustive] [--threads T]\n");
      return 2;
    }
  }
  if (stride == 0) stride = 1;
  Sweep sweep;
  sweep.isas = isasToTest();
  sweep.stride = stride;
  // Exhaustive: every float below 110 in magnitude (beyond it e^-|x| is 0 and the loss is its linear term).
  // Sampled: all finite floats.
  sweep.limitBits = exhaustive ? 0x42DC0000u : 0x7F7FFFFFu;
  for (const Config& c : kConfigs) {
    if (!exhaustive || c.core) sweep.configs.push_back(&c);
  }
  std::printf("accuracy sweep: %" PRIu64 " logits (stride %" PRIu64 ", both signs) x %zu configs, %u threads\n",
              sweep.count() * 2, stride, sweep.configs.size(), threads);
  sweep.run(threads);
  std::printf("%-8s %-34s %10s %10s\n", "isa", "config", "loss ulp", "grad unit");
  for (size_t s = 0; s < sweep.isas.size(); ++s) {
    double worstLoss = 0, worstGrad = 0;
    for (size_t c = 0; c < sweep.configs.size(); ++c) {
      const Worst& w = sweep.worst[s * sweep.configs.size() + c];
      std::printf("%-8s %-34s %10.3f %10.3f   (x = %a, %a)\n", sweep.isas[s].name, sweep.configs[c]->name, w.loss, w.grad,
                  w.lossAt, w.gradAt);
      worstLoss = std::max(worstLoss, w.loss);
      worstGrad = std::max(worstGrad, w.grad);
    }
    std::printf("%-8s %-34s %10.3f %10.3f\n", sweep.isas[s].name, "MAX", worstLoss, worstGrad);
  }
  return sweep.failures.exitCode("accuracy_sweep");
}
