import DriverPorts
import Histogram
import Reactor
import Trace

/// Receives the buffers of a scatter-gather S2MM channel, one descriptor's buffer at a time, in
/// ring order: `length` bytes, with the descriptor's RXSOF (`startsPacket`) and RXEOF
/// (`endsPacket`): a packet longer than one buffer comes as several. Return `.release` to give the
/// buffer back at once, or `.keep` and call `SGReceiveDriver.release(slot:)` later.
public protocol PacketConsumer: AnyObject {
    associatedtype Buffer: DMABufferHandle
    func receive(slot: Int, buffer: Buffer, length: Int, transfer: UInt64, startsPacket: Bool, endsPacket: Bool) -> ConsumerDecision
}

/// The thin shell around `SGReceiveStateMachine`: it owns the descriptor ring (one DMA buffer of
/// `ringSize` × 0x40 bytes) and the data buffers, both allocated once at the first start; reads
/// DMASR, CURDESC and descriptor STATUS words; writes descriptors and registers; feeds the machine
/// and performs its actions. Generic and `open` for the same reason as `ReceiveDriver` (a concrete
/// subclass per platform gets the specialised body).
///
/// Descriptor words are stored little-endian, whatever the CPU's order (PG021: the AXI side reads
/// memory little-endian; a big-endian PowerPC driver stores them with `out_le32`/`st_le32`), each
/// access bracketed by sync-for-cpu and sync-for-device of the descriptor's bytes (streaming DMA
/// rules: the ring is the device's between the driver's accesses).
open class SGReceiveDriver<Registers: RegisterPort, Interrupts: InterruptSource, Buffers: DMABufferProvider,
    Consumer: PacketConsumer>: ReactorTarget where Consumer.Buffer == Buffers.Buffer
{
    public typealias Machine = SGReceiveStateMachine

    let consumer: Consumer
    let io: DriverIO<Registers, Interrupts, Buffers>
    /// The planted bug `descriptor-byte-order`: descriptor words stored (and read) in the big-endian
    /// CPU's own order, as a driver that forgets `cpu_to_le32` does.
    let storesCPUOrder: Bool
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) private var wakeups = DriverWakeups()
    @exclusivity(unchecked) public private(set) var resetsTimedOut = 0
    @exclusivity(unchecked) public private(set) var startsTimedOut = 0
    @exclusivity(unchecked) private var wait = CoreWait<Machine.Action>()
    @exclusivity(unchecked) public private(set) var machine: Machine
    @exclusivity(unchecked) public private(set) var buffers: [Buffers.Buffer] = [] {
        didSet { ring = buffers.map { Unmanaged.passUnretained($0) } }
    }
    /// `buffers`, unretained (see `ReceiveDriver.ring`).
    @exclusivity(unchecked) private var ring: [Unmanaged<Buffers.Buffer>] = []
    /// The descriptor ring's buffer, and it unretained.
    @exclusivity(unchecked) public private(set) var descriptorBuffer: Buffers.Buffer? = nil {
        didSet { descriptors = descriptorBuffer.map { Unmanaged.passUnretained($0) } }
    }
    @exclusivity(unchecked) private var descriptors: Unmanaged<Buffers.Buffer>? = nil
    /// The ring's DMA address (descriptor i is at + i × 0x40).
    @exclusivity(unchecked) public private(set) var descriptorBase: UInt64 = 0
    @exclusivity(unchecked) public private(set) var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    @exclusivity(unchecked) private var recorder = TransitionRecorder<Machine.Owner>(traceName: "sg-receive-driver")

    public var tracer: Tracer? {
        get { recorder.tracer }
        set { recorder.attach(newValue, state: machine.state, owners: machine.owners, lostInterrupts: machine.metrics.lostInterrupts) }
    }
    public var traceName: String { recorder.traceName }

    public init(reactor: Reactor, registers: Registers, interrupts: Interrupts, buffers: Buffers, consumer: Consumer,
                configuration: DriverConfiguration) {
        io = DriverIO(reactor: reactor, registers: registers, channelBase: AXIDMAHeader.s2mmBase, interrupts: interrupts,
                      buffers: buffers, configuration: configuration)
        self.consumer = consumer
        storesCPUOrder = configuration.plantedBug == .descriptorByteOrder
        machine = Machine(ringSize: configuration.ringSize, bufferBytes: configuration.bufferBytes,
                          coalescing: configuration.coalescing, cyclic: configuration.cyclic, maxRetries: configuration.maxRetries)
    }

    public var configuration: DriverConfiguration { io.configuration }
    public var state: DriverState { machine.state }
    /// Descriptors in the chain when the driver stopped (a restart), abandoned, completed or not.
    /// Kept in the shell, as `ReceiveDriver.abandonedAtStop` is: the state machine's stored
    /// properties are on the per-completion path.
    @exclusivity(unchecked) public private(set) var abandonedAtStop = 0
    public var completions: Int { machine.metrics.completions }
    public var metrics: DriverMetrics { io.metrics(machine.metrics) }
    public func reapCompletion() -> Completion? { machine.reapCompletion() }

    /// The DMA address of slot's descriptor.
    public func descriptorAddress(_ slot: Int) -> UInt64 { descriptorBase + UInt64(slot * AXIDMAHeader.Descriptor.stride) }

    /// Allocates the descriptor ring, then the buffers (once: a restart reuses both), resets and
    /// programs the core and starts watching the interrupt.
    public func start() -> Result<Void, DriverSetupError> {
        if descriptorBuffer == nil {
            let bytes = io.configuration.ringSize * AXIDMAHeader.Descriptor.stride
            switch io.provider.allocateBuffers(count: 1, byteCount: bytes) {
            case let .success(allocated):
                guard let first = allocated.first, first.dmaAddress % UInt64(AXIDMAHeader.Descriptor.stride) == 0 else {
                    return .failure(DriverSetupError("the descriptor ring is not 0x40-aligned (PG021: descriptors are 16-word aligned)"))
                }
                descriptorBuffer = first
                descriptorBase = first.dmaAddress
            case let .failure(error): return .failure(DriverSetupError("descriptor ring: \(error)"))
            }
        }
        switch io.open(ring: &buffers, wakeups: &wakeups, target: self) {
        case let .success(eventCount): perform(machine.start(eventCount: eventCount))
        case let .failure(error): return .failure(error)
        }
        return .success(())
    }

    /// Halts the engine and stops watching; the ring stays allocated. The descriptors in the chain
    /// are abandoned (`SGReceiveStateMachine.stop`) and counted here.
    public func stop() {
        abandonedAtStop += machine.owners.lazy.filter { $0 == .device }.count
        perform(machine.stop())
        wakeups.close(io.reactor)
    }

    /// The consumer gives a kept buffer back.
    public func release(slot: Int) {
        perform(machine.release(slot: slot))
    }

    // MARK: reactor events

    override open func reactorEvent(_ tag: UInt64) { handleEvent(tag) }

    public final func handleEvent(_ tag: UInt64) {
        switch DriverWakeups.Tag(rawValue: tag) {
        case .interrupt: handleInterrupt()
        case .retry: perform(machine.retryTimerFired())
        case .watchdog: break  // never armed: a receive ring may wait for data for ever
        case .poll: pollCore()
        case nil: break
        }
    }

    @inline(__always)
    private func handleInterrupt() {
        let count: Int32
        switch io.interrupts.readEventCount() {
        case let .success(n): count = n
        case .failure(.resourceTemporarilyUnavailable): return
        case .failure:
            machine.noteFaults(register: io.registers.faults, interruptSource: 1)
            return
        }
        if let raised = io.interrupts.lastInterruptTime {
            let ns = (io.reactor.now - raised).nanoseconds
            latency.record(UInt64(max(ns, 0)))
        }
        guard !wait.isWaiting else {
            wait.deferredInterrupt = count
            return
        }
        interrupt(eventCount: count)
    }

    /// DMASR, and on an error CURDESC (PG021: it names the descriptor the engine failed on).
    @inline(__always)
    private func interrupt(eventCount count: Int32) {
        let status = io.channel.read(.DMASR)
        var current: Int? = nil
        if status & AXIDMAHeader.errors != 0 { current = currentSlot() }
        perform(machine.interrupt(eventCount: count, status: status, currentSlot: current))
    }

    @inline(never)
    private func currentSlot() -> Int? {
        let address = UInt64(io.channel.read(.CURDESC_MSB)) << 32 | UInt64(io.channel.read(.CURDESC))
        let stride = UInt64(AXIDMAHeader.Descriptor.stride)
        guard address >= descriptorBase, address - descriptorBase < UInt64(machine.ringSize) * stride else { return nil }
        return Int((address - descriptorBase) / stride)
    }

    // MARK: actions

    /// The machine as it is now, to the recorder: each owner read at its call, so that no array is
    /// held (and retained) across the tracer's calls.
    @inline(never)
    private func recordTransitions() {
        recorder.record(state: machine.state, lostInterrupts: machine.metrics.lostInterrupts)
        var slot = 0
        while slot < machine.owners.count {  // bounded: the ring
            recorder.record(slot: slot, owner: machine.owners[slot])
            slot += 1
        }
    }

    @inline(__always)
    private func perform(_ actions: Machine.Actions) {
        if recorder.isTracing { recordTransitions() }
        guard !wait.isWaiting else {
            wait.enqueue(actions)
            return
        }
        for i in 0..<actions.count where !perform(actions[i]) {
            wait.park(actions, from: i + 1)
            return
        }
    }

    /// The poll timer: the core caught up (or the polls ran out, counted); the parked actions go on.
    private func pollCore() {
        guard let condition = wait.condition else { return }
        if !io.shows(condition) {
            if wait.poll(limit: io.configuration.resetPollLimit) {
                io.schedulePoll(wakeups)
                return
            }
            countTimeout(condition)
        }
        wait.end()
        // Bounded: each parked action is taken once; a new wait stops it.
        while !wait.isWaiting, let action = wait.next() {
            _ = perform(action)
        }
        guard !wait.isWaiting, let count = wait.deferredInterrupt else { return }
        wait.deferredInterrupt = nil
        interrupt(eventCount: count)
    }

    private func waitFor(_ condition: CoreWaitCondition) -> Bool {
        guard io.configuration.resetPollLimit > 1 else {
            countTimeout(condition)
            return true
        }
        wait.begin(condition)
        io.schedulePoll(wakeups)
        return false
    }

    private func countTimeout(_ condition: CoreWaitCondition) {
        if condition == .resetDone { resetsTimedOut += 1 } else { startsTimedOut += 1 }
    }

    /// One action; false when it left the core to catch up (the shell now waits).
    @inline(__always)
    private func perform(_ action: Machine.Action) -> Bool {
        switch action {
        case .resetCore: if !io.resetCore(wakeups) { return waitFor(.resetDone) }
        case .writeChain: writeChain()
        case let .writeCurrent(slot):
            let address = descriptorAddress(slot)
            io.channel.write(.CURDESC, UInt32(truncatingIfNeeded: address))
            io.channel.write(.CURDESC_MSB, UInt32(truncatingIfNeeded: address >> 32))
        case let .writeControl(value): if !io.writeControl(value) { return waitFor(.running) }
        case let .writeTail(slot):
            // Low half, then high half: above 32 address bits the MSB write is the one that starts.
            let address = descriptorAddress(slot)
            io.channel.write(.TAILDESC, UInt32(truncatingIfNeeded: address))
            io.channel.write(.TAILDESC_MSB, UInt32(truncatingIfNeeded: address >> 32))
        case let .clearStatus(bits): io.clearStatus(bits, wakeups)
        case .reap: reap()
        case let .deliver(slot): deliver(slot)
        case let .recycle(first, count):
            var slot = first
            for _ in 0..<count {  // bounded: count ≤ ring size
                ring[slot]._withUnsafeGuaranteedRef { $0.syncForDevice(length: $0.byteCount) }
                writeDescriptorStatus(slot, 0)
                slot = slot + 1 == machine.ringSize ? 0 : slot + 1
            }
        case .enableInterrupt:
            if !io.enableInterrupt() { machine.noteFaults(register: io.registers.faults, interruptSource: 1) }
        case let .scheduleRetry(attempt): io.scheduleRetry(attempt: attempt, wakeups)
        }
        return true
    }

    /// Reads STATUS from the machine's reap candidate on while Cmplt is set, feeding each to the
    /// machine (and performing what it says: deliveries, and the releases they cause, in place).
    @inline(__always)
    private func reap() {
        for _ in 0..<machine.ringSize {  // bounded: each descriptor of the ring at most once
            guard let slot = machine.reapCandidate else { break }
            let status = readDescriptorStatus(slot)
            guard status & AXIDMAHeader.Descriptor.Cmplt != 0 else { break }
            perform(machine.descriptorCompleted(slot: slot, status: status))
        }
        perform(machine.reapDone())
    }

    @inline(__always)
    private func deliver(_ slot: Int) {
        let completion = machine.completions[slot]
        let status = machine.statuses[slot]
        let decision = ring[slot]._withUnsafeGuaranteedRef { buffer in
            buffer.syncForCPU(length: completion.byteCount)
            return consumer.receive(slot: slot, buffer: buffer, length: completion.byteCount, transfer: completion.transfer,
                                    startsPacket: status & AXIDMAHeader.Descriptor.RXSOF != 0,
                                    endsPacket: status & AXIDMAHeader.Descriptor.RXEOF != 0)
        }
        if decision == .release { perform(machine.release(slot: slot)) }
    }

    // MARK: descriptors in memory

    /// Every descriptor: NXTDESC → the next (the last → the first), BUFFER_ADDRESS, CONTROL = the
    /// buffer size; the device's ones get STATUS 0 and their buffers synced for the device. The
    /// consumer's keep their STATUS (Cmplt): if the engine ever reached one it would stop on it
    /// (SGIntErr) rather than write into a buffer the consumer reads.
    private func writeChain() {
        guard let descriptors else { return }
        let n = machine.ringSize
        let stride = AXIDMAHeader.Descriptor.stride
        let bytes = n * stride
        let cpuOrder = storesCPUOrder
        descriptors._withUnsafeGuaranteedRef { ringBuffer in
            ringBuffer.syncRangeForCPU(offset: 0, length: bytes)
            ringBuffer.withMutableCPUBytes(count: bytes) { memory in
                for slot in 0..<n {  // bounded: the ring
                    let at = slot * stride
                    let next = descriptorAddress(slot + 1 == n ? 0 : slot + 1)
                    let buffer = ring[slot]._withUnsafeGuaranteedRef { $0.dmaAddress }
                    store(memory, at + AXIDMAHeader.Descriptor.NXTDESC, UInt32(truncatingIfNeeded: next), cpuOrder)
                    store(memory, at + AXIDMAHeader.Descriptor.NXTDESC_MSB, UInt32(truncatingIfNeeded: next >> 32), cpuOrder)
                    store(memory, at + AXIDMAHeader.Descriptor.BUFFER_ADDRESS, UInt32(truncatingIfNeeded: buffer), cpuOrder)
                    store(memory, at + AXIDMAHeader.Descriptor.BUFFER_ADDRESS_MSB, UInt32(truncatingIfNeeded: buffer >> 32), cpuOrder)
                    store(memory, at + AXIDMAHeader.Descriptor.CONTROL, UInt32(io.configuration.bufferBytes), cpuOrder)
                    if machine.owners[slot] == .device { store(memory, at + AXIDMAHeader.Descriptor.STATUS, 0, cpuOrder) }
                }
            }
            ringBuffer.syncRangeForDevice(offset: 0, length: bytes)
        }
        for slot in 0..<n where machine.owners[slot] == .device {  // bounded: the ring
            ring[slot]._withUnsafeGuaranteedRef { $0.syncForDevice(length: $0.byteCount) }
        }
    }

    @inline(__always)
    private func readDescriptorStatus(_ slot: Int) -> UInt32 {
        guard let descriptors else { return 0 }
        let at = slot * AXIDMAHeader.Descriptor.stride + AXIDMAHeader.Descriptor.STATUS
        let cpuOrder = storesCPUOrder
        return descriptors._withUnsafeGuaranteedRef { ringBuffer in
            ringBuffer.syncRangeForCPU(offset: at, length: 4)
            let word = ringBuffer.withCPUBytes(count: at + 4) { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
            ringBuffer.syncRangeForDevice(offset: at, length: 4)
            return cpuOrder ? UInt32(bigEndian: word) : UInt32(littleEndian: word)
        }
    }

    @inline(__always)
    private func writeDescriptorStatus(_ slot: Int, _ value: UInt32) {
        guard let descriptors else { return }
        let at = slot * AXIDMAHeader.Descriptor.stride + AXIDMAHeader.Descriptor.STATUS
        let cpuOrder = storesCPUOrder
        descriptors._withUnsafeGuaranteedRef { ringBuffer in
            ringBuffer.syncRangeForCPU(offset: at, length: 4)
            ringBuffer.withMutableCPUBytes(count: at + 4) { store($0, at, value, cpuOrder) }
            ringBuffer.syncRangeForDevice(offset: at, length: 4)
        }
    }
}

/// A descriptor word into memory: little-endian (what the AXI side reads), or, with the planted
/// bug, in the big-endian CPU's order.
@inline(__always)
private func store(_ memory: UnsafeMutableRawBufferPointer, _ offset: Int, _ value: UInt32, _ cpuOrder: Bool) {
    memory.storeBytes(of: cpuOrder ? value.bigEndian : value.littleEndian, toByteOffset: offset, as: UInt32.self)
}
