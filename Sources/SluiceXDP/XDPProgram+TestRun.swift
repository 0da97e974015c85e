// BPF_PROG_TEST_RUN: runs the loaded steering program on a frame supplied from userspace and returns its
// XDP action, and the frame as the program left it, without any traffic (Katran's BpfTester). Tests use it
// to check classification frame by frame and the SYN-ACKs the program writes; it also serves as a start-up
// self-check. The program's counters move as for a real frame.

import CXDP

#if canImport(Glibc)
    import Glibc
#endif

extension XDPProgram {
    /// Runs the program once on `frame` (as if received on queue 0) and returns the XDP action
    /// (1 = XDP_DROP, 2 = XDP_PASS, 4 = XDP_REDIRECT).
    /// The corresponding C function is `bpf_prog_test_run_opts`.
    public func testRun(frame: [UInt8]) throws(XDPError) -> UInt32 {
        try testRunWithOutput(frame: frame).action
    }

    /// Runs the program once on `frame` and returns the XDP action (3 = XDP_TX) and the frame after the
    /// program: rewritten in place, possibly shorter or longer (`bpf_xdp_adjust_tail`).
    /// The corresponding C function is `bpf_prog_test_run_opts`.
    public func testRunWithOutput(frame: [UInt8]) throws(XDPError) -> (action: UInt32, frame: [UInt8]) {
        let result = try testRun(frame: frame, repeat: 1)
        return (result.action, result.frame)
    }

    /// Runs the program `repeat` times on `frame` and returns the XDP action of the last run and the
    /// kernel's measure of one run in nanoseconds (the mean over the runs, taken around the program
    /// alone). A program that rewrites the frame sees its own output from the second run on, so time a
    /// SYN answer with `repeat` 1 and many calls. The corresponding C function is `bpf_prog_test_run_opts`.
    public func timedTestRun(frame: [UInt8], repeat: UInt32 = 1) throws(XDPError) -> (
        action: UInt32, nanoseconds: UInt32
    ) {
        let result = try testRun(frame: frame, repeat: Swift.max(1, `repeat`))
        return (result.action, result.nanoseconds)
    }

    private func testRun(frame: [UInt8], repeat: UInt32) throws(XDPError) -> (
        action: UInt32, frame: [UInt8], nanoseconds: UInt32
    ) {
        guard frame.count >= 14 else {
            throw XDPError(operation: "test-run XDP program", code: EINVAL, detail: "frame shorter than Ethernet")
        }
        let fd = unsafe xdp_program__fd(program)
        var input = frame
        // The kernel's test buffer is one page; an answer is never longer than that.
        var output = [UInt8](repeating: 0, count: 4096)
        typealias Outcome = (rc: Int32, action: UInt32, length: Int, nanoseconds: UInt32)
        let result: Outcome = unsafe input.withUnsafeMutableBytes { bytes in
            unsafe output.withUnsafeMutableBytes { out in
                var options = unsafe bpf_test_run_opts()
                unsafe options.sz = MemoryLayout<bpf_test_run_opts>.size
                unsafe options.data_in = UnsafeRawPointer(bytes.baseAddress)
                unsafe options.data_size_in = UInt32(bytes.count)
                unsafe options.data_out = out.baseAddress
                unsafe options.data_size_out = UInt32(out.count)
                unsafe options.repeat = Int32(truncatingIfNeeded: `repeat`)
                let rc = unsafe bpf_prog_test_run_opts(fd, &options)
                return unsafe (rc, options.retval, Int(options.data_size_out), options.duration)
            }
        }
        guard result.rc == 0 else { throw XDPError.fromReturn(result.rc, "test-run XDP program", interfaceName) }
        return (result.action, Array(output.prefix(min(result.length, output.count))), result.nanoseconds)
    }
}
