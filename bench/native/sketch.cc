// The careless float sketches for AVX2 and AVX-512: BCE (sketch.inl: sketchAvx2 / sketchAvx512) and softmax
// cross-entropy (ce_sketch.inl: ceSketchAvx2 / ceSketchAvx512).
#include <immintrin.h>
#include <cmath>

#define FUSED_BCE_TARGET sketch_avx2
#define FUSED_BCE_TARGET_FLAGS "avx2,fma"
#include "../../native/isa/begin.h"
#include "../../native/kernel/vec_avx2.inl"
#include "sketch.inl"
#include "ce_sketch.inl"
namespace fused_bce {
struct SketchAvx2Ops {
  static FUSED_BCE_INLINE __m256 div(__m256 a, __m256 b) { return _mm256_div_ps(a, b); }
  static FUSED_BCE_INLINE __m256 scale2k(__m256 p, __m256 z) {  // bits(z) = magic + k: k << 23 into the exponent
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_castps_si256(z), 23)));
  }
};
double sketchAvx2(const float* x, const uint8_t* y, float* g, size_t n, float a, double s) {
  return sketch_avx2::sketchRun<sketch_avx2::Avx2Vec, SketchAvx2Ops>(x, y, g, n, a, s);
}
double ceSketchAvx2(const float* x, const int32_t* y, float* g, size_t rows, size_t classes, float eps) {
  return sketch_avx2::ceSketchRun<sketch_avx2::Avx2Vec, SketchAvx2Ops>(x, y, g, rows, classes, eps);
}
}  // namespace fused_bce
#include "../../native/isa/end.h"
#undef FUSED_BCE_TARGET
#undef FUSED_BCE_TARGET_FLAGS

#define FUSED_BCE_TARGET sketch_avx512
#define FUSED_BCE_TARGET_FLAGS "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"
#include "../../native/isa/begin.h"
#include "../../native/kernel/vec_avx512.inl"
#include "sketch.inl"
#include "ce_sketch.inl"
namespace fused_bce {
struct SketchAvx512Ops {
  static FUSED_BCE_INLINE __m512 div(__m512 a, __m512 b) { return _mm512_div_ps(a, b); }
  static FUSED_BCE_INLINE __m512 scale2k(__m512 p, __m512 z) {
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), _mm512_slli_epi32(_mm512_castps_si512(z), 23)));
  }
};
double sketchAvx512(const float* x, const uint8_t* y, float* g, size_t n, float a, double s) {
  return sketch_avx512::sketchRun<sketch_avx512::Avx512Vec, SketchAvx512Ops>(x, y, g, n, a, s);
}
double ceSketchAvx512(const float* x, const int32_t* y, float* g, size_t rows, size_t classes, float eps) {
  return sketch_avx512::ceSketchRun<sketch_avx512::Avx512Vec, SketchAvx512Ops>(x, y, g, rows, classes, eps);
}
}  // namespace fused_bce
#include "../../native/isa/end.h"
