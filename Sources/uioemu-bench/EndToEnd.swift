import AllocationCounting
import Board
import Devices
import Foundation
import Reactor
import Scenario
import Trace
import TraceFiles

/// uioemu end to end, through every layer (source, FIFO, AXI DMA registers, interrupt controller,
/// UIO, driver, consumer verifying every byte), with the peers' parameters: 4096-byte chunks at
/// 200 MB/s into a 64 KiB FIFO that back-pressures the source; 1 µs setup + 4096 / (100 MHz × 4 B)
/// per transfer; a ring of 8 buffers.
enum EndToEnd {
    /// The P2020 profile with the peers' timing: 100 setup cycles (1 µs at 100 MHz), 64 KiB FIFO.
    static func peerProfile() throws -> BoardProfile {
        guard let catalog = BoardCatalog.locate() else { throw BenchError("no boards/ directory found (run from the checkout)") }
        var text = try String(contentsOfFile: catalog.path(for: "p2020-fpga"), encoding: .utf8)
        text = text.replacingOccurrences(of: "setup-cycles: 16", with: "setup-cycles: 100")
        text = text.replacingOccurrences(of: "fifo-depth: 16 KiB", with: "fifo-depth: 64 KiB")
        do throws(Diagnostics) {
            return try BoardProfile.parse(text, file: "p2020-fpga (peer timing)", registry: DeviceKinds.standard)
        } catch {
            throw BenchError("\(error)")
        }
    }

    /// A shipped profile as it is.
    static func shippedProfile(_ name: String) throws -> BoardProfile {
        guard let catalog = BoardCatalog.locate() else { throw BenchError("no boards/ directory found (run from the checkout)") }
        do throws(Diagnostics) {
            return try BoardProfile.load(path: catalog.path(for: name), registry: DeviceKinds.standard)
        } catch {
            throw BenchError("\(error)")
        }
    }

    enum Source {
        /// 200 MB/s with back-pressure, as the peers.
        case paced
        /// Always a packet ready (the peers' "without source" variant).
        case unlimited
    }

    struct Result {
        let completions: Int
        let wallSeconds: Double
        let bytes: UInt64
        /// The run's invariants (WorkloadReport) held at the end.
        let invariantsHeld: Bool
        var completionsPerSecond: Double { Double(completions) / wallSeconds }
        var nanosecondsPerCompletion: Double { wallSeconds * 1e9 / Double(completions) }
    }

    /// The peers' stream: 4 KiB packets at 200 MB/s, held at the source when the FIFO is full.
    static func peerConfiguration() -> WorkloadConfiguration {
        var c = WorkloadConfiguration()
        c.source.rateBytesPerSecond = 200_000_000
        c.source.backPressure = true
        return c
    }

    static func workload(_ profile: BoardProfile, source: Source, pattern: StreamPattern, bufferBytes: Int) throws -> ReceiveWorkload {
        var c = peerConfiguration()
        c.driver.ringSize = 8
        c.driver.bufferBytes = bufferBytes
        c.source.packetSize = .fixed(bufferBytes)
        c.pattern = pattern
        c.source.rateBytesPerSecond = source == .paced ? 200_000_000 : nil
        let w = try ReceiveWorkload(profile: profile, configuration: c)
        try w.start()
        return w
    }

    /// Wall time of `completions` completions after a warm-up of a tenth as many.
    static func measure(_ profile: BoardProfile, source: Source, pattern: StreamPattern, bufferBytes: Int, completions: Int) throws -> Result {
        let w = try workload(profile, source: source, pattern: pattern, bufferBytes: bufferBytes)
        let warm = completions / 10 + 1
        try w.run(completions: warm)
        let bytesBefore = w.report.bytes
        let t0 = DispatchTime.now().uptimeNanoseconds
        try w.run(completions: warm + completions)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let r = w.report
        if !r.allInvariantsHold { FileHandle.standardError.write(Data("invariants failed:\n\(r.summary)\n".utf8)) }
        return Result(completions: completions, wallSeconds: Double(t1 - t0) / 1e9, bytes: UInt64(r.bytes - bytesBefore),
                      invariantsHeld: r.allInvariantsHold)
    }

    /// Mallocs on this thread per completion, after warm-up, and whether the run's invariants held.
    static func mallocsPerCompletion(_ profile: BoardProfile, completions: Int) throws -> (mallocs: Double, invariantsHeld: Bool) {
        let w = try workload(profile, source: .paced, pattern: .counter, bufferBytes: 4096)
        try w.run(completions: 1_000)
        let n = mallocsOnThisThread { try? w.run(completions: 1_000 + completions) }
        guard w.completions >= 1_000 + completions else { throw BenchError("the mallocs run stopped at \(w.completions) completions") }
        return (Double(n) / Double(completions), w.report.allInvariantsHold)
    }

    /// Resident set size after 1 M and after 10 M completions (control only, so it finishes quickly).
    static func residentSet(_ profile: BoardProfile, scale: Double) throws
        -> (afterSmall: Int, afterLarge: Int, small: Int, large: Int, invariantsHeld: Bool)
    {
        let small = max(Int(1_000_000 * scale), 1_000), large = max(Int(10_000_000 * scale), 10_000)
        let w = try workload(profile, source: .unlimited, pattern: .none, bufferBytes: 4096)
        try w.run(completions: small)
        let a = residentKiB()
        try w.run(completions: large)
        return (a, residentKiB(), small, large, w.report.allInvariantsHold)
    }

    static func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return -1 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
    }
}

/// The peers' figures written by `bench/peers/run` (absent when the peers were not run).
struct PeerResults {
    let systemcWithSource: Double?
    let systemcWithoutSource: Double?
    let simpy: Double?

    static func load(_ path: String = "bench/peers/results.json") -> PeerResults? {
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        func rate(_ peer: String, _ variant: String) -> Double? {
            ((json[peer] as? [String: Any])?[variant] as? [String: Any])?["completions_per_second"] as? Double
        }
        return PeerResults(systemcWithSource: rate("systemc", "with_source"), systemcWithoutSource: rate("systemc", "without_source"),
                           simpy: rate("simpy", "with_source"))
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension EndToEnd {
    struct RealTime {
        let p50: Double
        let p99: Double
        let p999: Double
        let completions: Int
        /// Board seconds run.
        let boardSeconds: Double
        /// Wall-clock seconds the run took. Board time may lag the wall clock (it catches up after a
        /// late wake-up), so keeping up is judged against the wall clock: a board that ran slow
        /// does not get to count fewer expected completions.
        let wallSeconds: Double
        /// What the run did (report figures), for `uioemu-bench realtime`.
        var detail = ""
        /// The run's invariants held at the end.
        var invariantsHeld = false
        /// Completions the source's 200 MB/s of 4 KiB packets implies for the wall time the run took.
        var expectedCompletions: Double { max(wallSeconds, boardSeconds) * 200_000_000 / 4096 }
        /// How far the emulation fell behind the board it emulates, in percent (0: it kept up).
        var shortfallPercent: Double { max(0, 1 - Double(completions) / expectedCompletions) * 100 }
    }

    /// The receive workload in real time for `boardTime` (eventfd-backed interrupt delivery, as on a
    /// board): interrupt-raise → driver-handler latency from the driver's HdrHistogram, and pacing.
    static func realTime(_ profile: BoardProfile, boardTime: TimeSpan) throws -> RealTime {
        var c = peerConfiguration()
        c.clock = .realTime
        let w = try ReceiveWorkload(profile: profile, configuration: c)
        try w.start()
        let start = w.reactor.now
        let wallStart = DispatchTime.now().uptimeNanoseconds
        w.run(for: boardTime)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - wallStart) / 1e9
        let board = Double((w.reactor.now - start).nanoseconds) / 1e9
        let h = w.driver.latency
        let r = w.report
        let a = w.channel.accounting
        let detail = """
            produced packets \(a.producedPackets), delivered packets \(a.deliveredPackets), source stalls (back-pressure) \(a.stalls), \
            ring-full stalls \(r.ringFullStalls), lost interrupts \(r.lostInterrupts), dispatches \(w.reactor.dispatchCount), \
            latency max \(h.max) ns, invariants \(r.allInvariantsHold ? "hold" : "FAIL")
            """
        return RealTime(p50: Double(h.valueAtPercentile(50)), p99: Double(h.valueAtPercentile(99)),
                        p999: Double(h.valueAtPercentile(99.9)), completions: w.driver.completions, boardSeconds: board,
                        wallSeconds: wall, detail: detail, invariantsHeld: r.allInvariantsHold)
    }
}

extension EndToEnd {
    /// A P2020-shaped board with `channels` AXI DMAs in the FPGA window at 0xf_0000_0000, 64 KiB
    /// apart, each S2MM channel on its own MPIC line with its own UIO node. The engines are built
    /// without their MM2S channel (PG021 c_include_mm2s = 0; the receive job never uses it), so
    /// that 1,024 of them fit the MPIC's 1,024 lines.
    static func fleetProfile(channels: Int) throws -> BoardProfile {
        var text = """
            name: p2020-fleet-\(channels)
            description: P2020 with \(channels) AXI DMA engines (scaling benchmark)
            cpu: { core: e500v2, cores: 2, clock: 1200 MHz, endianness: big, physical-address-bits: 36 }
            memory:
              - { name: ddr, base: 0x0, size: 1 GiB }
            dma-pool: { base: 0x3c00_0000, size: 64 MiB, coherent: true }
            interrupt-controller: { kind: mpic, lines: \(max(channels, 16)) }
            devices:

            """
        for k in 0..<channels {
            text += """
                  - name: dma\(k)
                    kind: axi-dma
                    base: \(String(format: "0x%llx", 0xF_0000_0000 as UInt64 + UInt64(k) * 0x10000))
                    size: 64 KiB
                    bus-endianness: little
                    clock: 100 MHz
                    data-width-bytes: 4
                    fifo-depth: 64 KiB
                    length-width-bits: 23
                    setup-cycles: 100
                    s2mm: { interrupt: \(k), sense: 2 }

                """
        }
        text += "uio:\n"
        for k in 0..<channels {
            text += "  - { name: s2mm\(k), device: dma\(k), interrupt: s2mm, maps: [ { name: registers, region: dma\(k) } ] }\n"
        }
        do throws(Diagnostics) {
            return try BoardProfile.parse(text, file: "fleet-\(channels).yaml", registry: DeviceKinds.standard)
        } catch {
            throw BenchError("\(error)")
        }
    }

    /// ns per completion with `channels` independent channels in one reactor (4 KiB, checked), and
    /// whether every channel's invariants held.
    static func fleet(channels: Int, completions: Int, pattern: StreamPattern = .counter) throws -> (ns: Double, invariantsHeld: Bool) {
        var c = peerConfiguration()
        c.pattern = pattern
        let fleet = try ReceiveFleet(profile: fleetProfile(channels: channels), configuration: c)
        try fleet.start()
        try fleet.run(completions: completions / 10 + channels)
        let before = fleet.completions
        let t0 = DispatchTime.now().uptimeNanoseconds
        try fleet.run(completions: before + completions)
        let ns = Double(DispatchTime.now().uptimeNanoseconds - t0)
        return (ns / Double(fleet.completions - before), fleet.invariantsHold)
    }
}
