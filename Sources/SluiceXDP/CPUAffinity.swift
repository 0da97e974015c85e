// Where workers run when the file does not say (`dataplane.cpus` empty): worker i on the i-th CPU the
// process may use, which `taskset`, systemd's CPUAffinity= or a cgroup cpuset decide. Each worker then
// has a core of its own as long as there are no more workers than CPUs, which is how Sluice sizes
// them by default (ReceiveQueues.resolvingWorkers).

import CXDP

/// The calling thread's CPU affinity.
public enum CPUAffinity {
    /// The most CPUs `allowedCPUs` reports (the size of the mask it reads).
    static let maximumCPUs = 1024

    /// The CPUs the calling thread may run on, in increasing order (empty if the kernel would not say).
    public static func allowedCPUs() -> [Int] {
        var cpus = [Int32](repeating: 0, count: maximumCPUs)
        let count = unsafe cpus.withUnsafeMutableBufferPointer { buffer in
            unsafe cxdp_allowed_cpus(buffer.baseAddress, Int32(buffer.count))
        }
        return count > 0 ? cpus.prefix(Int(count)).map(Int.init) : []
    }
}
