import Foundation
import Reactor

/// Durations as people write them in scenarios and on the command line: a whole number and a unit,
/// `ns`, `us`, `ms` or `s` (`250us`, `10 ms`, `1s`).
public enum DurationText {
    public static let expectation = "a duration: a whole number and ns, us, ms or s (such as 10ms)"

    public static func parse(_ text: String) -> TimeSpan? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber || $0 == "_" }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, let value = Int64(digits.filter { $0 != "_" }) else { return nil }
        let scale: Int64
        switch unit {
        case "ns": scale = 1
        case "us": scale = 1_000
        case "ms": scale = 1_000_000
        case "s": scale = 1_000_000_000
        default: return nil
        }
        let (n, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? nil : TimeSpan(nanoseconds: n)
    }
}
