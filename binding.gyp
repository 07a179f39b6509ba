{
  "targets": [
    {
      "target_name": "divert_native",
      "sources": ["native/addon.c", "native/poller.c"],
      "cflags": ["-Wall", "-Wextra", "-O2", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
