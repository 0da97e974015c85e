// Setup errors of the AF_XDP runtime as one typed value: which operation failed, on what, and the errno,
// rendered as a single line an operator can act on (NIO's `IOError`, swift-system's `Errno`). The hot path
// never throws; only setup, map updates and teardown do.
//
// libbpf and libxdp report failures as negative errno return values, ERR_PTR-encoded pointers, or NULL with
// errno set; each call site converts to this type at the CXDP boundary, so no raw code escapes SluiceXDP.

#if canImport(Glibc)
    import Glibc
#endif

/// A failed setup operation of the XDP runtime.
public struct XDPError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What failed, e.g. "attach XDP program".
    public var operation: String
    /// The object it failed on, e.g. "interface eth1 (ifindex 3)"; may be empty.
    public var subject: String
    /// The positive errno value, or 0 when the failure has no errno.
    public var code: Int32
    /// Extra context (a hint, or the last library message), may be empty.
    public var detail: String

    public init(operation: String, subject: String = "", code: Int32, detail: String = "") {
        self.operation = operation
        self.subject = subject
        self.code = code
        self.detail = detail
    }

    /// One line: operation, subject, errno text, and a hint for the common causes.
    public var description: String {
        var line = operation
        if !subject.isEmpty { line += " on \(subject)" }
        line += " failed"
        if code != 0 { line += ": \(XDPError.text(of: code))" }
        if let hint = XDPError.hint(for: code, operation: operation) { line += " (\(hint))" }
        if !detail.isEmpty { line += " — \(detail)" }
        return line
    }

    /// The C library's text for an errno value.
    public static func text(of code: Int32) -> String {
        guard let text = unsafe strerror(code) else { return "errno \(code)" }
        return unsafe String(cString: text)
    }

    /// What an operator should do about the errno values the kernel uses for missing privileges and
    /// features.
    static func hint(for code: Int32, operation: String) -> String? {
        switch code {
        case EPERM, EACCES:
            return "needs CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW, CAP_IPC_LOCK (run as root)"
        case ENOBUFS where operation.contains("UMEM"):
            return "UMEM exceeds RLIMIT_MEMLOCK: grant CAP_IPC_LOCK, raise the limit, or use fewer frames"
        case EOPNOTSUPP where operation.contains("ntuple"):
            return "the driver has no receive classification rules (`ethtool -k IF` shows ntuple-filters); "
                + "set dataplane.ntuple_rules: false to steer replies by RSS-aware ports and hand-off instead"
        case EOPNOTSUPP:
            return "not supported by this driver or kernel; try mode skb"
        case ENODEV:
            return "no such interface in this network namespace"
        case EBUSY where operation.contains("lock"):
            return nil
        case EBUSY where operation.contains("attach"):
            return "another XDP program is attached; pass force to replace it"
        case EBUSY:
            return "the queue is still held by another AF_XDP socket"
        default:
            return nil
        }
    }

    /// The current thread's errno as an `XDPError`.
    static func fromErrno(_ operation: String, _ subject: String = "", detail: String = "") -> XDPError {
        XDPError(operation: operation, subject: subject, code: errno, detail: detail)
    }

    /// A libbpf/libxdp negative return value as an `XDPError`.
    static func fromReturn(_ value: Int32, _ operation: String, _ subject: String = "", detail: String = "")
        -> XDPError
    {
        XDPError(operation: operation, subject: subject, code: value < 0 ? -value : value, detail: detail)
    }
}
