import Board
import Devices
import Foundation

/// The repository root, found from this file's path (Tests/BoardTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func repositoryFile(_ relativePath: String) throws -> String {
    try String(contentsOf: repositoryRoot.appendingPathComponent(relativePath), encoding: .utf8)
}

/// Parses profile text and returns its diagnostics (empty when it loaded).
func diagnostics(of text: String, file: String = "test.yaml") -> [Diagnostic] {
    do throws(Diagnostics) {
        _ = try BoardProfile.parse(text, file: file, registry: DeviceKinds.standard)
        return []
    } catch {
        return error.all
    }
}

/// A small valid profile; tests change single lines (1-based numbers, as in diagnostics).
let baseProfileLines = [
    "name: test-board",  // 1
    "description: A board for tests",  // 2
    "cpu:",  // 3
    "  core: e500v2",  // 4
    "  clock: 1 GHz",  // 5
    "  physical-address-bits: 36",  // 6
    "memory:",  // 7
    "  - name: ddr",  // 8
    "    base: 0x0",  // 9
    "    size: 256 MiB",  // 10
    "dma-pool:",  // 11
    "  base: 0x0f00_0000",  // 12
    "  size: 16 MiB",  // 13
    "  coherent: true",  // 14
    "interrupt-controller:",  // 15
    "  kind: mpic",  // 16
    "  lines: 16",  // 17
    "devices:",  // 18
    "  - name: dma",  // 19
    "    kind: axi-dma",  // 20
    "    base: 0x8000_0000",  // 21
    "    size: 64 KiB",  // 22
    "    bus-endianness: little",  // 23
    "    clock: 100 MHz",  // 24
    "    data-width-bytes: 4",  // 25
    "    fifo-depth: 4 KiB",  // 26
    "    length-width-bits: 23",  // 27
    "    s2mm:",  // 28
    "      interrupt: 3",  // 29
    "      sense: 2",  // 30
    "uio:",  // 31
    "  - name: dma-rx",  // 32
    "    device: dma",  // 33
    "    interrupt: s2mm",  // 34
    "    maps:",  // 35
    "      - name: registers",  // 36
    "        region: dma",  // 37
]

/// The base profile with some lines replaced (`[line: text]`, `nil` text deletes) and lines appended.
func profile(replacing replacements: [Int: String?] = [:], appending extra: [String] = []) -> String {
    var lines: [String] = []
    for (index, line) in baseProfileLines.enumerated() {
        if let replacement = replacements[index + 1] {
            if let replacement { lines.append(replacement) }
        } else {
            lines.append(line)
        }
    }
    return (lines + extra).joined(separator: "\n") + "\n"
}

/// SplitMix64: the one small seeded generator tests use.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

extension Result {
    /// The failure, nil on success.
    var fault: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
