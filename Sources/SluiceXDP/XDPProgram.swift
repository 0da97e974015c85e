// The steering program (Sources/BPF/sluice_steer.bpf.c) attached to one interface.
//
// The object is decoded from SluiceBPF's embedded base64 and opened from memory: libbpf parses the ELF in
// place, so the buffer is owned here until the object is closed. libxdp does the attach (netlink, legacy
// mode when there is no bpffs, its dispatcher otherwise). Netlink attachments outlive the process, so
// `init` first removes a `sluice_steer` left by a crashed run (see XDPProgram+Stale.swift) and `detach()`
// must run on every exit path; `deinit` detaches as a last resort.
//
// One instance per interface, each with its own maps: the XSKMAP is indexed by rx queue, and queue 0 of
// the external and of the internal interface are different sockets. The control plane fills both
// programs' service maps from the same configuration.
//
// Not thread-safe: call from one thread at a time (DataPlaneRuntime serialises access).

import CXDP
import SluiceBPF
import SluicePacket

#if canImport(Glibc)
    import Glibc
#endif

/// The XDP steering program, loaded and attached to one interface.
@safe
public final class XDPProgram {
    /// The interface it is attached to.
    public let interfaceIndex: Int32
    /// A name for messages ("eth1", or "ifindex 3").
    public let interfaceName: String
    /// The mode it is attached in: `.native` or `.skb` (never `.auto`).
    public private(set) var mode: XDPMode
    /// False after `detach()`.
    public private(set) var isAttached: Bool

    private let objectBytes: UnsafeMutableRawBufferPointer
    private let object: OpaquePointer
    let program: OpaquePointer
    let vipsMap: Int32
    let lipsMap: Int32
    let configMap: Int32
    let xsksMap: Int32
    let statsMap: Int32
    let cookieKeysMap: Int32
    let vipAddressesMap: Int32
    /// What each installed service's `sluice_vips` value says: nil = steer only, else answer its SYNs.
    var installedServices: [SteeredService: SynAnswerParameters?] = [:]
    var installedLocalAddresses: Set<IPAddress> = []
    /// The port range and flags last written to `sluice_config` (it is written whole).
    var portRange: ClosedRange<UInt16>?
    var configFlags: UInt32 = 0
    /// The slot of `sluice_cookie_keys` that holds the current cookie key (0 or 1).
    var cookieSlot: UInt32 = 0
    /// Whether frames this program sends with XDP_TX reach the wire on this interface; when false,
    /// `apply(configuration:)` installs no SYN answering (see XDPTransmitCheck).
    public var transmitWorks = true
    /// False for the internal interface of a two-interface gateway: SYNs to a VIP belong on the
    /// external side, so that program never answers them (the workers drop them as `wrong_side`).
    public var answersSYNs = true

    /// Loads the embedded program and attaches it.
    /// - Parameters:
    ///   - interfaceIndex: the ifindex to attach to.
    ///   - interfaceName: used in error messages.
    ///   - mode: `.auto` tries native, then skb.
    ///   - force: also remove XDP programs other than `sluice_steer` found on the interface.
    /// - Throws: `XDPError` when the program cannot be decoded, loaded or attached.
    public init(interfaceIndex: Int32, interfaceName: String? = nil, mode: XDPMode, force: Bool = false)
        throws(XDPError)
    {
        LibraryLog.install()
        let name = interfaceName ?? "ifindex \(interfaceIndex)"
        self.interfaceIndex = interfaceIndex
        self.interfaceName = name
        try XDPProgram.removeStale(interfaceIndex: interfaceIndex, interfaceName: name, force: force)

        guard let bytes = Base64.decode(sluiceSteerObject), !bytes.isEmpty else {
            throw XDPError(operation: "decode embedded BPF object", code: 0, detail: "corrupt base64")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        unsafe buffer.copyBytes(from: bytes)
        LibraryLog.clear()
        guard let object = unsafe bpf_object__open_mem(buffer.baseAddress, buffer.count, nil) else {
            let error = XDPError.fromErrno("open BPF object", detail: LibraryLog.recent())
            unsafe buffer.deallocate()
            throw error
        }
        var options = unsafe xdp_program_opts()
        unsafe options.sz = MemoryLayout<xdp_program_opts>.size
        unsafe options.obj = object
        let created = unsafe sluiceSteerProgramName.withCString { programName in
            unsafe options.prog_name = programName
            return unsafe xdp_program__create(&options)
        }
        let createError = unsafe libxdp_get_error(UnsafeRawPointer(created))
        guard createError == 0, let program = unsafe created else {
            unsafe bpf_object__close(object)
            unsafe buffer.deallocate()
            throw XDPError.fromReturn(Int32(truncatingIfNeeded: createError), "create XDP program")
        }

        let attachedMode: XDPMode
        let maps: [Int32]
        do throws(XDPError) {
            attachedMode = try unsafe XDPProgram.attach(program, to: interfaceIndex, name: name, mode: mode)
            do throws(XDPError) {
                maps = try [
                    SLUICE_MAP_VIPS, SLUICE_MAP_LIPS, SLUICE_MAP_CONFIG, SLUICE_MAP_XSKS, SLUICE_MAP_STATS,
                    SLUICE_MAP_COOKIE_KEYS, SLUICE_MAP_VIP_ADDRESSES,
                ]
                .map { (map) throws(XDPError) in try unsafe XDPProgram.findMap(map, in: object, interfaceName: name)
                }
            } catch {
                _ = unsafe xdp_program__detach(program, interfaceIndex, attachedMode.attachMode, 0)
                throw error
            }
        } catch {
            unsafe xdp_program__close(program)
            unsafe bpf_object__close(object)
            unsafe buffer.deallocate()
            throw error
        }

        unsafe self.objectBytes = buffer
        unsafe self.object = object
        unsafe self.program = program
        self.mode = attachedMode
        self.isAttached = true
        self.vipsMap = maps[0]
        self.lipsMap = maps[1]
        self.configMap = maps[2]
        self.xsksMap = maps[3]
        self.statsMap = maps[4]
        self.cookieKeysMap = maps[5]
        self.vipAddressesMap = maps[6]
    }

    deinit {
        if isAttached { try? detach() }
        unsafe xdp_program__close(program)
        unsafe bpf_object__close(object)
        unsafe objectBytes.deallocate()
    }

    /// Removes the program from the interface. Idempotent.
    /// The corresponding C function is `xdp_program__detach`.
    public func detach() throws(XDPError) {
        guard isAttached else { return }
        LibraryLog.clear()
        let rc = unsafe xdp_program__detach(program, interfaceIndex, mode.attachMode, 0)
        // ENOENT/EINVAL: the program is no longer there (someone removed it); nothing left to undo.
        guard rc == 0 || rc == -ENOENT || rc == -EINVAL else {
            throw XDPError.fromReturn(rc, "detach XDP program", interfaceName, detail: LibraryLog.recent())
        }
        isAttached = false
    }

    /// The kernel's id of the loaded program (what `ip link` shows).
    public var programID: UInt32 { unsafe xdp_program__id(program) }

    private static func attach(_ program: OpaquePointer, to ifindex: Int32, name: String, mode: XDPMode)
        throws(XDPError) -> XDPMode
    {
        let attempts: [XDPMode] = mode == .auto ? [.native, .skb] : [mode]
        var failures: [String] = []
        var lastError: XDPError?
        for attempt in attempts {
            LibraryLog.clear()
            let rc = unsafe xdp_program__attach(program, ifindex, attempt.attachMode, 0)
            if rc == 0 { return attempt }
            let error = XDPError.fromReturn(
                rc, "attach XDP program in \(attempt.rawValue) mode", name, detail: LibraryLog.recent())
            failures.append("\(attempt.rawValue): \(XDPError.text(of: error.code))")
            lastError = error
            // Missing privileges fail the same way in every mode.
            if error.code == EPERM || error.code == EACCES { break }
        }
        var error = lastError ?? XDPError(operation: "attach XDP program", subject: name, code: EINVAL)
        if failures.count > 1 { error.detail = "tried " + failures.joined(separator: ", ") }
        throw error
    }

    private static func findMap(_ name: String, in object: OpaquePointer, interfaceName: String) throws(XDPError)
        -> Int32
    {
        let fd = unsafe bpf_object__find_map_fd_by_name(object, name)
        guard fd >= 0 else { throw XDPError.fromReturn(fd, "find BPF map \(name)", interfaceName) }
        return fd
    }
}

extension XDPProgram {
    /// The embedded BPF object's bytes (ELF), as loaded by `init`.
    public static func embeddedObject() -> [UInt8]? {
        Base64.decode(sluiceSteerObject)
    }
}
