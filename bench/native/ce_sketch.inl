// The benchmark's careless native softmax cross-entropy (what one writes without error analysis), three passes
// per row: the max; e = exp(x - max) with a Cephes-style expf polynomial (degree 5, exponent added), stored in the
// gradient, and their float sum with the sum of the logits; then the gradient e / sum - target, and the loss
// lse - ((1 - eps) x_y + eps / C sum x) with lse = max + log(sum). Class indices (Int32), labelSmoothing eps,
// reduction mean.
namespace fused_bce {
namespace FUSED_BCE_TARGET {

template <class V, class Ops>
double ceSketchRun(const float* logits, const int32_t* targets, float* gradOut, size_t rows, size_t classes, float eps) {
  using F = typename V::F;
  const float spread = eps / static_cast<float>(classes), inverseRows = 1.0f / static_cast<float>(rows);
  const F one = V::set1(1.0f), spreadV = V::set1(spread);
  double total = 0;
  for (size_t r = 0; r < rows; ++r) {
    const float* x = logits + r * classes;
    float* g = gradOut + r * classes;
    const size_t full = classes - classes % V::kWidth;
    F m = V::set1(-3.4e38f);
    for (size_t i = 0; i < full; i += V::kWidth) m = V::maxKeepNan(V::load(x + i), m);
    alignas(64) float lanes[V::kWidth];
    V::store(lanes, m);
    float max = lanes[0];
    for (size_t l = 1; l < V::kWidth; ++l) max = lanes[l] > max ? lanes[l] : max;
    for (size_t i = full; i < classes; ++i) max = x[i] > max ? x[i] : max;
    const F maxV = V::set1(max);
    F sum = V::set1(0.0f), sumX = V::set1(0.0f);
    const auto expf = [&](F t) {
      t = V::maxKeepNan(t, V::set1(-87.0f));
      const F z = V::fma(t, V::set1(1.44269504f), V::set1(12582912.0f));
      const F k = V::sub(z, V::set1(12582912.0f));
      F q = V::fma(k, V::set1(-0.693359375f), t);
      q = V::fma(k, V::set1(2.12194440e-4f), q);
      F p = V::set1(1.9875691500e-4f);
      p = V::fma(p, q, V::set1(1.3981999507e-3f));
      p = V::fma(p, q, V::set1(8.3334519073e-3f));
      p = V::fma(p, q, V::set1(4.1665795894e-2f));
      p = V::fma(p, q, V::set1(1.6666665459e-1f));
      p = V::fma(p, q, V::set1(5.0000001201e-1f));
      return Ops::scale2k(V::add(V::fma(V::mul(q, q), p, q), one), z);
    };
    for (size_t i = 0; i < full; i += V::kWidth) {
      const F xv = V::load(x + i);
      const F e = expf(V::sub(xv, maxV));
      V::store(g + i, e);
      sum = V::add(sum, e);
      sumX = V::add(sumX, xv);
    }
    V::store(lanes, sum);
    float s = 0;
    for (size_t l = 0; l < V::kWidth; ++l) s += lanes[l];
    V::store(lanes, sumX);
    float sx = 0;
    for (size_t l = 0; l < V::kWidth; ++l) sx += lanes[l];
    for (size_t i = full; i < classes; ++i) {
      g[i] = std::exp(x[i] - max);
      s += g[i];
      sx += x[i];
    }
    const float scale = inverseRows / s;
    const F scaleV = V::set1(scale), ownV = V::mul(spreadV, V::set1(inverseRows));
    for (size_t i = 0; i < full; i += V::kWidth) V::store(g + i, V::fms(V::load(g + i), scaleV, ownV));
    for (size_t i = full; i < classes; ++i) g[i] = g[i] * scale - spread * inverseRows;
    const int32_t y = targets[r];
    g[y] -= (1.0f - eps) * inverseRows;
    const float lse = max + std::log(s);
    total += lse - ((1.0f - eps) * x[y] + spread * sx);
  }
  return total / static_cast<double>(rows);
}

}  // namespace FUSED_BCE_TARGET
}  // namespace fused_bce
