import Board
import Devices
import Driver
import Reactor
import UIO

/// Many independent receive channels in one reactor: every UIO node of the board that maps an AXI
/// DMA with an S2MM channel gets its own source, file, driver and byte-checking consumer. For
/// scaling measurements (cost per completion with 1, 4, 16, 64 channels).
public final class ReceiveFleet {
    public let reactor: Reactor
    public let board: Board
    public let uio: UIOSystem
    public let devices: DeviceSet
    public let drivers: [ReceiveWorkload.Driver]
    public let consumers: [VerifyingConsumer]

    public init(profile: BoardProfile, seed: UInt64 = 1, configuration: WorkloadConfiguration = WorkloadConfiguration()) throws(WorkloadError) {
        let emulated = EmulatedBoard(profile: profile, clock: configuration.clock, seed: seed)
        (reactor, board, uio, devices) = (emulated.reactor, emulated.board, emulated.uio, emulated.devices)
        var drivers: [ReceiveWorkload.Driver] = []
        var consumers: [VerifyingConsumer] = []
        for node in uio.devices {
            guard let mapped = emulated.mappedChannel(node, .s2mm), node.interruptLine == mapped.channel.route.line else { continue }
            let (mapping, s2mm) = (mapped.mapping, mapped.channel)
            s2mm.attach(configuration.source)
            let consumer = VerifyingConsumer(channel: s2mm, pattern: configuration.source.pattern,
                                             bufferBytes: configuration.driver.bufferBytes, ringSize: configuration.driver.ringSize,
                                             reactor: reactor)
            let driver = ReceiveWorkload.Driver(
                reactor: reactor, registers: mapping, interrupts: node.open(nonBlocking: true), buffers: uio.heap, consumer: consumer,
                configuration: configuration.driver)
            consumer.release = { [unowned driver] slot in driver.release(slot: slot) }
            consumer.driverErrors = { [unowned driver] in driver.metrics.totalErrors }
            drivers.append(driver)
            consumers.append(consumer)
        }
        guard !drivers.isEmpty else { throw WorkloadError("board \(profile.name) has no UIO node on an S2MM channel") }
        self.drivers = drivers
        self.consumers = consumers
    }

    public func start() throws(WorkloadError) {
        for driver in drivers {
            if case let .failure(error) = driver.start() { throw WorkloadError("driver did not start: \(error)") }
        }
    }

    public var completions: Int { drivers.reduce(0) { $0 + $1.completions } }

    /// Runs until all channels together have completed `total` transfers; throws when nothing can
    /// happen any more before that.
    public func run(completions total: Int) throws(WorkloadStall) {
        reactor.run(until: { self.completions >= total })
        try reactor.checkGoal(total, reached: completions, state: drivers.map { "\($0.state)" }.joined(separator: ", "))
    }

    /// Bytes that failed verification, over all channels.
    public var mismatchedBytes: UInt64 { consumers.reduce(0) { $0 + $1.statistics.mismatchedBytes } }

    /// Every channel's invariants: its stream balances, every byte it delivered was received and
    /// verified with no unexplained gap, no storm or enable with the cause asserted on its node, no
    /// DMA outside buffers, no completion signalled twice.
    public var invariantsHold: Bool {
        let streams = zip(drivers, consumers).allSatisfy { driver, consumer in
            let v = consumer.statistics
            return consumer.channel.accounting.balances && v.mismatchedBytes == 0 && v.outOfOrder == 0 && v.unexplainedGaps == 0
                && UInt64(driver.metrics.bytes) == v.receivedBytes && (!consumer.checksData || v.verifiedBytes == v.receivedBytes)
                && driver.metrics.completionMisuses == 0
        }
        let nodes = uio.devices.allSatisfy { $0.storms == 0 && $0.enablesWithCauseAsserted == 0 }
        return streams && nodes && uio.heap.findings.count(.dmaOutsideBuffers, .violation) == 0
    }
}
