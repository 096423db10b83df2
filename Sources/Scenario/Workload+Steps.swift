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
    /// (little-endian, as `out_le32`/`in_le32` do on PowerPC). Returns a failure message, or nil.
    private func registerStep(_ action: ScenarioSpec.Step.Action) -> String? {
        guard let dma = scriptedDMA, let window = board.profile.device(named: dma.name) else { return "the board has no AXI DMA" }
        let base = window.range.base
        switch action {
        case let .write(register, value):
            if let fault = board.bus.write32(value, at: base + UInt64(register.offset), assuming: .little) {
                return "write \(register.name): \(fault)"
            }
        case let .read(register, expect, mask):
            switch board.bus.read32(at: base + UInt64(register.offset), assuming: .little) {
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
        case .inject, .advance, .stop, .workload:
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
