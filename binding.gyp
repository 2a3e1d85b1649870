{
  "targets": [
    {
      "target_name": "ipckit",
      "sources": ["<!@(ls -1 src/native/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags_cc": ["-Wall", "-Wextra", "-fvisibility=hidden", "-std=gnu++20", "-fexceptions"],
      "libraries": ["-lrt", "-lpthread"]
    }
  ]
}
