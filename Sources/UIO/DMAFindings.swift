import Board
import Reactor

/// Something the DMA heap or guard noticed that breaks the Linux DMA API rules or the allocate-once
/// discipline. A violation on a non-coherent board is a real bug (stale data, lost writes); the same
/// event on a coherent board is counted as a warning, because the hardware hides it there but the
/// driver would break on a non-coherent one.
public struct DMAFinding: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// The CPU read or wrote a buffer the device owns (between sync-for-device and sync-for-cpu).
        case cpuAccessWhileDeviceOwned = "cpu-access-while-device-owned"
        /// The device transferred into or out of a buffer the CPU owns (no sync-for-device first).
        case dmaWhileCPUOwned = "dma-while-cpu-owned"
        /// A DMA range not fully inside one live buffer: refused in guard mode, let through without it.
        case dmaOutsideBuffers = "dma-outside-buffers"
        /// A buffer allocated after the driver declared itself started (allocate once at start).
        case allocationAfterStart = "allocation-after-start"
        /// The CPU read or wrote a buffer after it was freed (through a handle kept past the free:
        /// use after free). Its syncs are refused, so without this kind it would read as
        /// `cpu-access-while-device-owned`, which it is not.
        case cpuAccessAfterFree = "cpu-access-after-free"
    }

    public enum Severity: String, Sendable, Codable {
        case violation
        case warning
    }

    public let kind: Kind
    public let severity: Severity
    public let time: Instant
    public let address: PhysicalAddress
    public let length: UInt64
    /// The buffer concerned, or for `dmaOutsideBuffers` the nearest live buffer.
    public let buffer: String?
    public let detail: String

    public var description: String {
        "\(time) \(severity.rawValue): \(kind.rawValue) at \(address) (+\(length) bytes)" +
            (buffer.map { ", \($0)" } ?? "") + (detail.isEmpty ? "" : ": \(detail)")
    }
}

/// Counts findings by kind and severity, and keeps the first `logLimit` of them in detail.
/// Nothing is dropped silently: `count` is exact even when the log is full.
public final class DMAFindings {
    public let logLimit = 256
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var log: [DMAFinding] = []
    @exclusivity(unchecked) private var counts: [DMAFinding.Kind: (violations: Int, warnings: Int)] = [:]

    public init() {}

    func record(_ finding: DMAFinding) {
        var c = counts[finding.kind] ?? (0, 0)
        if finding.severity == .violation { c.violations += 1 } else { c.warnings += 1 }
        counts[finding.kind] = c
        if log.count < logLimit { log.append(finding) }
    }

    public func count(_ kind: DMAFinding.Kind, _ severity: DMAFinding.Severity) -> Int {
        let c = counts[kind] ?? (0, 0)
        return severity == .violation ? c.violations : c.warnings
    }

    public var totalViolations: Int { counts.values.reduce(0) { $0 + $1.violations } }
    public var totalWarnings: Int { counts.values.reduce(0) { $0 + $1.warnings } }
}
