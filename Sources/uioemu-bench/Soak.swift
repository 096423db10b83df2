import ArgumentParser
import Board
import Devices
import Foundation
import Reactor
import Scenario
import UIO

/// `uioemu-bench soak` (`make soak`): the receive workload on the shipped p2020-fpga in virtual
/// time for 10 M completions, with a fault drawn from the catalogue every ~10 k completions (every
/// 5 k to 15 k, from one seed). It passes when, at the end, every invariant holds (the only
/// mismatched bytes are the ones corrupt-byte faults flipped, one each), there is no DMA finding
/// and no interrupt storm, the driver is running, and the resident set grew less than 1 MiB from
/// the end of the warm-up (the first tenth) to the end. Prints a summary either way; exit 1 on a
/// failure. Its own command, never part of `make test`: a release build takes about a minute.
struct Soak: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak", abstract: "Millions of completions with random faults: zero violations, flat memory.")

    @Option(help: "Completions to run.") var completions = 10_000_000
    @Option(name: .customLong("fault-every"), help: "Mean completions between faults.") var faultEvery = 10_000
    @Option(help: "The seed every random choice comes from.") var seed: UInt64 = 1
    @Option(name: .customLong("rss-growth-kib"), help: "Largest resident-set growth after warm-up that passes.") var rssGrowthKiB = 1024

    func validate() throws {
        guard completions >= 10, faultEvery >= 2 else { throw ValidationError("--completions: at least 10; --fault-every: at least 2") }
    }

    func run() throws {
        print("seed \(seed)")
        let profile = try EndToEnd.shippedProfile("p2020-fpga")
        var c = WorkloadConfiguration()
        // A stalled transfer ends only through the watchdog; at 4 KiB per ~10 µs, 200 µs of silence is a stall.
        c.driver.watchdog = .microseconds(200)
        let w = try ReceiveWorkload(profile: profile, seed: seed, configuration: c)
        try w.start()
        var random = SplitMix64(seed: seed)
        var faults = SoakFaults()
        let warmUp = completions / 10
        var warmRSS: Int? = nil
        let clock = ContinuousClock()
        let started = clock.now
        var next = 0
        // Bounded: each turn runs at least one completion more (or the driver stopped completing).
        while w.driver.completions < completions {
            next = min(completions, w.driver.completions + faultEvery / 2 + Int(random.next() % UInt64(faultEvery)))
            let before = w.driver.completions
            // A stall ends the loop below (no progress); the summary says how far it got.
            do throws(WorkloadStall) { try w.run(completions: next) } catch {}
            if warmRSS == nil && w.driver.completions >= warmUp { warmRSS = EndToEnd.residentKiB() }
            if w.driver.completions == before { break }
            if w.driver.completions < completions { faults.inject(into: w, random: &random) }
        }
        w.run(for: .milliseconds(1))  // the last fault's recovery and pauses end
        let wall = clock.now - started
        let endRSS = EndToEnd.residentKiB()
        let report = w.report
        let growth = endRSS - (warmRSS ?? endRSS)
        var problems: [String] = []
        for invariant in report.invariants where !invariant.holds && invariant.name != "every byte verified" {
            problems.append("\(invariant.name): \(invariant.detail)")
        }
        if report.mismatchedBytes != UInt64(faults.corruptedBytes) || w.consumer.statistics.outOfOrder != 0 {
            problems.append("mismatched bytes \(report.mismatchedBytes), out of order \(w.consumer.statistics.outOfOrder): expected \(faults.corruptedBytes) (one per corrupt-byte fault) and 0")
        }
        if !report.findings.isEmpty { problems.append("DMA findings: \(report.findings)") }
        if !report.driverState.hasPrefix("running") { problems.append("driver \(report.driverState), expected running") }
        if report.completions < completions { problems.append("\(report.completions) completions, expected \(completions)") }
        if growth >= rssGrowthKiB { problems.append("resident set grew \(growth) KiB after warm-up (limit \(rssGrowthKiB) KiB)") }

        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        print(report.summary)
        print("(mismatched bytes expected: \(faults.corruptedBytes), one per corrupt-byte fault)")
        print("faults: \(faults.injected) injected (\(faults.summary))")
        print("resident set: \(warmRSS ?? -1) KiB after \(warmUp) completions, \(endRSS) KiB at the end: \(growth) KiB growth")
        print(String(format: "wall %.1f s, %.0f completions/s", seconds, Double(report.completions) / seconds))
        if problems.isEmpty {
            print("soak: PASS (\(report.completions) completions, \(faults.injected) faults, 0 violations)")
        } else {
            for problem in problems { print("soak: FAIL \(problem)") }
            print("soak: reproduce with uioemu-bench soak --completions \(completions) --fault-every \(faultEvery) --seed \(seed)")
            throw ExitCode(1)
        }
    }
}

/// The faults a soak draws from: every device fault that applies to the P2020's level-sensitive
/// S2MM line (a level line cannot lose an interrupt), and the workload's own disturbances.
struct SoakFaults {
    private(set) var injected = 0
    private(set) var byKind: [String: Int] = [:]
    /// Bytes flipped by corrupt-byte faults: the consumer must find exactly these.
    private(set) var corruptedBytes = 0

    var summary: String { byKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }

    mutating func inject(into w: ReceiveWorkload, random: inout SplitMix64) {
        let choice = random.next() % 13
        let kind: String
        switch choice {
        case 0: kind = device(.slaveError, w)
        case 1: kind = device(.decodeError, w)
        case 2: kind = device(.internalError, w)
        case 3: kind = device(.stall, w)
        case 4: kind = device(.delayCompletion(.microseconds(1 + Int64(random.next() % 100))), w)
        case 5: kind = device(.shortPacket(bytes: 1 + Int(random.next() % 4095)), w)
        case 6:
            kind = device(.corruptByte(offset: Int(random.next() % 4096), mask: UInt8(1 + random.next() % 255)), w)
            corruptedBytes += 1
        case 7: kind = device(.delayInterrupt, w)
        case 8: kind = device(.spuriousInterrupt, w)
        case 9: kind = workload(.restartDriver, w, "restart-driver")
        case 10: kind = workload(.consumerStall(.microseconds(10 + Int64(random.next() % 500))), w, "consumer-stall")
        case 11:
            kind = workload(.pauseSource, w, "pause-source")
            let channel = w.channel
            w.reactor.schedule(after: .microseconds(10 + Int64(random.next() % 150))) { channel.resumeSource() }
        default:
            let rates: [UInt64?] = [100_000_000, 400_000_000, nil]
            kind = workload(.setRate(rates[Int(random.next() % 3)]), w, "set-rate")
        }
        injected += 1
        byKind[kind, default: 0] += 1
    }

    private func device(_ fault: AXIDMAFault, _ w: ReceiveWorkload) -> String {
        do throws(FaultRejection) {
            try w.channel.inject(fault)
        } catch {
            preconditionFailure("the soak injected a fault the channel refuses: \(error)")
        }
        return "\(fault)".split(separator: "(").first.map(String.init) ?? "\(fault)"
    }

    private func workload(_ action: ScenarioSpec.Step.WorkloadAction, _ w: ReceiveWorkload, _ name: String) -> String {
        if let failure = w.perform(action) { preconditionFailure("the soak's \(name) failed: \(failure)") }
        return name
    }
}
