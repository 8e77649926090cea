// Compiler and platform glue shared by every kernel file: inlining and branch hints, bit casts, fused
// multiply-adds through <cmath> (no compiler builtins, so MSVC and clang-cl build it), and the guards on the
// floating-point model the error-free steps rely on.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

// The kernels' error-free steps (a product's error recovered by fma, hi + lo pairs) need every a * b + c to be
// rounded as written: contracted to an fma, or reassociated, they silently lose their accuracy.
#if defined(__FAST_MATH__)
#error "fused-bce: the kernels must not be built with -ffast-math (their error-free steps rely on IEEE rounding)"
#endif
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#elif defined(_MSC_VER)
#pragma fp_contract(off)
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define FUSED_BCE_INLINE __forceinline
#define FUSED_BCE_NOINLINE __declspec(noinline)
#define FUSED_BCE_UNLIKELY(x) (x)
#else
#define FUSED_BCE_INLINE inline __attribute__((always_inline))
#define FUSED_BCE_NOINLINE __attribute__((noinline))
#define FUSED_BCE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define FUSED_BCE_X86_64 1
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define FUSED_BCE_ARM64 1
#endif

#if defined(FUSED_BCE_X86_64)
#include <xmmintrin.h>
#endif

namespace fused_bce {
namespace portable {

// The floating-point environment the kernels are written for, set for the scope of a kernel call on whatever
// thread runs it, and the caller's restored after: round to nearest, subnormals neither flushed nor treated as
// zero (other native code in a process may leave FTZ/DAZ or another rounding mode on a thread: BLAS, audio
// libraries, code built with -ffast-math). Costs two register reads/writes per call, only a write where the
// caller's state differs.
class FloatingPointEnvironment {
 public:
#if defined(FUSED_BCE_X86_64)
  // MXCSR: all exceptions masked (bits 7-12), round to nearest (13-14 = 0), no FTZ (15) or DAZ (6).
  static constexpr unsigned kKernelMxcsr = 0x1f80u;
  static constexpr unsigned kControlBits = 0xffc0u;  // everything but the sticky status flags
  FloatingPointEnvironment() : saved_(_mm_getcsr()), changed_((saved_ & kControlBits) != kKernelMxcsr) {
    if (changed_) _mm_setcsr(kKernelMxcsr);
  }
  ~FloatingPointEnvironment() {
    if (changed_) _mm_setcsr(saved_);
  }

 private:
  unsigned saved_;
  bool changed_;
#elif defined(FUSED_BCE_ARM64) && defined(__GNUC__)
  // FPCR: round to nearest (RMode, bits 22-23 = 0), no flush to zero (FZ, bit 24), no alternative half
  // precision or default NaN behaviour changes that matter here (AHP 26, DN 25 cleared too).
  static constexpr uint64_t kKernelClear = (3ull << 22) | (1ull << 24) | (1ull << 25) | (1ull << 26);
  FloatingPointEnvironment() {
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(saved_));
    changed_ = (saved_ & kKernelClear) != 0;
    if (changed_) {
      const uint64_t kernel = saved_ & ~kKernelClear;
      __asm__ __volatile__("msr fpcr, %0" : : "r"(kernel));
    }
  }
  ~FloatingPointEnvironment() {
    if (changed_) __asm__ __volatile__("msr fpcr, %0" : : "r"(saved_));
  }

 private:
  uint64_t saved_ = 0;
  bool changed_ = false;
#else
  // Elsewhere (WebAssembly: always round to nearest, no flush to zero) there is nothing to set.
  FloatingPointEnvironment() {}
  ~FloatingPointEnvironment() {}
#endif
};

// An ignoreIndex as loops over class indices compare it, in 32-bit lanes (every index type widens to int32
// exactly, and 32-bit compares vectorise on every ISA): an ignoreIndex outside int32 matches no row (fits false).
struct IgnoreIndex32 {
  int32_t value;
  bool fits;
};
inline IgnoreIndex32 ignoreIndex32(int64_t ignoreIndex) {
  const bool fits = ignoreIndex >= INT32_MIN && ignoreIndex <= INT32_MAX;
  return {fits ? static_cast<int32_t>(ignoreIndex) : 0, fits};
}

// Asks for the cache line `bytes` past p to be brought to L1 ahead of its use. The address is formed as an integer:
// it may lie past the end of its array, or p be null (a prefetch never faults and is dropped where nothing is
// mapped). kHasPrefetch: false where there is no such instruction (WebAssembly), and callers skip their checks.
#if defined(FUSED_BCE_X86_64)
constexpr bool kHasPrefetch = true;
#define FUSED_BCE_PREFETCH_T0(address) _mm_prefetch(reinterpret_cast<const char*>(address), _MM_HINT_T0)
#elif (defined(__GNUC__) || defined(__clang__)) && !defined(__wasm__)
constexpr bool kHasPrefetch = true;
#define FUSED_BCE_PREFETCH_T0(address) __builtin_prefetch(reinterpret_cast<const void*>(address), 0, 3)
#else
constexpr bool kHasPrefetch = false;
#define FUSED_BCE_PREFETCH_T0(address) ((void)(address))
#endif
FUSED_BCE_INLINE void prefetchAhead(const void* p, size_t bytes) {
  FUSED_BCE_PREFETCH_T0(reinterpret_cast<uintptr_t>(p) + bytes);
}
constexpr size_t kCacheLineBytes = 64;

inline uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float floatOfBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline float withSignBit(float f, bool negative) {
  return floatOfBits((bitsOf(f) & 0x7fffffffu) | (negative ? 0x80000000u : 0u));
}
constexpr float kInfinity = std::numeric_limits<float>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// One rounding, on every compiler (a hardware fma where the target has one, else libm's exact one).
inline float fmaf(float a, float b, float c) { return std::fma(a, b, c); }
inline double fma(double a, double b, double c) { return std::fma(a, b, c); }

}  // namespace portable
}  // namespace fused_bce
