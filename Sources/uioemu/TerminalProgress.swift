import Foundation
import Glibc
import Scenario

/// The progress line of a long run on a terminal: rewritten in place on stderr at most four times a
/// second, first after half a second (a short run shows nothing), cleared at the end. Only when
/// stderr is a terminal and the output is not JSON: `TerminalProgress.make` returns nil otherwise.
final class TerminalProgress {
    private let text: ProgressText
    private let startNanoseconds: Int64
    private var nextPrintNanoseconds: Int64
    private var printed = false

    static let firstAfterNanoseconds: Int64 = 500_000_000
    static let everyNanoseconds: Int64 = 250_000_000

    static func make(label: String, goal: ProgressText.Goal, json: Bool) -> TerminalProgress? {
        guard !json, isatty(2) == 1 else { return nil }
        return TerminalProgress(text: ProgressText(label: label, goal: goal))
    }

    private init(text: ProgressText) {
        self.text = text
        startNanoseconds = Self.monotonicNanoseconds()
        nextPrintNanoseconds = startNanoseconds + Self.firstAfterNanoseconds
    }

    /// Called by `RunProgress` every millisecond of board time: one clock read, a line when due.
    func update(_ sample: RunProgress.Sample) {
        let now = Self.monotonicNanoseconds()
        guard now >= nextPrintNanoseconds else { return }
        nextPrintNanoseconds = now + Self.everyNanoseconds
        printed = true
        write("\r\u{1B}[K" + text.line(sample, wallSeconds: Double(now - startNanoseconds) / 1e9))
    }

    /// Clears the line, so the result prints on a clean one.
    func clear() {
        if printed { write("\r\u{1B}[K") }
        printed = false
    }

    private func write(_ s: String) { Self.write(s) }

    /// A line of the caller's own, rewritten in place (`explore`: run k of n); "" clears it. Only
    /// for a caller that checked stderr is a terminal.
    static func show(_ text: String) { write("\r\u{1B}[K" + text) }

    private static func write(_ s: String) {
        var stderr = StandardError()
        print(s, terminator: "", to: &stderr)
    }

    private static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
