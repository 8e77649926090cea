// The emulation prelude shared by the two translation units of the AVX-512 kernel over SIMDe
// (avx512_emulated_bce.cc: BCE and focal; avx512_emulated_ce.cc: softmax cross-entropy). Each unit takes
// minutes to compile at -O3 through SIMDe's portable intrinsics, so the kernels are split to build in parallel.
//
#pragma once
// The AVX-512 kernel compiled against SIMDe's portable implementations of the AVX-512 intrinsics (Debian's
// libsimde-dev), so that its lane logic (masks, permutes, vpermt2ps tables, scalef, masked tails) is tested on
// CPUs without AVX-512 (npm run test:avx512-emulated). Two instructions are modelled here rather than taken
// from SIMDe: vscalefps with exact single rounding of subnormal results (SIMDe multiplies by exp2f, which
// underflows), and vrcp14ps as 1/x truncated to 14 bits (the documented error bound, < 2^-14), so that the
// gradient's folding of the estimate's error is exercised. Fused multiply-adds are modelled lane by lane with
// std::fma: SIMDe's fall-back rounds the product and the sum separately, which the error-free steps cannot
// survive. SIMDe has no masked store: it is written lane by lane here. What this cannot check is the hardware's
// own rounding; a CPU with AVX-512 runs the real kernel in the same tests.
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace {
inline simde__m512 emulatedScalef(simde__m512 a, simde__m512 b) {
  simde__m512_private pa = simde__m512_to_private(a), pb = simde__m512_to_private(b);
  for (int i = 0; i < 16; ++i) pa.f32[i] = std::ldexp(pa.f32[i], static_cast<int>(std::floor(pb.f32[i])));
  return simde__m512_from_private(pa);
}
inline simde__m512 emulatedRcp14(simde__m512 a) {
  simde__m512_private p = simde__m512_to_private(a);
  for (int i = 0; i < 16; ++i) {
    float r = 1.0f / p.f32[i];
    uint32_t bits;
    std::memcpy(&bits, &r, 4);
    if ((bits & 0x7f800000u) != 0x7f800000u) bits &= ~0x1ffu;  // keep 14 significant bits
    std::memcpy(&p.f32[i], &bits, 4);
  }
  return simde__m512_from_private(p);
}
// Intrinsics SIMDe 0.7.4 lacks, lane by lane from Intel's definitions.
inline simde__mmask16 emulatedTestEpi8Mask(simde__m128i a, simde__m128i b) {
  simde__m128i_private pa = simde__m128i_to_private(a), pb = simde__m128i_to_private(b);
  simde__mmask16 m = 0;
  for (int i = 0; i < 16; ++i) m |= static_cast<simde__mmask16>(((pa.i8[i] & pb.i8[i]) != 0) << i);
  return m;
}
inline simde__mmask16 emulatedCmpgtEpu32Mask(simde__m512i a, simde__m512i b) {
  simde__m512i_private pa = simde__m512i_to_private(a), pb = simde__m512i_to_private(b);
  simde__mmask16 m = 0;
  for (int i = 0; i < 16; ++i) m |= static_cast<simde__mmask16>((pa.u32[i] > pb.u32[i]) << i);
  return m;
}
inline simde__m512d emulatedCvtpsPd(simde__m256 a) {
  simde__m256_private pa = simde__m256_to_private(a);
  simde__m512d_private r;
  for (int i = 0; i < 8; ++i) r.f64[i] = static_cast<double>(pa.f32[i]);
  return simde__m512d_from_private(r);
}
inline simde__m256 emulatedCvtpdPs(simde__m512d a) {
  simde__m512d_private pa = simde__m512d_to_private(a);
  simde__m256_private r;
  for (int i = 0; i < 8; ++i) r.f32[i] = static_cast<float>(pa.f64[i]);
  return simde__m256_from_private(r);
}
inline simde__m256 emulatedExtractf32x8(simde__m512 a, int half) {
  simde__m512_private pa = simde__m512_to_private(a);
  simde__m256_private r;
  for (int i = 0; i < 8; ++i) r.f32[i] = pa.f32[8 * half + i];
  return simde__m256_from_private(r);
}
template <int kProductSign, int kAddendSign>
inline simde__m512 emulatedFmaPs(simde__m512 a, simde__m512 b, simde__m512 c) {
  simde__m512_private pa = simde__m512_to_private(a), pb = simde__m512_to_private(b), pc = simde__m512_to_private(c);
  for (int i = 0; i < 16; ++i) pa.f32[i] = std::fma(kProductSign * pa.f32[i], pb.f32[i], kAddendSign * pc.f32[i]);
  return simde__m512_from_private(pa);
}
inline simde__m512d emulatedFmaPd(simde__m512d a, simde__m512d b, simde__m512d c) {
  simde__m512d_private pa = simde__m512d_to_private(a), pb = simde__m512d_to_private(b), pc = simde__m512d_to_private(c);
  for (int i = 0; i < 8; ++i) pa.f64[i] = std::fma(pa.f64[i], pb.f64[i], pc.f64[i]);
  return simde__m512d_from_private(pa);
}
inline simde__m512 emulatedCvtepi32Ps(simde__m512i a) {
  simde__m512i_private pa = simde__m512i_to_private(a);
  simde__m512_private r;
  for (int i = 0; i < 16; ++i) r.f32[i] = static_cast<float>(pa.i32[i]);
  return simde__m512_from_private(r);
}
// vmovups with a mask (SIMDe has none): only the set lanes are written, which is what the kernel relies on.
inline void emulatedMaskStorePs(float* p, simde__mmask16 m, simde__m512 v) {
  simde__m512_private pv = simde__m512_to_private(v);
  for (int i = 0; i < 16; ++i) {
    if ((m >> i) & 1) p[i] = pv.f32[i];
  }
}
}  // namespace
#define _mm512_mask_storeu_ps(p, m, v) emulatedMaskStorePs(p, m, v)
#undef _mm512_fmadd_ps
#undef _mm512_fmsub_ps
#undef _mm512_fnmadd_ps
#undef _mm512_fmadd_pd
#define _mm512_fmadd_ps(a, b, c) emulatedFmaPs<1, 1>(a, b, c)
#define _mm512_fmsub_ps(a, b, c) emulatedFmaPs<1, -1>(a, b, c)
#define _mm512_fnmadd_ps(a, b, c) emulatedFmaPs<-1, 1>(a, b, c)
#define _mm512_fmadd_pd(a, b, c) emulatedFmaPd(a, b, c)
#define _mm_test_epi8_mask(a, b) emulatedTestEpi8Mask(a, b)
#define _mm512_cmpgt_epu32_mask(a, b) emulatedCmpgtEpu32Mask(a, b)
#define _mm512_cvtps_pd(a) emulatedCvtpsPd(a)
#define _mm512_cvtpd_ps(a) emulatedCvtpdPs(a)
#define _mm512_extractf32x8_ps(a, half) emulatedExtractf32x8(a, half)
#if !defined(__mmask16)
#define __mmask16 simde__mmask16
#define __mmask8 simde__mmask8
#endif
#undef _mm512_scalef_ps
#define _mm512_scalef_ps(a, b) emulatedScalef(a, b)
#define _mm512_rcp14_ps(a) emulatedRcp14(a)
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps(a) emulatedCvtepi32Ps(a)

#define FUSED_BCE_TARGET avx512emulated
#include "../isa/begin.h"
#include "../kernel/vec_avx512.inl"
#include "../kernel/kernel.inl"
