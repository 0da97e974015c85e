// Next hops that had no usable neighbour entry during a batch. The worker hands them to the
// kernel (which resolves ARP/ND on its own schedule) and clears the list; the frames themselves
// were dropped and counted, never sent to a guessed MAC (docs/design.md §1).

import SluicePacket

/// A small deduplicated set of pending neighbour resolutions.
public struct ResolutionRequests {
    public static let capacity = 16
    @usableFromInline var addresses: [IPAddress]
    @usableFromInline var interfaces: [Int32]
    @usableFromInline var storedCount = 0
    public var count: Int { storedCount }

    public init() {
        addresses = Array(repeating: IPAddress(v4: 0), count: Self.capacity)
        interfaces = Array(repeating: 0, count: Self.capacity)
    }

    /// Records a request; duplicates and overflow are ignored (the next batch asks again).
    @inlinable
    public mutating func add(_ address: IPAddress, interfaceIndex: Int32) {
        var i = 0
        while i < storedCount {
            if addresses[i] == address && interfaces[i] == interfaceIndex { return }
            i += 1
        }
        guard storedCount < Self.capacity else { return }
        addresses[storedCount] = address
        interfaces[storedCount] = interfaceIndex
        storedCount += 1
    }

    public subscript(index: Int) -> (address: IPAddress, interfaceIndex: Int32) {
        (addresses[index], interfaces[index])
    }

    public mutating func removeAll() { storedCount = 0 }
}
