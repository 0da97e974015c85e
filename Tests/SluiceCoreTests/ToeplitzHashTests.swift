// The RSS Toeplitz hash against the verification suite of Microsoft's "Verifying the RSS Hash
// Calculation" (the same table appears as "RSS Verification Suite" in Intel's 82599 datasheet,
// §7.1.2.8.3): the default key, five IPv4 and three IPv6 flows, each hashed over the addresses
// alone and over addresses and ports. Then the tabulated hash against a bit-by-bit reference that
// follows the specification's pseudocode on random flows and keys, and the indirection table.

import SluicePacket
import Testing

@testable import SluiceCore

/// One row of the verification table: the flow as the specification names it and both hashes.
struct RSSVector: Sendable, CustomTestStringConvertible {
    var source: String
    var sourcePort: UInt16
    var destination: String
    var destinationPort: UInt16
    var addressesOnly: UInt32
    var withPorts: UInt32
    var testDescription: String { "\(source):\(sourcePort) → \(destination):\(destinationPort)" }
}

private let v4Vectors: [RSSVector] = [
    RSSVector(
        source: "66.9.149.187", sourcePort: 2794, destination: "161.142.100.80", destinationPort: 1766,
        addressesOnly: 0x323e_8fc2, withPorts: 0x51cc_c178),
    RSSVector(
        source: "199.92.111.2", sourcePort: 14230, destination: "65.69.140.83", destinationPort: 4739,
        addressesOnly: 0xd718_262a, withPorts: 0xc626_b0ea),
    RSSVector(
        source: "24.19.198.95", sourcePort: 12898, destination: "12.22.207.184", destinationPort: 38024,
        addressesOnly: 0xd2d0_a5de, withPorts: 0x5c2b_394a),
    RSSVector(
        source: "38.27.205.30", sourcePort: 48228, destination: "209.142.163.6", destinationPort: 2217,
        addressesOnly: 0x8298_9176, withPorts: 0xafc7_327f),
    RSSVector(
        source: "153.39.163.191", sourcePort: 44251, destination: "202.188.127.2", destinationPort: 1303,
        addressesOnly: 0x5d18_09c5, withPorts: 0x10e8_28a2),
]

private let v6Vectors: [RSSVector] = [
    RSSVector(
        source: "3ffe:2501:200:1fff::7", sourcePort: 2794, destination: "3ffe:2501:200:3::1",
        destinationPort: 1766, addressesOnly: 0x2cc1_8cd5, withPorts: 0x4020_7d3d),
    RSSVector(
        source: "3ffe:501:8::260:97ff:fe40:efab", sourcePort: 14230, destination: "ff02::1",
        destinationPort: 4739, addressesOnly: 0x0f0c_461c, withPorts: 0xdde5_1bbf),
    RSSVector(
        source: "3ffe:1900:4545:3:200:f8ff:fe21:67cf", sourcePort: 44251, destination: "fe80::200:f8ff:fe21:67cf",
        destinationPort: 38024, addressesOnly: 0x4b61_e985, withPorts: 0x02d1_feef),
]

/// The specification's pseudocode, one input bit at a time: for each set bit, xor in the 32 key
/// bits starting at that bit's position.
private func referenceHash(key: [UInt8], input: [UInt8]) -> UInt32 {
    func keyBit(_ index: Int) -> UInt32 {
        UInt32(key[index / 8] >> (7 - index % 8) & 1)
    }
    var result: UInt32 = 0
    for bitIndex in 0..<(input.count * 8) where input[bitIndex / 8] >> (7 - bitIndex % 8) & 1 == 1 {
        var window: UInt32 = 0
        for offset in 0..<32 { window = window << 1 | keyBit(bitIndex + offset) }
        result ^= window
    }
    return result
}

/// The input bytes RSS hashes, in wire order: address bytes big-endian, then the ports.
private func inputBytes(_ source: IPAddress, _ destination: IPAddress, ports: (UInt16, UInt16)?) -> [UInt8] {
    func bytes(_ address: IPAddress) -> [UInt8] {
        if address.isV6 {
            return (0..<8).map { UInt8(truncatingIfNeeded: address.high >> (56 - 8 * UInt64($0))) }
                + (0..<8).map { UInt8(truncatingIfNeeded: address.low >> (56 - 8 * UInt64($0))) }
        }
        return (0..<4).map { UInt8(truncatingIfNeeded: address.v4 >> (24 - 8 * UInt32($0))) }
    }
    var input = bytes(source) + bytes(destination)
    if let (sourcePort, destinationPort) = ports {
        input += [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), UInt8(destinationPort >> 8)]
        input += [UInt8(destinationPort & 0xff)]
    }
    return input
}

private func address(_ text: String) throws -> IPAddress {
    try #require(IPAddress(text), "bad address \(text)")
}

@Suite struct ToeplitzHashTests {
    let hash = ToeplitzHash(key: ToeplitzHash.microsoftDefaultKey)!

    @Test(arguments: v4Vectors)
    func ipv4Vectors(_ vector: RSSVector) throws {
        let source = try address(vector.source)
        let destination = try address(vector.destination)
        #expect(hash.hashAddresses(source: source, destination: destination) == vector.addressesOnly)
        let full = hash.hash(
            source: source, destination: destination, sourcePort: vector.sourcePort,
            destinationPort: vector.destinationPort)
        #expect(full == vector.withPorts)
    }

    @Test(arguments: v6Vectors)
    func ipv6Vectors(_ vector: RSSVector) throws {
        let source = try address(vector.source)
        let destination = try address(vector.destination)
        #expect(source.isV6 && destination.isV6)
        #expect(hash.hashAddresses(source: source, destination: destination) == vector.addressesOnly)
        let full = hash.hash(
            source: source, destination: destination, sourcePort: vector.sourcePort,
            destinationPort: vector.destinationPort)
        #expect(full == vector.withPorts)
    }

    /// The reference implementation itself reproduces the table, so agreeing with it below means
    /// agreeing with the specification.
    @Test func referenceMatchesVectors() throws {
        let key = ToeplitzHash.microsoftDefaultKey
        for vector in v4Vectors + v6Vectors {
            let source = try address(vector.source)
            let destination = try address(vector.destination)
            #expect(referenceHash(key: key, input: inputBytes(source, destination, ports: nil)) == vector.addressesOnly)
            let input = inputBytes(source, destination, ports: (vector.sourcePort, vector.destinationPort))
            #expect(referenceHash(key: key, input: input) == vector.withPorts)
        }
    }

    /// Random flows of both families under random keys (40 and 52 bytes): table and reference agree.
    @Test func tableMatchesReferenceOnRandomInputs() throws {
        var generator = SystemRandomNumberGenerator()
        for keyLength in [ToeplitzHash.minimumKeyBytes, 52] {
            for _ in 0..<8 {
                let key = (0..<keyLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
                let hash = try #require(ToeplitzHash(key: key))
                for flow in 0..<64 {
                    let v6 = flow % 2 == 1
                    func randomAddress() -> IPAddress {
                        v6
                            ? IPAddress(v6High: generator.next(), low: generator.next())
                            : IPAddress(v4: UInt32.random(in: .min ... .max, using: &generator))
                    }
                    let source = randomAddress()
                    let destination = randomAddress()
                    let ports = (UInt16.random(in: .min ... .max), UInt16.random(in: .min ... .max))
                    #expect(
                        hash.hashAddresses(source: source, destination: destination)
                            == referenceHash(key: key, input: inputBytes(source, destination, ports: nil)))
                    #expect(
                        hash.hash(
                            source: source, destination: destination, sourcePort: ports.0, destinationPort: ports.1)
                            == referenceHash(key: key, input: inputBytes(source, destination, ports: ports)))
                }
            }
        }
    }

    /// Every single-bit input, so no table position or bit is missed by chance.
    @Test func everySingleBitMatchesReference() {
        let key = ToeplitzHash.microsoftDefaultKey
        for byte in 0..<32 {
            for bit in 0..<8 {
                var input = [UInt8](repeating: 0, count: 32)
                input[byte] = 0x80 >> bit
                func word(_ offset: Int) -> UInt64 {
                    input[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
                }
                let source = IPAddress(v6High: word(0), low: word(8))
                let destination = IPAddress(v6High: word(16), low: word(24))
                #expect(
                    hash.hashAddresses(source: source, destination: destination)
                        == referenceHash(key: key, input: input), "byte \(byte) bit \(bit)")
            }
        }
    }

    @Test func keyLengths() {
        #expect(ToeplitzHash.minimumKeyBytes == 40)
        #expect(ToeplitzHash.microsoftDefaultKey.count == 40)
        #expect(ToeplitzHash(key: Array(ToeplitzHash.microsoftDefaultKey.prefix(39))) == nil)
        #expect(ToeplitzHash(key: []) == nil)
        // Bytes past the 40th never reach the result.
        let long = ToeplitzHash(key: ToeplitzHash.microsoftDefaultKey + [UInt8](repeating: 0xff, count: 12))
        let source = IPAddress(v6High: .max, low: .max)
        #expect(
            long?.hash(source: source, destination: source, sourcePort: .max, destinationPort: .max)
                == hash.hash(source: source, destination: source, sourcePort: .max, destinationPort: .max))
    }
}

@Suite struct RSSIndirectionTests {
    /// The kernel default: entry i names queue i % queues, 128 entries.
    @Test func roundRobinDefault() {
        let table = RSSIndirection.roundRobin(queues: 3)
        #expect(table.entries.count == RSSIndirection.defaultSize)
        #expect(table.entries.prefix(7) == [0, 1, 2, 0, 1, 2, 0])
        #expect(table.entries.last == UInt32((RSSIndirection.defaultSize - 1) % 3))
        #expect(table.queueCount == 3)
    }

    /// Power-of-two tables index with the hash's low bits.
    @Test func powerOfTwoUsesLowBits() {
        let table = RSSIndirection.roundRobin(queues: 4, size: 128)
        #expect(table.index(for: 0x51cc_c178) == 0x78)
        #expect(table.queue(for: 0x51cc_c178) == 0x78 % 4)
        #expect(table.index(for: 0xffff_ff80) == 0)
        #expect(table.queue(for: 0x0000_0007) == 3)
        for hash in [UInt32(0), 1, 127, 128, 0xdead_beef, .max] {
            #expect(table.index(for: hash) == Int(hash & 127))
        }
    }

    /// Other sizes fall back to the remainder.
    @Test func otherSizesUseRemainder() throws {
        let table = try #require(RSSIndirection(entries: [5, 6, 7]))
        for hash in [UInt32(0), 1, 2, 3, 100, 0xdead_beef, .max] {
            #expect(table.index(for: hash) == Int(hash % 3))
            #expect(table.queue(for: hash) == 5 + hash % 3)
        }
        let single = try #require(RSSIndirection(entries: [9]))
        #expect(single.queue(for: .max) == 9)
        #expect(RSSIndirection(entries: []) == nil)
    }

    /// Hash and table together: the first IPv4 verification flow with ports on a 128-entry table
    /// spread over 16 queues lands on entry 0x78 = 120, queue 120 % 16 = 8.
    @Test func hashThenTable() throws {
        let hash = try #require(ToeplitzHash(key: ToeplitzHash.microsoftDefaultKey))
        let source = try #require(IPAddress("66.9.149.187"))
        let destination = try #require(IPAddress("161.142.100.80"))
        let value = hash.hash(source: source, destination: destination, sourcePort: 2794, destinationPort: 1766)
        #expect(RSSIndirection.roundRobin(queues: 16).queue(for: value) == 8)
    }
}
