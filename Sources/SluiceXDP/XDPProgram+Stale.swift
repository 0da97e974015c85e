// A crashed or killed run leaves its program attached: netlink attachments belong to the interface, not to
// the process (docs/afxdp.md §4), and the next attach then fails with EBUSY. At start-up we look at what
// is attached and remove our own leftovers, identified by program name. A program of another tool is left
// alone unless the operator forces it: in legacy (single-program) mode our attach then fails with a clear
// message; under libxdp's dispatcher both can coexist.

import CXDP
import SluiceBPF

#if canImport(Glibc)
    import Glibc
#endif

extension XDPProgram {
    /// The names of the XDP programs attached to an interface (empty when none).
    public static func attachedProgramNames(interfaceIndex: Int32) throws(XDPError) -> [String] {
        guard let multiprog = try unsafe openAttached(interfaceIndex: interfaceIndex, name: "ifindex \(interfaceIndex)")
        else { return [] }
        defer { unsafe xdp_multiprog__close(multiprog) }
        return unsafe programs(of: multiprog).map { unsafe String(cString: xdp_program__name($0)) }
    }

    /// Removes a `sluice_steer` program left on the interface by an earlier run.
    /// - Parameters:
    ///   - force: remove any XDP program, not only `sluice_steer`.
    /// - Returns: the names of the programs removed.
    /// - Throws: `XDPError` with EBUSY when another tool's program occupies the interface in legacy mode and
    ///   `force` is false, or when detaching fails.
    @discardableResult
    public static func removeStale(interfaceIndex: Int32, interfaceName: String? = nil, force: Bool = false)
        throws(XDPError) -> [String]
    {
        let name = interfaceName ?? "ifindex \(interfaceIndex)"
        guard let multiprog = try unsafe openAttached(interfaceIndex: interfaceIndex, name: name) else { return [] }
        defer { unsafe xdp_multiprog__close(multiprog) }

        let programs = unsafe programs(of: multiprog)
        let names = unsafe programs.map { unsafe String(cString: xdp_program__name($0)) }
        let ours = names.filter { $0 == sluiceSteerProgramName }
        if unsafe xdp_multiprog__is_legacy(multiprog) || force {
            if !force && ours.isEmpty {
                throw XDPError(
                    operation: "attach XDP program", subject: name, code: EBUSY,
                    detail: "interface already runs XDP program '\(names.joined(separator: ", "))'")
            }
            LibraryLog.clear()
            let rc = unsafe xdp_multiprog__detach(multiprog)
            guard rc == 0 else {
                throw XDPError.fromReturn(rc, "remove stale XDP program", name, detail: LibraryLog.recent())
            }
            return names
        }
        // Dispatcher: take out only our own component programs.
        let mode = unsafe xdp_multiprog__attach_mode(multiprog)
        for index in names.indices where names[index] == sluiceSteerProgramName {
            LibraryLog.clear()
            let rc = unsafe xdp_program__detach(programs[index], interfaceIndex, mode, 0)
            guard rc == 0 else {
                throw XDPError.fromReturn(rc, "remove stale XDP program", name, detail: LibraryLog.recent())
            }
        }
        return ours
    }

    /// The attached programs' multiprog handle, or nil when nothing is attached.
    private static func openAttached(interfaceIndex: Int32, name: String) throws(XDPError) -> OpaquePointer? {
        LibraryLog.install()
        LibraryLog.clear()
        guard let multiprog = unsafe xdp_multiprog__get_from_ifindex(interfaceIndex) else { return nil }
        let error = unsafe libxdp_get_error(UnsafeRawPointer(multiprog))
        if error == -Int(ENOENT) { return nil }
        guard error == 0 else {
            throw XDPError.fromReturn(
                Int32(truncatingIfNeeded: error), "inspect attached XDP programs", name, detail: LibraryLog.recent())
        }
        return unsafe multiprog
    }

    /// The programs of a multiprog: the single program in legacy mode, the components under a dispatcher.
    /// They are owned by the multiprog and valid until it is closed.
    private static func programs(of multiprog: OpaquePointer) -> [OpaquePointer] {
        var result: [OpaquePointer] = unsafe []
        if unsafe xdp_multiprog__is_legacy(multiprog) {
            if let main = unsafe xdp_multiprog__main_prog(multiprog) { unsafe result.append(main) }
        } else {
            var program = unsafe xdp_multiprog__next_prog(nil, multiprog)
            while let current = unsafe program {
                unsafe result.append(current)
                unsafe program = xdp_multiprog__next_prog(current, multiprog)
            }
        }
        if let hardware = unsafe xdp_multiprog__hw_prog(multiprog) { unsafe result.append(hardware) }
        return unsafe result
    }
}
