// What the steering program needs to answer a service's SYNs itself (sluice_synproxy.h): the values the
// data plane would put into its SynAckParameters for that service (Dataplane.synProxyAnswerSYN), worked out
// here from the configuration once per reload instead of per SYN. If this and the data plane ever
// disagreed, XDP's SYN-ACKs would differ from the workers' for the same SYN; the TestRun tests compare the
// two byte for byte, TOA room and MSS clamp included.

import CXDP
import SluiceCore
import SluicePacket

/// The SYN-ACK parameters of one SYN-proxied service, as stored in its `sluice_vips` value.
public struct SynAnswerParameters: Hashable, Sendable {
    /// Upper bound of the SYN-ACK's MSS: the synproxy MSS of the VIP's family, lowered to `mss_clamp`,
    /// minus the room a TOA option needs (the data plane's `toaRoom`), at least 64.
    public var mss: UInt16
    /// Window-scale shift offered (0–14).
    public var windowScale: UInt8
    /// Offer SACK-permitted to clients that offer it.
    public var sack: Bool
    /// Offer timestamps to clients that offer them.
    public var timestamps: Bool
    /// The service has a real server with weight > 0; without one the data plane refuses new
    /// connections, so XDP leaves the SYNs to it.
    public var schedulable: Bool

    public init(mss: UInt16, windowScale: UInt8, sack: Bool, timestamps: Bool, schedulable: Bool) {
        self.mss = mss
        self.windowScale = windowScale
        self.sack = sack
        self.timestamps = timestamps
        self.schedulable = schedulable
    }

    /// The parameters of a TCP service with `syn_proxy` under `configuration`.
    public init(service: VirtualServiceConfiguration, configuration: DataplaneConfiguration) {
        let settings = configuration.synProxy.clamped
        let v6 = service.vip.isV6
        var mss = v6 ? settings.mssIPv6 : settings.mss
        if configuration.mssClamp > 0 && configuration.mssClamp < mss { mss = configuration.mssClamp }
        // Client segments carry TOA towards the real server when the service inserts it.
        let toaRoom = service.clientAddress == .toa ? (v6 ? TOA.lengthV6 : TOA.lengthV4) : 0
        self.mss = UInt16(clamping: max(Int(mss) - toaRoom, 64))
        self.windowScale = min(settings.windowScale, 14)
        self.sack = settings.sack
        self.timestamps = settings.timestamps
        self.schedulable = service.realServers.contains { $0.weight > 0 }
    }

    /// The services of a configuration whose SYNs the steering program answers, with their
    /// parameters: TCP services with `syn_proxy`, when `synproxy.answer_in_xdp` is on.
    public static func answering(for configuration: DataplaneConfiguration) -> [SteeredService: SynAnswerParameters] {
        guard configuration.synProxy.answerInXDP else { return [:] }
        var answers: [SteeredService: SynAnswerParameters] = [:]
        for service in configuration.services where service.transport == .tcp && service.synProxy {
            let key = SteeredService(address: service.vip, port: service.port, transport: service.transport.rawValue)
            answers[key] = SynAnswerParameters(service: service, configuration: configuration)
        }
        return answers
    }

    /// The `sluice_vips` value that makes the program answer with these parameters.
    var mapValue: sluice_vip_value {
        var flags = UInt32(SLUICE_VIP_SYNPROXY_XDP)
        if schedulable { flags |= UInt32(SLUICE_VIP_SCHEDULABLE) }
        if sack { flags |= UInt32(SLUICE_VIP_SACK) }
        if timestamps { flags |= UInt32(SLUICE_VIP_TIMESTAMPS) }
        return sluice_vip_value(flags: flags, mss: mss, wscale: windowScale, pad: 0)
    }
}
