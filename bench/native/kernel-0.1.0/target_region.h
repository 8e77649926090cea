// Macros that open and close a target region, so one translation unit compiles its kernel for one ISA
// without per-file compiler flags (binding.gyp and CMakeLists.txt then share one flag set).
#pragma once

#if defined(__clang__)
#define FUSED_BCE_PRAGMA(x) _Pragma(#x)
#define FUSED_BCE_TARGET_BEGIN(isa) FUSED_BCE_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define FUSED_BCE_TARGET_END _Pragma("clang attribute pop")
#elif defined(__GNUC__)
#define FUSED_BCE_PRAGMA(x) _Pragma(#x)
#define FUSED_BCE_TARGET_BEGIN(isa) _Pragma("GCC push_options") FUSED_BCE_PRAGMA(GCC target(isa))
#define FUSED_BCE_TARGET_END _Pragma("GCC pop_options")
#else  // MSVC emits any intrinsic without a target switch
#define FUSED_BCE_TARGET_BEGIN(isa)
#define FUSED_BCE_TARGET_END
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define FUSED_BCE_INLINE __forceinline
#else
#define FUSED_BCE_INLINE inline __attribute__((always_inline))
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define FUSED_BCE_X86_64 1
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define FUSED_BCE_ARM64 1
#endif
