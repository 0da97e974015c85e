// How the steering program is attached. Generic (skb) mode works on every device, including veth and
// virtio, at the cost of an skb per frame; native (driver) mode runs before skb allocation where the driver
// supports it. `auto` tries native and falls back to skb (docs/design.md §1: copy mode must work everywhere).

import CXDP

/// XDP attach mode.
public enum XDPMode: String, Sendable, Hashable, CaseIterable {
    /// Native when the driver supports it, else skb.
    case auto
    /// Generic XDP: every device, skb per frame, all frames arrive on queue 0.
    case skb
    /// Driver XDP: fails with EOPNOTSUPP where the driver has no XDP support.
    case native

    var attachMode: xdp_attach_mode {
        switch self {
        case .auto: XDP_MODE_UNSPEC
        case .skb: XDP_MODE_SKB
        case .native: XDP_MODE_NATIVE
        }
    }
}
