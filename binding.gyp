{
  "targets": [
    {
      "target_name": "seccomp_recorder",
      "sources": [
        "native/addon.c",
        "native/addon_oci.c",
        "native/oci_socket.c",
        "native/notify_session.c",
        "native/observations.c",
        "native/fd_kind.c",
        "native/proc_util.c",
        "native/addon_bpf.c",
        "native/bpf_recorder.c",
        "native/bpf_asm.c",
        "native/addon_peercred.c",
        "native/addon_flock.c",
        "native/audit_scan.c",
        "native/recv_probe.c"
      ],
      "cflags": ["-Wall", "-Wextra", "-O2", "-std=gnu11"],
      "libraries": ["-lpthread"]
    },
    {
      "target_name": "seccomp-recorder-launcher",
      "type": "executable",
      "sources": ["native/launcher.c"],
      "cflags": ["-Wall", "-Wextra", "-O2", "-std=gnu11"]
    },
    {
      "target_name": "seccomp-recorder-abi-probe",
      "type": "executable",
      "sources": ["native/abi_probe.c"],
      "cflags": ["-Wall", "-Wextra", "-O2", "-std=gnu11"]
    }
  ]
}
