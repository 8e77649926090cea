#!/usr/bin/env bash
# Builds and runs the C++ kernel tests (CTest) in one of their variants:
#   release     the tests as shipped (-O3, every ISA this CPU runs, and the WebAssembly kernel over SIMDe's wasm
#               intrinsics as "wasm-emulated" where libsimde-dev is installed)    npm run test:native
#   sanitize    the same under AddressSanitizer + UndefinedBehaviorSanitizer    npm run test:sanitize
#   arm64       cross-compiled for aarch64 (NEON), run under qemu-aarch64       npm run test:arm64
#   exhaustive  the accuracy sweep over every float32 logit below 110           npm run test:exhaustive
#   avx512-emulated  the tests with the AVX-512 kernel over SIMDe's portable intrinsics (libsimde-dev)   npm run test:avx512-emulated
#   windows-compile  the kernel sources and a C++ test compiled for Windows with Debian's mingw-w64 (compiled and
#               linked only: nothing here runs a Windows binary)                 npm run test:windows-compile
#   valgrind    the tests under valgrind memcheck (which hides AVX-512: AVX2 and scalar run)   npm run test:valgrind
#   fuzz        the libFuzzer target (clang) under ASan+UBSan for FUSED_BCE_FUZZ_SECONDS (default 60)   npm run fuzz:native
set -euo pipefail
cd "$(dirname "$0")/../.."
variant="${1:-release}"
jobs="$(nproc 2>/dev/null || echo 2)"
if [ "$variant" = windows-compile ]; then
  cxx=x86_64-w64-mingw32-g++-posix
  out=build-mingw
  mkdir -p "$out"
  flags=(-std=c++17 -O2 -ffp-contract=off -march=x86-64 -Wall -Wextra -Wno-unused-parameter -Werror=return-type)
  sources=$(node -p "require('./native/build-config.json').kernelSources.join(' ')")
  objects=()
  running=()  # at most $jobs compiles at a time; `wait` on each returns its status (set -e stops on a failure)
  for s in $sources; do
    o="$out/$(basename "$s").o"
    "$cxx" "${flags[@]}" -c "$s" -o "$o" &
    running+=("$!")
    objects+=("$o")
    if [ "${#running[@]}" -ge "$jobs" ]; then
      wait "${running[0]}"
      running=("${running[@]:1}")
    fi
  done
  for pid in "${running[@]}"; do wait "$pid"; done
  "$cxx" "${flags[@]}" -static native/tests/tails_test.cc "${objects[@]}" -o "$out/tails_test.exe"
  echo "windows compile: built (not run) ${#objects[@]} kernel sources and tails_test.exe for x86_64-w64-mingw32"
  exit 0
fi
# The WebAssembly kernel over SIMDe joins the release build's ISAs wherever libsimde-dev is installed (x86-64).
wasm_emulation=()
if [ -f /usr/include/simde/wasm/simd128.h ] && [ "$(uname -m)" = x86_64 ]; then wasm_emulation=(-DFUSED_BCE_WASM_EMULATION=ON); fi
case "$variant" in
  release) dir=build-tests; args=(-DCMAKE_BUILD_TYPE=Release "${wasm_emulation[@]}") ;;
  sanitize) dir=build-sanitize; args=(-DCMAKE_BUILD_TYPE=Debug -DFUSED_BCE_SANITIZE=ON) ;;
  arm64) dir=build-arm64; args=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake) ;;
  exhaustive) dir=build-tests; args=(-DCMAKE_BUILD_TYPE=Release "${wasm_emulation[@]}") ;;
  avx512-emulated) dir=build-avx512emu; args=(-DCMAKE_BUILD_TYPE=Release -DFUSED_BCE_AVX512_EMULATION=ON) ;;
  valgrind) dir=build-valgrind; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  fuzz) dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=Debug -DFUSED_BCE_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: $0 release|sanitize|arm64|avx512-emulated|windows-compile|exhaustive|valgrind|fuzz" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -DFUSED_BCE_ADDON=OFF "${args[@]}" >/dev/null
cmake --build "$dir" -j "$jobs" >/dev/null
if [ "$variant" = exhaustive ]; then
  "$dir/accuracy_sweep" --exhaustive
elif [ "$variant" = valgrind ]; then
  for t in tails_test special_values_test parallel_test fp_environment_test ce_test focal_test; do
    valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect "$dir/$t"
  done
  valgrind -q --error-exitcode=9 --leak-check=full "$dir/accuracy_sweep" --stride 400009 --threads 1
elif [ "$variant" = fuzz ]; then
  mkdir -p "$dir/corpus"
  # FUSED_BCE_FUZZ_SEED fixes the mutation sequence (CI); unset, libFuzzer picks one.
  "$dir/kernel_fuzz" -seed="${FUSED_BCE_FUZZ_SEED:-0}" -max_total_time="${FUSED_BCE_FUZZ_SECONDS:-60}" -max_len=4096 -print_final_stats=1 "$dir/corpus"
else
  ctest --test-dir "$dir" --output-on-failure
fi
