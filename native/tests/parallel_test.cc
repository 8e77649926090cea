// runBlocked: the loss sum and every output are the same bits for any thread count (block sums added in
// order), equal the single-call kernel's outputs, and blocks respect rows (per-class posWeight lines up). A call
// run in parts on block boundaries (as an asynchronous call's chunks are), its stored block sums added in order,
// gives the same sum.
#include <cmath>
#include <random>
#include <vector>

#include "../dispatch/parallel.h"
#include "harness.h"
#include "reference_f64.h"

int main() {
  using namespace fused_bce_test;
  Failures failures;
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0.0f, 5.0f);
  const size_t classes = 7;
  const size_t n = classes * 150001;  // many blocks of sumBlockSize(7) and a ragged last one
  std::vector<float> logits(n), loss(n), grad(n), loss1(n), grad1(n), lossDirect(n), gradDirect(n);
  std::vector<uint8_t> labels(n);
  const float posWeight[classes] = {0.5f, 1, 2, 3, 0.25f, 1.5f, 4};
  for (size_t i = 0; i < n; ++i) logits[i] = normal(gen), labels[i] = (i * 2654435761u >> 9) % 5 == 0;
  FUSED_BCE_CHECK(failures, fused_bce::sumBlockSize(classes) % classes == 0, "block size is a whole number of rows");
  for (const fused_bce::IsaEntry& isa : isasToTest()) {
    fused_bce::KernelArgs a;
    a.logits = logits.data();
    a.targetsU8 = labels.data();
    a.posWeight = posWeight;
    a.classes = classes;
    a.n = n;
    a.smoothScale = 0.9;
    a.smoothShift = 0.05;
    a.gradScale = 1.0 / n;
    a.wantLossSum = true;
    a.lossOut = loss1.data();
    a.gradOut = grad1.data();
    const double sum1 = fused_bce::runBlocked(isa.run, a, 1);
    a.lossOut = lossDirect.data();
    a.gradOut = gradDirect.data();
    const double direct = isa.run(a);  // one kernel call over everything: other sum order, same elements
    for (size_t i = 0; i < n; ++i) {
      FUSED_BCE_CHECK(failures, sameFloat(loss1[i], lossDirect[i]) && sameFloat(grad1[i], gradDirect[i]),
                      "%s: blocked element %zu differs from one call", isa.name, i);
    }
    FUSED_BCE_CHECK(failures, std::fabs(sum1 - direct) <= 1e-12 * std::fabs(direct), "%s: blocked sum %a vs one call %a",
                    isa.name, sum1, direct);
    for (unsigned threads : {0u, 2u, 3u, 5u, 16u, 1000u}) {
      a.lossOut = loss.data();
      a.gradOut = grad.data();
      const double sum = fused_bce::runBlocked(isa.run, a, threads);
      FUSED_BCE_CHECK(failures, sum == sum1, "%s threads=%u: sum %a vs %a", isa.name, threads, sum, sum1);
      for (size_t i = 0; i < n; ++i) {
        FUSED_BCE_CHECK(failures, sameFloat(loss[i], loss1[i]) && sameFloat(grad[i], grad1[i]),
                        "%s threads=%u: element %zu differs", isa.name, threads, i);
      }
    }
    // In parts, over the first 7 x 40,000 elements (four blocks and a ragged fifth; kept short for the emulated
    // AVX-512 run): parts of two blocks, their stored block sums added in order.
    const size_t block = fused_bce::sumBlockSize(classes), m = classes * 40000, blocks = (m + block - 1) / block;
    fused_bce::KernelArgs sub = fused_bce::elementRange(a, 0, m);
    sub.lossOut = loss1.data();
    sub.gradOut = grad1.data();
    const double subSum = fused_bce::runBlocked(isa.run, sub, 1);
    for (unsigned threads : {1u, 2u}) {
      std::vector<double> blockSums(blocks, -1.0);
      sub.lossOut = loss.data();
      sub.gradOut = grad.data();
      for (size_t begin = 0; begin < m; begin += 2 * block) {
        const size_t end = m - begin < 2 * block ? m : begin + 2 * block;
        fused_bce::runBlocked(isa.run, fused_bce::elementRange(sub, begin, end), threads, blockSums.data() + begin / block);
      }
      double sum = 0;
      for (double s : blockSums) sum += s;
      FUSED_BCE_CHECK(failures, sum == subSum, "%s in parts, threads=%u: sum %a vs %a", isa.name, threads, sum, subSum);
      for (size_t i = 0; i < m; ++i) {
        FUSED_BCE_CHECK(failures, sameFloat(loss[i], loss1[i]) && sameFloat(grad[i], grad1[i]),
                        "%s in parts, threads=%u: element %zu differs", isa.name, threads, i);
      }
    }
  }
  return failures.exitCode("parallel_test");
}
