#!/usr/bin/env bash
# Builds and runs the C++ kernel tests (CTest) in one of their variants:
#   release     the tests as shipped (-O3, every ISA this CPU runs)             npm run test:native
#   sanitize    the same under AddressSanitizer + UndefinedBehaviorSanitizer    npm run test:sanitize
#   arm64       cross-compiled for aarch64 (NEON), run under qemu-aarch64       npm run test:arm64
#   exhaustive  the accuracy sweep over every float32 logit below 110           npm run test:exhaustive
set -euo pipefail
cd "$(dirname "$0")/../.."
variant="${1:-release}"
jobs="$(nproc 2>/dev/null || echo 2)"
case "$variant" in
  release) dir=build-tests; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  sanitize) dir=build-sanitize; args=(-DCMAKE_BUILD_TYPE=Debug -DFUSED_BCE_SANITIZE=ON) ;;
  arm64) dir=build-arm64; args=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake) ;;
  exhaustive) dir=build-tests; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  *) echo "usage: $0 release|sanitize|arm64|exhaustive" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -DFUSED_BCE_ADDON=OFF "${args[@]}" >/dev/null
cmake --build "$dir" -j "$jobs" >/dev/null
if [ "$variant" = exhaustive ]; then
  "$dir/accuracy_sweep" --exhaustive
else
  ctest --test-dir "$dir" --output-on-failure
fi
