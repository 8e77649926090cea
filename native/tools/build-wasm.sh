#!/usr/bin/env bash
# Builds native/wasm/fused_bce.wasm: the kernel for WebAssembly SIMD128 with Debian's clang and wasi-libc
# (packages clang, lld, wasi-libc, libc++-14-dev-wasm32, libc++abi-14-dev-wasm32, libclang-rt-14-dev-wasm32).
# The build is reproducible: CI rebuilds it and checks that the shipped file matches (npm run test:wasm-build).
#   bash native/tools/build-wasm.sh [output]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-native/wasm/fused_bce.wasm}"
mkdir -p "$(dirname "$out")"
clang++ --target=wasm32-wasi -std=c++17 -O3 -msimd128 -ffp-contract=off -fno-exceptions -fno-rtti -fvisibility=hidden \
  -mexec-model=reactor -Wall -Wextra -Wno-unused-parameter \
  -Wl,--strip-all -Wl,--export=malloc -Wl,--export=free \
  native/binding/wasm.cc native/binding/labels.cc native/isa/wasm.cc native/kernel/loss_sum_f64.cc -o "$out"
echo "built $out ($(wc -c < "$out") bytes)"
# The same bytes for the browser build, embedded in base64 (beside the output when it is not the shipped file).
if [ "$out" = native/wasm/fused_bce.wasm ]; then
  node native/tools/wasm-bytes.js "$out" src/generated/wasm-bytes.ts
else
  node native/tools/wasm-bytes.js "$out" "${out%.wasm}-bytes.ts"
fi
