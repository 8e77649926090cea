// Opens one ISA's translation unit: the includer defines FUSED_BCE_TARGET (the namespace its kernel is compiled
// in, so that the same template built for two targets cannot collide at link time) and, for an ISA beyond the
// build's baseline, FUSED_BCE_TARGET_FLAGS (a target string: the region below compiles for it without per-file
// compiler flags, so binding.gyp and CMakeLists.txt share one flag set). Then the vector type, kernel.inl, the
// entry point, and end.h. Library headers are included before the region opens, so that no inline library
// function is compiled for the ISA and picked by the linker for a CPU without it.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "../kernel/portable.h"
#include "../kernel/kernel_api.h"
#include "../generated/bce_tables.h"

#if defined(FUSED_BCE_TARGET_FLAGS)
#if defined(__clang__)
#define FUSED_BCE_PRAGMA(x) _Pragma(#x)
#define FUSED_BCE_TARGET_PUSH(isa) FUSED_BCE_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
FUSED_BCE_TARGET_PUSH(FUSED_BCE_TARGET_FLAGS)
#elif defined(__GNUC__)
#define FUSED_BCE_PRAGMA(x) _Pragma(#x)
#define FUSED_BCE_TARGET_PUSH(isa) _Pragma("GCC push_options") FUSED_BCE_PRAGMA(GCC target(isa))
FUSED_BCE_TARGET_PUSH(FUSED_BCE_TARGET_FLAGS)
#endif  // MSVC emits any intrinsic without a target switch
#endif
