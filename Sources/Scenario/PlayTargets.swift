import Board
import Devices
import Driver
import Reactor
import Trace
import UIO

/// `mode: receive`: the receive workload, steps acting on its source, channel, driver and consumer.
final class ReceivePlay: PlayTarget {
    let workload: ReceiveWorkload
    /// A second open file of the UIO device: another process's view, for mask-irq / unmask-irq.
    let sideFile: UIOFile
    var staleReads = 0
    var reactor: Reactor { workload.reactor }
    var completions: Int { workload.driver.completions }

    init(spec: ScenarioSpec, profile: BoardProfile, seed: UInt64) throws(WorkloadError) {
        var c = ReceiveWorkload.Configuration()
        c.ringSize = spec.driver.ringSize
        c.bufferBytes = spec.driver.bufferBytes
        c.pattern = spec.stream.pattern
        c.packetSize = spec.stream.packetSize
        c.rateBytesPerSecond = spec.stream.rateBytesPerSecond
        c.backPressure = spec.stream.backPressure
        c.consumerProcessing = spec.driver.consumerProcessing
        c.consumerHold = spec.driver.consumerHold
        c.watchdog = spec.driver.watchdog
        c.maxRetries = spec.driver.maxRetries
        if let node = spec.driver.uioNode { c.uioNode = node }
        workload = try ReceiveWorkload(profile: profile, clock: spec.clock, seed: seed, configuration: c)
        sideFile = workload.uioDevice.open(nonBlocking: true)
    }

    func attach(_ tracer: Tracer) { workload.attach(tracer) }
    func start() throws(WorkloadError) { try workload.start() }

    func perform(_ action: ScenarioSpec.Step.Action) -> String? {
        switch action {
        case let .inject(fault, channel):
            let dma = workload.devices.axiDMA(named: workload.uioDevice.maps[0].region)
            return inject(fault, into: channel == .s2mm ? dma?.s2mm : dma?.mm2s)
        case let .setRate(rate): workload.channel.setSourceRate(rate)
        case .pauseSource: workload.channel.pauseSource()
        case .resumeSource: workload.channel.resumeSource()
        case .restartDriver:
            workload.driver.stop()
            if case let .failure(error) = workload.driver.start() { return "driver did not restart: \(error)" }
        case let .consumerStall(duration): workload.consumer.stall(for: duration)
        case let .cpuReadBuffer(requested):
            guard let slot = requested ?? workload.driver.machine.armedSlot else { return "cpu-read-buffer: no buffer is armed" }
            guard slot < workload.driver.buffers.count else { return "cpu-read-buffer: slot \(slot) is beyond the ring of \(workload.driver.buffers.count)" }
            let buffer = workload.driver.buffers[slot]
            let seen = buffer.withCPUBytes(count: 64) { Array($0) }
            var memory = [UInt8](repeating: 0, count: 64)
            _ = memory.withUnsafeMutableBytes { workload.board.bus.read(into: $0, from: buffer.physicalAddress) }
            if seen != memory { staleReads += 1 }
        case let .freeBuffer(slot):
            guard slot < workload.driver.buffers.count else { return "free-buffer: slot \(slot) is beyond the ring of \(workload.driver.buffers.count)" }
            if let error = workload.uio.heap.free(workload.driver.buffers[slot]) { return "free-buffer: \(error)" }
        case .maskInterrupt: _ = sideFile.setInterruptEnabled(false)
        case .unmaskInterrupt: _ = sideFile.setInterruptEnabled(true)
        case .stop: break
        case let .advance(span): reactor.run(until: reactor.now + span)
        case .write, .read, .waitIRQ:
            return scriptStep(action, board: workload.board, dma: workload.devices.axiDMA(named: workload.uioDevice.maps[0].region),
                              reactor: reactor)
        }
        return nil
    }

    func finish() { workload.consumer.release = nil }

    var measures: Measures {
        let r = workload.report
        var m = Measures()
        m.completions = r.completions
        dropped(workload.channel.accounting, into: &m)
        m.lostInterrupts = r.lostInterrupts
        m.spuriousInterrupts = r.spuriousInterrupts
        m.recoveries = r.recoveries
        m.errors = r.errors
        m.mismatchedBytes = r.mismatchedBytes
        m.verifiedBytes = r.verifiedBytes
        m.latencyP99 = Int64(r.latencyNanoseconds["p99"] ?? 0)
        m.staleReads = staleReads
        m.driverState = "\(workload.driver.state)"
        addFindings(workload.uio, to: &m)
        m.violations += staleReads
        return m
    }
}

/// `mode: transmit`: the transmit workload into a checking sink.
final class TransmitPlay: PlayTarget {
    let workload: TransmitWorkload
    var reactor: Reactor { workload.reactor }
    var completions: Int { workload.driver.completions }

    init(spec: ScenarioSpec, profile: BoardProfile, seed: UInt64) throws(WorkloadError) {
        var c = TransmitWorkload.Configuration()
        c.ringSize = spec.driver.ringSize
        c.bufferBytes = spec.driver.bufferBytes
        c.pattern = spec.stream.pattern
        c.sinkRateBytesPerSecond = spec.stream.sinkRateBytesPerSecond
        c.watchdog = spec.driver.watchdog
        c.maxRetries = spec.driver.maxRetries
        if let node = spec.driver.uioNode { c.uioNode = node }
        workload = try TransmitWorkload(profile: profile, seed: seed, configuration: c)
    }

    func attach(_ tracer: Tracer) { workload.attach(tracer) }
    func start() throws(WorkloadError) { try workload.start() }

    func perform(_ action: ScenarioSpec.Step.Action) -> String? {
        switch action {
        case let .inject(fault, channel):
            let dma = workload.devices.axiDMAs.first
            return inject(fault, into: channel == .mm2s ? dma?.mm2s : dma?.s2mm)
        case .restartDriver:
            workload.driver.stop()
            if case let .failure(error) = workload.driver.start() { return "driver did not restart: \(error)" }
        case .stop: break
        case let .advance(span): reactor.run(until: reactor.now + span)
        case .write, .read, .waitIRQ:
            return scriptStep(action, board: workload.board, dma: workload.devices.axiDMAs.first, reactor: reactor)
        case .setRate, .pauseSource, .resumeSource, .consumerStall, .cpuReadBuffer, .freeBuffer, .maskInterrupt, .unmaskInterrupt:
            return "this step needs mode: receive (a stream source and a consumer)"
        }
        return nil
    }

    func finish() {}

    var measures: Measures {
        let metrics = workload.driver.metrics
        let sink = workload.channel.sinkStatistics
        var m = Measures()
        m.completions = metrics.completions
        m.bytesDelivered = sink.bytes
        m.lostInterrupts = metrics.lostInterrupts
        m.spuriousInterrupts = metrics.spuriousInterrupts
        m.recoveries = metrics.recoveries
        m.errors = Dictionary(uniqueKeysWithValues: metrics.errors.map { ($0.key.rawValue, $0.value) })
        m.mismatchedBytes = sink.mismatchedBytes
        m.verifiedBytes = sink.verifiedBytes
        m.driverState = "\(workload.driver.state)"
        addFindings(workload.uio, to: &m)
        return m
    }
}

/// `mode: script`: no driver, no buffers (so no guard); the timeline's register steps drive the
/// first AXI DMA of the board through the bus, as a bare-metal test would.
final class ScriptPlay: PlayTarget {
    let reactor: Reactor
    let board: Board
    let devices: DeviceSet
    var failures = 0
    var completions: Int { 0 }

    init(spec: ScenarioSpec, profile: BoardProfile, seed: UInt64) throws(WorkloadError) {
        reactor = Reactor(clock: spec.clock)
        board = Board(profile: profile)
        devices = DeviceSet(board: board, reactor: reactor, seed: seed)
        guard let dma = devices.axiDMAs.first else { throw WorkloadError("board \(profile.name) has no AXI DMA to script") }
        if let s2mm = dma.s2mm, spec.stream.pattern.carriesData || spec.stream.rateBytesPerSecond != nil {
            s2mm.attach(StreamSource(pattern: spec.stream.pattern, packetSize: spec.stream.packetSize,
                                     rateBytesPerSecond: spec.stream.rateBytesPerSecond, backPressure: spec.stream.backPressure))
        }
    }

    func attach(_ tracer: Tracer) {
        board.interrupts.tracer = tracer
        for dma in devices.axiDMAs { dma.tracer = tracer }
    }

    func start() throws(WorkloadError) {}

    func perform(_ action: ScenarioSpec.Step.Action) -> String? {
        let dma = devices.axiDMAs.first
        switch action {
        case let .inject(fault, channel): return inject(fault, into: channel == .s2mm ? dma?.s2mm : dma?.mm2s)
        case let .advance(span): reactor.run(until: reactor.now + span)
        case .stop: break
        case .write, .read, .waitIRQ:
            let message = scriptStep(action, board: board, dma: dma, reactor: reactor)
            if message != nil { failures += 1 }
            return message
        case .setRate, .pauseSource, .resumeSource, .restartDriver, .consumerStall, .cpuReadBuffer, .freeBuffer, .maskInterrupt,
             .unmaskInterrupt:
            return "this step needs a driver (mode: receive or transmit)"
        }
        return nil
    }

    func finish() {}

    var measures: Measures {
        var m = Measures()
        m.scriptFailures = failures
        if let s2mm = devices.axiDMAs.first?.s2mm { dropped(s2mm.accounting, into: &m) }
        return m
    }
}

/// write / read / wait-irq against `dma`'s registers through the board bus (little-endian, as
/// `out_le32`/`in_le32` do on PowerPC). Returns a failure message, or nil.
func scriptStep(_ action: ScenarioSpec.Step.Action, board: Board, dma: AXIDMA?, reactor: Reactor) -> String? {
    guard let dma, let window = board.profile.device(named: dma.name) else { return "the board has no AXI DMA" }
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
        guard let line = (channel == .s2mm ? dma.s2mm : dma.mm2s)?.route.line else { return "the AXI DMA has no \(channel) channel" }
        let pending = { board.interrupts.isPending(line) }
        let timer = reactor.schedule(at: reactor.now + within) { reactor.stop() }
        reactor.run(until: pending)
        reactor.cancel(timer)
        return pending() ? nil : "wait-irq \(channel): line \(line) not raised within \(within)"
    default: break
    }
    return nil
}

private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }
