{
  "targets": [
    {
      "target_name": "fused_bce",
      "sources": [
        "native/binding/addon.cc",
        "native/dispatch/dispatch.cc",
        "native/dispatch/cpu_features.cc",
        "native/dispatch/loss_sum_f64.cc",
        "native/isa/scalar.cc",
        "native/isa/avx2.cc",
        "native/isa/avx512.cc",
        "native/isa/neon.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-exceptions", "-fvisibility=hidden", "-Wno-psabi", "-Wno-maybe-uninitialized"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20", "-O2"],
      "conditions": [
        ["target_arch=='x64' and OS!='win'", { "cflags_cc": ["-march=x86-64"] }],
        ["target_arch=='arm64' and OS!='win' and OS!='mac'", { "cflags_cc": ["-march=armv8-a"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
            "GCC_OPTIMIZATION_LEVEL": "3",
            "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off", "-fvisibility=hidden", "-Wno-psabi", "-Wno-maybe-uninitialized"],
            "MACOSX_DEPLOYMENT_TARGET": "10.15"
          }
        }],
        ["OS=='win'", {
          "msvs_settings": {
            "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/O2", "/fp:precise"], "ExceptionHandling": 0 }
          }
        }]
      ]
    }
  ]
}
