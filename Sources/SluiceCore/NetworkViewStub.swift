// CONTRACT STUB — replaced by NetworkView.swift's real snapshot (routes, neighbours, interfaces).
public struct NetworkView: Sendable {
    public init() {}
}
