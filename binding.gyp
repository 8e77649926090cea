{
  # The release build (node-gyp-build at install, prebuildify). Sources and GCC/clang flags come from
  # native/build-config.json, which CMakeLists.txt reads too.
  "variables": {
    "config": "require('./native/build-config.json')"
  },
  "targets": [
    {
      "target_name": "fused_bce",
      "sources": ["<!@(node -p \"<(config).addonSources.concat(<(config).kernelSources).join(' ')\")"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["<!@(node -p \"<(config).addonDefines.join(' ')\")"],
      "cflags_cc": ["<!@(node -p \"<(config).cflags.concat(<(config).gccOnlyCflags).join(' ')\")"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20", "-O2"],
      "conditions": [
        ["target_arch=='x64' and OS!='win'", { "cflags_cc": ["<!@(node -p \"<(config).archCflags.x64.join(' ')\")"] }],
        ["target_arch=='arm64' and OS!='win' and OS!='mac'", { "cflags_cc": ["<!@(node -p \"<(config).archCflags.arm64.join(' ')\")"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
            "GCC_OPTIMIZATION_LEVEL": "3",
            "OTHER_CPLUSPLUSFLAGS": ["<!@(node -p \"<(config).cflags.join(' ')\")"],
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
