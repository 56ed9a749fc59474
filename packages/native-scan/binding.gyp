{
  "targets": [
    {
      "target_name": "native_scan",
      "sources": ["src/native_scan.c"],
      "cflags": ["-O2", "-pthread", "-Wall", "-Wextra"],
      "ldflags": ["-pthread"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2"] }
    }
  ]
}
