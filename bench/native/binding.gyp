{
  # The benchmark's own addon (npm run build:bench; x86-64 only): the current kernel, the frozen 0.1.0 kernel, a
  # careless float sketch, the bandwidth baseline and no-op Node-API functions. Flags from native/build-config.json.
  "variables": {
    "config": "require('../../native/build-config.json')"
  },
  "targets": [
    {
      "target_name": "fused_bce_bench",
      "sources": [
        "bench_addon.cc", "kernel_010.cc", "sketch.cc",
        "<!@(node -p \"<(config).kernelSources.map(s => '../../' + s).join(' ')\")"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["<!@(node -p \"<(config).cflags.concat(<(config).gccOnlyCflags, <(config).archCflags.x64).join(' ')\")"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20", "-O2"]
    }
  ]
}
