// The benchmark's reference "careless float sketch" of the same loss: what one writes without error analysis.
// loss = max(x, 0) - x y' + log(1 + e^-|x|), grad = (x >= 0 ? 1 : e) / (1 + e) - y', with Cephes-style expf
// (degree 5, exponent added, clamped at -87) and logf (degree 8 on [sqrt(1/2), sqrt(2)]) polynomials, one
// division, no correction steps: 8-16 ulp where the loss is small, worse for tiny losses (log of a rounded
// 1 + e). Written over the kernel's vector types plus Ops (division, 2^k) for one ISA.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

template <class V, class Ops>
double sketchRun(const float* logits, const uint8_t* labels, float* gradOut, size_t n, float a, double gradScale) {
  using F = typename V::F;
  const F s1 = V::set1(1.0f - a), s0 = V::set1(a), zero = V::set1(0.0f), one = V::set1(1.0f);
  const F scale = V::set1(static_cast<float>(gradScale));
  typename V::Acc acc;
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) {
    const F x = V::load(logits + i);
    const F y = V::select(V::loadLabelIsOne(labels + i), s1, s0);
    const F t = V::maxKeepNan(V::negAbs(x), V::set1(-87.0f));
    const F z = V::fma(t, V::set1(1.44269504f), V::set1(12582912.0f));
    const F k = V::sub(z, V::set1(12582912.0f));
    F r = V::fma(k, V::set1(-0.693359375f), t);
    r = V::fma(k, V::set1(2.12194440e-4f), r);
    F p = V::set1(1.9875691500e-4f);
    p = V::fma(p, r, V::set1(1.3981999507e-3f));
    p = V::fma(p, r, V::set1(8.3334519073e-3f));
    p = V::fma(p, r, V::set1(4.1665795894e-2f));
    p = V::fma(p, r, V::set1(1.6666665459e-1f));
    p = V::fma(p, r, V::set1(5.0000001201e-1f));
    const F e = Ops::scale2k(V::add(V::fma(V::mul(r, r), p, r), one), z);
    const F u = V::add(one, e);
    const auto big = V::ge(u, V::set1(1.41421356f));
    const F f = V::select(big, V::fma(u, V::set1(0.5f), V::set1(-1.0f)), V::sub(u, one));
    F q = V::set1(7.0376836292e-2f);
    q = V::fma(q, f, V::set1(-1.1514610310e-1f));
    q = V::fma(q, f, V::set1(1.1676998740e-1f));
    q = V::fma(q, f, V::set1(-1.2420140846e-1f));
    q = V::fma(q, f, V::set1(1.4249322787e-1f));
    q = V::fma(q, f, V::set1(-1.6668057665e-1f));
    q = V::fma(q, f, V::set1(2.0000714765e-1f));
    q = V::fma(q, f, V::set1(-2.4999993993e-1f));
    q = V::fma(q, f, V::set1(3.3333331174e-1f));
    const F f2 = V::mul(f, f);
    const F logU = V::add(V::add(f, V::fma(V::mul(f2, f), q, V::mul(V::set1(-0.5f), f2))), V::select(big, V::set1(0.693147181f), zero));
    const F loss = V::add(V::sub(V::maxKeepNan(x, zero), V::mul(x, y)), logU);
    V::accumulate(acc, loss);
    const F sigmoid = Ops::div(V::select(V::ge(x, zero), one, e), u);
    V::store(gradOut + i, V::mul(V::sub(sigmoid, y), scale));
  }
  double sum = V::total(acc);
  for (; i < n; ++i) {  // the tail in double (the benchmark's sizes are multiples of the width)
    const double x = logits[i], y = labels[i] ? 1.0 - a : a, e = std::exp(-std::fabs(x));
    sum += (x > 0 ? x : 0) - x * y + std::log1p(e);
    gradOut[i] = static_cast<float>(((x >= 0 ? 1 : e) / (1 + e) - y) * gradScale);
  }
  return sum;
}

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
