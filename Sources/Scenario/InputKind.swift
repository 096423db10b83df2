import Board
import Foundation

/// What a YAML file given to `validate` is, told by its top-level keys (a scenario has `board`,
/// `duration`, `timeline`...; a profile `cpu`, `memory`, `devices`...), whatever its line ends
/// or byte-order mark.
public enum InputKind: Sendable, Equatable {
    case scenario
    case profile

    static let scenarioKeys: Set<String> = ["board", "seed", "time", "duration", "mode", "driver", "stream", "timeline", "expect"]
    static let profileKeys: Set<String> = ["cpu", "memory", "dma-pool", "interrupt-controller", "devices", "uio", "u-dma-buf", "reserved"]

    public static func of(file: String) throws(Diagnostics) -> InputKind {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard let data = FileManager.default.contents(atPath: file) else {
            var d = Diagnostics()
            d.error("cannot read the file: expected a readable board profile or scenario", at: start)
            throw d
        }
        return try of(text: String(decoding: data, as: UTF8.self), file: file)
    }

    public static func of(text: String, file: String) throws(Diagnostics) -> InputKind {
        var diagnostics = Diagnostics()
        let document = YAMLDocument(text: text, file: file, diagnostics: &diagnostics)
        guard diagnostics.isEmpty else { throw diagnostics }
        let keys = Set(document.root?.node.mapping?.keys.compactMap(\.string) ?? [])
        let scenario = keys.intersection(scenarioKeys).count, profile = keys.intersection(profileKeys).count
        if scenario > profile { return .scenario }
        if profile > scenario { return .profile }
        diagnostics.error("cannot tell a scenario from a board profile: expected a mapping with a scenario's keys (board, duration, "
                          + "timeline, expect, ...) or a profile's (cpu, memory, dma-pool, devices, uio, ...)",
                          at: document.root?.location ?? SourceLocation(file: file, line: 1, column: 1))
        throw diagnostics
    }
}
