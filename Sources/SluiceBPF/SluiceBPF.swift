// SluiceBPF holds the BPF objects compiled from Sources/BPF/*.bpf.c at build time by Plugins/BPFPlugin,
// as base64 `StaticString`s generated next to this file (`sluiceSteerObject` for sluice_steer.bpf.c).
// SluiceXDP decodes and loads them; nothing here runs on the hot path. Names of the program and its maps
// are in Sources/CXDP/sluice_shared.h, shared with the BPF C.

/// The name of the XDP function in `sluiceSteerObject` (its `SEC("xdp")` entry point).
public let sluiceSteerProgramName = "sluice_steer"
