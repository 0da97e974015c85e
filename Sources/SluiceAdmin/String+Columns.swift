// printf-style columns for the ipvsadm layouts. `%-Ns` pads on the right and `%Ns` on the left, and
// neither truncates: a long address pushes the rest of its line to the right, as it does in ipvsadm.

extension String {
    /// `%-Ns`: at least `width` characters, padded on the right.
    func leftJustified(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    /// `%Ns`: at least `width` characters, padded on the left.
    func rightJustified(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    /// Sluice's own tables end a line where its text ends (ipvsadm's layouts keep their padding).
    func trimmingTrailingSpaces() -> String {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " { end = index(before: end) }
        return String(self[..<end])
    }
}
