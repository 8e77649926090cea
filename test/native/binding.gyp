{
  # Test-only helpers (npm run build:test-helpers): never part of the package.
  "targets": [
    {
      "target_name": "fp_state",
      "sources": ["fp_state.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"]
    }
  ]
}
