// Closes the target region that begin.h opened.
#if defined(FUSED_BCE_TARGET_FLAGS)
#if defined(__clang__)
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif
#endif
