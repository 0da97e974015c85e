// What looking a destination up in one routing table gives the rule evaluation
// (NetworkView+Lookup.swift), mirroring the kernel's fib_table_lookup results: a route, nothing
// (no matching prefix, or a throw route: EAGAIN, the next rule is tried), or a reject route (the
// lookup ends without a route).

/// The result of one table lookup.
@usableFromInline
enum TableOutcome: Sendable {
    case found
    case missing
    case rejected
}
