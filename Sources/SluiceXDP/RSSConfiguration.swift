// A NIC's receive-side scaling setup as its driver reports it (ETHTOOL_GRSSH, what `ethtool -x`
// prints): the hash function, the secret key and the indirection table. With these Sluice can
// compute, in software, the RX queue a packet will arrive on (SluiceCore's ToeplitzHash and
// RSSIndirection), and so pick server-leg ports whose replies come back to the worker that owns the
// connection.
//
// Only the plain Toeplitz function is predictable that way: a driver reporting XOR or CRC32, or an
// input transformation (the symmetric-XOR of kernel 6.8's `ethtool -X … xfrm symmetric-xor`, which
// hashes src^dst instead of the fields), or no hash function at all, makes `problem` say why and
// `toeplitz` nil. Drivers without RSS (veth, most virtual devices) answer EOPNOTSUPP; `read` returns
// nil for them.
//
// The reply ends in a flexible array (the table, then the key), so the ioctl is two calls through
// cxdp_ethtool_get_rxfh: one that learns the sizes, one with room for them. Control plane only:
// called once at start, so the arrays it allocates are fine.

import CXDP
import SluiceCore

#if canImport(Glibc)
    import Glibc
#endif

/// The RSS hash function, key and indirection table of a network interface (context 0).
public struct RSSConfiguration: Sendable, Equatable {
    /// The hash function a driver reports (the kernel's ETH_RSS_HASH_* bits).
    public enum HashFunction: Sendable, Equatable, CustomStringConvertible {
        /// Toeplitz (ETH_RSS_HASH_TOP), the Microsoft RSS function: the only one Sluice can predict.
        case toeplitz
        /// ETH_RSS_HASH_XOR.
        case xor
        /// ETH_RSS_HASH_CRC32.
        case crc32
        /// The driver reported none (0): it does not tell which function it uses.
        case unreported
        /// Any other bit pattern, as reported.
        case other(UInt8)

        // The bit of each function, by its index in the kernel's "rss-hash-funcs" string set
        // (ETH_SS_RSS_HASH_FUNCS); the UAPI header does not export the ETH_RSS_HASH_ macros.
        static let toeplitzBit: UInt8 = 1 << 0
        static let xorBit: UInt8 = 1 << 1
        static let crc32Bit: UInt8 = 1 << 2

        /// The function a reply's `hfunc` byte names.
        public init(bits: UInt8) {
            switch bits {
            case 0: self = .unreported
            case Self.toeplitzBit: self = .toeplitz
            case Self.xorBit: self = .xor
            case Self.crc32Bit: self = .crc32
            default: self = .other(bits)
            }
        }

        /// The name `ethtool -x` prints.
        public var description: String {
            switch self {
            case .toeplitz: "toeplitz"
            case .xor: "xor"
            case .crc32: "crc32"
            case .unreported: "unreported"
            case .other(let bits): "unknown (bits \(bits))"
            }
        }
    }

    /// The active hash function.
    public var hashFunction: HashFunction
    /// The input transformation (the kernel's RXH_XFRM_* bits); 0 when the fields are hashed as they
    /// are, which Sluice's prediction needs.
    public var inputTransform: UInt8
    /// The secret key; empty when the driver has none to report.
    public var key: [UInt8]
    /// The RX queue of each indirection-table entry; empty when the driver has no table.
    public var indirection: [UInt32]

    public init(hashFunction: HashFunction, inputTransform: UInt8 = 0, key: [UInt8], indirection: [UInt32]) {
        self.hashFunction = hashFunction
        self.inputTransform = inputTransform
        self.key = key
        self.indirection = indirection
    }

    /// Why Sluice cannot predict RX queues from this configuration, or nil when it can.
    public var problem: String? {
        guard hashFunction == .toeplitz else {
            return "the RSS hash function is \(hashFunction), not toeplitz (ethtool -X <interface> hfunc toeplitz)"
        }
        guard inputTransform == 0 else {
            return "the RSS input is transformed (xfrm bits \(inputTransform)); "
                + "the hash no longer follows the addresses and ports"
        }
        guard key.count >= ToeplitzHash.minimumKeyBytes else {
            return "the RSS key has \(key.count) bytes; predicting the hash needs \(ToeplitzHash.minimumKeyBytes)"
        }
        guard !indirection.isEmpty else { return "the driver reports no RSS indirection table" }
        return nil
    }

    /// The hash the NIC computes, or nil when `problem` says why it cannot be predicted. Each access
    /// tabulates the key afresh (36 KiB): keep the result.
    public var toeplitz: ToeplitzHash? {
        problem == nil ? ToeplitzHash(key: key) : nil
    }

    /// The NIC's indirection table, or nil when the driver reports none.
    public var table: RSSIndirection? { RSSIndirection(entries: indirection) }

    /// Reads the RSS configuration of `interface` (context 0) in the calling thread's network
    /// namespace.
    /// - Returns: nil when the driver has no RSS to report (EOPNOTSUPP).
    /// - Throws: `XDPError` for any other failure (ENODEV: no such interface; EINVAL: the sizes
    ///   changed between the two calls, for instance by a concurrent `ethtool -L`).
    public static func read(interface: String) throws(XDPError) -> RSSConfiguration? {
        var tableSize: UInt32 = 0
        var keySize: UInt32 = 0
        var bits: UInt8 = 0
        var transform: UInt8 = 0
        guard unsafe cxdp_ethtool_get_rxfh(interface, &tableSize, &keySize, &bits, &transform, nil, nil) == 0 else {
            if errno == EOPNOTSUPP { return nil }
            throw XDPError.fromErrno("read RSS table and key sizes", interface)
        }
        var indirection = [UInt32](repeating: 0, count: Int(tableSize))
        var key = [UInt8](repeating: 0, count: Int(keySize))
        if tableSize != 0 || keySize != 0 {
            let result = unsafe indirection.withUnsafeMutableBufferPointer { table in
                unsafe key.withUnsafeMutableBufferPointer { keyBytes in
                    unsafe cxdp_ethtool_get_rxfh(
                        interface, &tableSize, &keySize, &bits, &transform, table.baseAddress, keyBytes.baseAddress)
                }
            }
            guard result == 0 else { throw XDPError.fromErrno("read RSS table and key", interface) }
        }
        return RSSConfiguration(
            hashFunction: HashFunction(bits: bits), inputTransform: transform, key: key, indirection: indirection)
    }
}
