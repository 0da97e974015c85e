// ipvsadm's print_largenum: every counter of `--stats` and `--rate` takes a 9-character column. Without
// `--exact` a number of 100 million or more is shown in thousands (K), millions (M), billions (G) or
// trillions (T), truncated, so it still fits; with `--exact` the column widens to the number instead.

extension IPVSListing {
    /// One counter column as ipvsadm prints it, leading space included.
    public static func largeNumber(_ value: UInt64, exact: Bool) -> String {
        if exact {
            let digits = String(value)
            return digits.rightJustified(digits.count <= 8 ? 9 : digits.count + 1)
        }
        switch value {
        case ..<100_000_000: return String(value).rightJustified(9)
        case ..<1_000_000_000: return String(value / 1_000).rightJustified(8) + "K"
        case ..<100_000_000_000: return String(value / 1_000_000).rightJustified(8) + "M"
        case ..<100_000_000_000_000: return String(value / 1_000_000_000).rightJustified(8) + "G"
        default: return String(value / 1_000_000_000_000).rightJustified(8) + "T"
        }
    }
}
