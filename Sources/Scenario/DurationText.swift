import Foundation
import Reactor

/// Durations as people write them in scenarios and on the command line: a number, whole or with a
/// decimal fraction, and a unit: `ns`, `us` (or `µs`), `ms`, `s`, `min` or `h` (`250us`, `10 ms`,
/// `1.5s`, `2min`, `1h`). The result must be a whole number of nanoseconds.
public enum DurationText {
    public static let expectation = "a duration: a number and ns, us, ms, s, min or h (such as 10ms or 1.5s)"

    static let units: [(name: String, nanoseconds: Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("min", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    public static func parse(_ text: String) -> TimeSpan? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == "_" || $0 == ".") }
        let unitText = trimmed.dropFirst(number.count).trimmingCharacters(in: .whitespaces)
        guard let unit = units.first(where: { $0.name == unitText }) else { return nil }
        let parts = number.filter { $0 != "_" }.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty || parts.count == 2, let whole = Int64(parts[0].isEmpty ? "0" : parts[0])
        else { return nil }
        var (total, overflow) = whole.multipliedReportingOverflow(by: unit.nanoseconds)
        guard !overflow else { return nil }
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.count <= 18, let digits = Int64(fraction) else { return nil }
            // fraction × unit / 10^count must be a whole number of nanoseconds.
            var scale: Int64 = 1
            for _ in 0..<fraction.count { scale *= 10 }  // bounded: at most 18 digits
            let (scaled, over) = digits.multipliedReportingOverflow(by: unit.nanoseconds)
            guard !over, scaled % scale == 0 else { return nil }
            (total, overflow) = total.addingReportingOverflow(scaled / scale)
            guard !overflow else { return nil }
        }
        return TimeSpan(nanoseconds: total)
    }
}
