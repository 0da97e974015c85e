// The bits of `Connection.flags`, in one place so that FULLNAT and SYNPROXY never reuse a bit: the
// entry is 112 bytes and every field is spoken for, so per-connection booleans and the two window
// shifts share this one 16-bit word.

/// FULLNAT: the client uses TCP timestamps; TSval/TSecr are mapped through `aux0` (docs/protocol.md pitfall 1).
@usableFromInline let connectionHasTimestamps: UInt16 = 0x0001
/// The connection was opened by SYNPROXY.
@usableFromInline let connectionSynProxy: UInt16 = 0x0002
/// SYNPROXY: the RS handshake is pending (or was refused); client segments are held, not forwarded.
@usableFromInline let connectionSynProxyPending: UInt16 = 0x0004
/// SYNPROXY: both legs use timestamps; RS TSvals and client TSecrs are shifted by `aux1`.
@usableFromInline let connectionTimestampTranslation: UInt16 = 0x0008
/// SYNPROXY: the client leg uses timestamps, the RS leg does not; client TS options are NOP-ed.
@usableFromInline let connectionTimestampStrip: UInt16 = 0x0010
/// SYNPROXY: the client leg scales windows (the client offered window scaling).
@usableFromInline let connectionClientScaled: UInt16 = 0x0020
/// SYNPROXY: the RS leg scales windows too (the RS answered with window scaling).
@usableFromInline let connectionServerScaled: UInt16 = 0x0040
/// SYNPROXY: bits 7–10 of `flags` hold the window scale of our SYN-ACK.
@usableFromInline let connectionProxyShift: UInt16 = 7
/// SYNPROXY: bits 11–14 of `flags` hold the window scale of the RS's SYN-ACK.
@usableFromInline let connectionServerShift: UInt16 = 11
/// TOA / PROXY protocol: the real server has not yet acknowledged what tells it the client's address;
/// meanwhile `serverAck` holds the stream's first RS-leg sequence number and `repeatFingerprint` the
/// PROXY header's length (Dataplane+ClientAddress.swift).
@usableFromInline let connectionClientAddressPending: UInt16 = 0x8000
