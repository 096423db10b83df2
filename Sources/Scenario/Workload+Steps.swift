import Board
import Devices
import Reactor
import UIO

/// The steps and measures every workload shares, in one place: whatever the kind, a fault is
/// injected into its scripted AXI DMA, time advances on its reactor, register steps go through its
/// board's bus, and the DMA heap's findings, the UIO nodes' storms and the stream accounting are
/// read the same way.
/// What playing one step did.
enum StepOutcome {
    case done
    case failed(String)
    /// A fault went into `channel`: its evidence is record `record` of `channel.faultEvidence`.
    case injected(DMAChannel, record: Int)
}

extension Workload {
    /// Does `action`: the board's steps here, the rest by the kind.
    func play(_ action: ScenarioSpec.Step.Action) -> StepOutcome {
        switch action {
        case let .inject(fault, channel): return inject(fault, into: scriptedDMA?.channel(channel))
        case let .advance(span): reactor.run(until: reactor.now + span)
        case .stop: break
        case .write, .read, .waitIRQ: return registerStep(action).map(StepOutcome.failed) ?? .done
        case let .expectLine(channel, high): return expectLine(channel, high: high).map(StepOutcome.failed) ?? .done
        case let .readMemory(check): return readMemory(check).map(StepOutcome.failed) ?? .done
        case let .workload(own): return perform(own).map(StepOutcome.failed) ?? .done
        }
        return .done
    }

    /// The shared figures, then the kind's own on top.
    func measures(scriptFailures: Int) -> Measures {
        var m = Measures()
        m.scriptFailures = scriptFailures
        if let accountedChannel {
            let a = accountedChannel.accounting
            m.bytesDelivered = a.deliveredBytes
            m.bytesDropped = a.dropped.total
            for reason in DropReason.allCases where a.dropped[reason] > 0 { m.dropped[reason] = a.dropped[reason] }
        }
        if let kernel {
            for kind in DMAFinding.Kind.allCases {
                let n = kernel.heap.findings.count(kind, .violation) + kernel.heap.findings.count(kind, .warning)
                if n > 0 { m.findings[kind.rawValue] = n }
                m.violations += kernel.heap.findings.count(kind, .violation)
            }
            for device in kernel.devices {
                m.storms += device.storms
                m.enablesWithCauseAsserted += device.enablesWithCauseAsserted
            }
        }
        measure(into: &m)
        return m
    }

    /// write / read / wait-irq against the scripted AXI DMA's registers through the board bus
    /// (little-endian, as `out_le32`/`in_le32` do on PowerPC, unless the step says `byte-order: big`). Any offset inside the window: a
    /// reserved one reads 0 and ignores writes. Returns a failure message, or nil.
    private func registerStep(_ action: ScenarioSpec.Step.Action) -> String? {
        guard let dma = scriptedDMA, let window = board.profile.device(named: dma.name) else { return "the board has no AXI DMA" }
        let base = window.range.base
        switch action {
        case let .write(register, _), let .read(register, _, _):
            guard UInt64(register.offset) + 4 <= window.range.size else {
                return "\(register.name) is outside \(dma.name)'s window (\(window.range.size) bytes)"
            }
        default: break
        }
        switch action {
        case let .write(register, value):
            if let fault = board.bus.write32(value, at: base + UInt64(register.offset), assuming: register.byteOrder) {
                return "write \(register.name): \(fault)"
            }
        case let .read(register, expect, mask):
            switch board.bus.read32(at: base + UInt64(register.offset), assuming: register.byteOrder) {
            case let .success(value):
                if value & mask != expect & mask {
                    return "read \(register.name): expected \(hex(expect & mask)) under mask \(hex(mask)), found \(hex(value & mask)) (\(register.decode(value)))"
                }
            case let .failure(fault): return "read \(register.name): \(fault)"
            }
        case let .waitIRQ(channel, within):
            guard let line = dma.channel(channel)?.route.line else { return "the AXI DMA has no \(channel) channel" }
            let board = self.board, reactor = self.reactor
            let pending = { board.interrupts.isPending(line) }
            let timer = reactor.schedule(at: reactor.now + within) { reactor.stop() }
            reactor.run(until: pending)
            reactor.cancel(timer)
            return pending() ? nil : "wait-irq \(channel): line \(line) not raised within \(within)"
        case .inject, .advance, .stop, .workload, .expectLine, .readMemory:
            preconditionFailure("\(action) is not a register step")
        }
        return nil
    }

    private func inject(_ fault: AXIDMAFault, into channel: DMAChannel?) -> StepOutcome {
        guard let channel else { return .failed("the board's AXI DMA has no such channel") }
        do throws(FaultRejection) {
            return .injected(channel, record: try channel.inject(fault))
        } catch {
            return .failed("fault \(fault) refused: \(error)")
        }
    }
}

private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

extension Workload {
    /// `expect-line`: the channel's interrupt line is at `high` now (the controller's input level:
    /// what the trace's `irq` events and the VCD show; an active-low line is low when asserted).
    func expectLine(_ channel: DMADirection, high: Bool) -> String? {
        guard let line = scriptedDMA?.channel(channel)?.route.line else { return "the AXI DMA has no \(channel) channel" }
        let level = board.interrupts.inputLevel(of: line)
        return level == high ? nil : "expect-line \(channel): line \(line) is \(level ? "high" : "low"), expected \(high ? "high" : "low")"
    }

    /// `read-memory`: RAM at the address, compared with a stream pattern (from the given stream
    /// offset, else from the packet the scripted S2MM channel completed last) or with given bytes.
    func readMemory(_ check: ScenarioSpec.MemoryCheck) -> String? {
        var data = [UInt8](repeating: 0, count: check.bytes)
        let at = "read-memory \(hex64(check.address)) +\(check.bytes)"
        if let fault = data.withUnsafeMutableBytes({ board.bus.read(into: $0, from: PhysicalAddress(check.address)) }) {
            return "\(at): \(fault)"
        }
        switch check.expected {
        case let .bytes(expected):
            guard let first = zip(data, expected).enumerated().first(where: { $0.element.0 != $0.element.1 }) else { return nil }
            let differ = zip(data, expected).filter { $0 != $1 }.count
            return "\(at): \(differ) byte(s) differ, the first at +\(first.offset): expected \(hex8(first.element.1)), found \(hex8(first.element.0))"
        case let .pattern(pattern, streamOffset):
            let offset = streamOffset ?? scriptedDMA?.s2mm?.completedPacketStreamOffset ?? 0
            var generator = PatternGenerator(pattern)
            generator.seek(to: offset)
            var expected = [UInt8](repeating: 0, count: check.bytes)
            expected.withUnsafeMutableBytes { generator.fill($0) }
            let differ = zip(data, expected).filter { $0 != $1 }.count
            guard differ > 0, let first = zip(data, expected).enumerated().first(where: { $0.element.0 != $0.element.1 }) else { return nil }
            return "\(at): \(differ) byte(s) differ from \(pattern) at stream offset \(offset), the first at +\(first.offset): expected \(hex8(first.element.1)), found \(hex8(first.element.0))"
        }
    }
}

private func hex64(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
private func hex8(_ v: UInt8) -> String { "0x" + String(v, radix: 16) }
