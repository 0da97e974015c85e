// `synproxy.key_file`: a secret shared by the gateways of a group, so that a SYN cookie one gateway
// answered verifies on another after an ECMP change. The file holds at least 16 random bytes in any form
// (`head -c 32 /dev/urandom > FILE` makes one); its bytes are hashed into a 128-bit secret. Keys rotate
// on wall-clock epochs of `SynCookie.maximumAgeMilliseconds` (120 s): the key of epoch e is a SipHash of e
// under the secret, so every gateway with the same file and a synchronised clock (NTP) holds the same
// current key and the same previous one, without talking to the others. The file's content is never
// logged.

import Foundation
import SluiceCore
import SluiceXDP

/// The shared cookie secret and the keys it gives.
public struct CookieKeyFile: Sendable, Equatable {
    /// The fewest bytes a key file may hold.
    public static let minimumBytes = 16
    /// Seconds per key epoch: a cookie's whole life.
    public static let epochSeconds = Int(SynCookie.maximumAgeMilliseconds / 1000)

    let secret: (UInt64, UInt64)

    public static func == (a: CookieKeyFile, b: CookieKeyFile) -> Bool { a.secret == b.secret }

    /// The secret of `bytes`; nil when there are fewer than `minimumBytes`.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= Self.minimumBytes else { return nil }
        // Two SipHash passes under fixed, distinct keys: a 128-bit digest of the file.
        var a = SipHash24(k0: 0x736C_7569_6365_2D6B, k1: 0x6579_2D66_696C_6530)
        var b = SipHash24(k0: 0x6B65_792D_6669_6C65, k1: 0x2D73_6C75_6963_6531)
        for byte in bytes {
            a.combine(byte)
            b.combine(byte)
        }
        secret = (a.finalize(), b.finalize())
    }

    /// Reads and hashes the file at `path`.
    public static func load(path: String) throws -> CookieKeyFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(message: "cannot read the SYN-cookie key file \(path)")
        }
        guard let file = CookieKeyFile(bytes: Array(data)) else {
            throw Problem(message: "the SYN-cookie key file \(path) holds fewer than \(minimumBytes) bytes")
        }
        return file
    }

    /// A key file that cannot be used.
    public struct Problem: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// The epoch of a wall-clock time (seconds since 1970).
    public static func epoch(at seconds: Double) -> UInt64 { UInt64(max(0, seconds)) / UInt64(epochSeconds) }

    /// The key of epoch `epoch`.
    public func key(epoch: UInt64) -> (UInt64, UInt64) {
        (
            SipHash24.hash(k0: secret.0, k1: secret.1, epoch, 0),
            SipHash24.hash(k0: secret.0, k1: secret.1, epoch, 1)
        )
    }

    /// The keyring of epoch `epoch`: its key current, the one before still accepted.
    public func keyring(epoch: UInt64) -> SynCookieKeyring {
        SynCookieKeyring(current: key(epoch: epoch), previous: key(epoch: epoch &- 1))
    }
}
