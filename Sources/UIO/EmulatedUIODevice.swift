import Board
import Reactor
import SystemPackage
import Trace

/// A UIO device as `uio_pdrv_genirq` presents it to userspace (`/dev/uioN`): up to five memory maps
/// and, optionally, one interrupt line.
///
/// Kernel behaviour modelled (drivers/uio/uio.c, drivers/uio/uio_pdrv_genirq.c):
/// - The in-kernel handler disables the line on every interrupt (`disable_irq_nosync`) and bumps the
///   event count (`uio_event_notify`), waking every open file. Userspace re-enables the line by
///   writing a non-zero s32 (irqcontrol); writing 0 disables it. Both are idempotent (the driver
///   keeps one "disabled" flag).
/// - Enabling a line whose level cause is still asserted interrupts again at once.
/// - Each open file remembers the count it last read; it is readable while the count differs.
///
/// Delivery latency: with the profile's `interrupt-delivery`, the handler still masks the line the
/// instant it rises, but the event count and the wake-up of the open files follow a latency drawn
/// per interrupt from the distribution (`InterruptDelivery`), as the kernel's handler, wake-up and
/// scheduling take on a real board; the device's line stays up meanwhile, so interrupt pulses have a
/// width in the traces. Interrupts that arrive while one is on its way (the line was re-enabled
/// without a read) are counted when it lands. Immediate delivery (the default) is one untaken branch.
///
/// A driver that re-enables the line without clearing the device's cause gets an interrupt storm.
/// On real hardware that livelocks the CPU; here, after `stormThreshold` events with no register
/// write to the device in between, the line is kept disabled, the storm is counted, and a later
/// enable is refused until the driver writes a register of the device.
public final class EmulatedUIODevice: InterruptSubscriber {
    /// The N of `/dev/uioN`.
    public let index: Int
    public let name: String
    /// `name` as trace events carry it (made once: an event copies it without reference counting).
    public let traceName: TraceName
    /// What `uio_pdrv_genirq` reports for devices probed from the device tree.
    public let version = "devicetree"
    /// The interrupt line, or nil for a device without one (its read, write and poll fail with EIO).
    public let interruptLine: Int?
    public let maps: [UIOMap]
    /// Byte order of the s32 that `read` returns and `write` takes: the CPU's.
    public let cpuEndianness: Endianness

    let board: Board
    /// `board.interrupts`, held directly: a strong `let` is called without a retain per interrupt.
    let interrupts: InterruptController
    let reactor: Reactor
    /// Register writes to the device window behind this node (shared with other nodes on the same
    /// device), for storm detection.
    let activity: RegisterActivity

    /// The kernel's `atomic_t event`: every interrupt handled. Read by userspace as an s32.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var eventCount: UInt32 = 0
    /// When the handler last ran (the line was raised): the start of interrupt-to-handler latency.
    @exclusivity(unchecked) public private(set) var lastInterruptTime: Instant? = nil
    /// `UIO_IRQ_DISABLED` in the driver's flags: the line is disabled until userspace enables it.
    /// uio_pdrv_genirq probes with the flag clear ("interrupt is enabled to begin with") and
    /// `request_irq` enables the line, so a node's line starts enabled.
    @exclusivity(unchecked) public private(set) var interruptDisabled = false

    // Storm detection.
    public let stormThreshold: Int
    @exclusivity(unchecked) public private(set) var storms = 0
    @exclusivity(unchecked) public private(set) var firstStormAt: Instant? = nil
    /// Enables refused because a storm was detected and no register was written since.
    @exclusivity(unchecked) public private(set) var enablesRefusedInStorm = 0
    /// Enables while the level cause of the last interrupt was still asserted, never cleared since
    /// (the line fires again at once). A correct driver clears the cause (W1C) before enabling, so
    /// this is a level-interrupt storm in the making: with any delay between the enable and the
    /// clear, interrupts come back to back. Not one: enabling a level that became pending while the
    /// line was disabled (another file masked it, a new completion came): the line went low and
    /// high again since the last interrupt, and that interrupt is taken exactly once, as it should.
    @exclusivity(unchecked) public private(set) var enablesWithCauseAsserted = 0
    /// The line's assertion count (`InterruptLineCounters.raised`) when the handler last ran: an
    /// enable with the level asserted and the count unchanged is the same, uncleared cause. Read
    /// through a pointer into the controller's line table (`interrupts` keeps it alive).
    @exclusivity(unchecked) private var raisedAtLastEvent = 0
    private let raisedCounter: UnsafePointer<Int>?
    // Delivery latency (see above): the distribution, its generator, events on their way, the timer.
    public let delivery: InterruptDelivery
    private let delayedDelivery: Bool
    @exclusivity(unchecked) private var random: SplitMix64
    @exclusivity(unchecked) public private(set) var eventsInDelivery: UInt32 = 0
    @exclusivity(unchecked) private var deliveryTimer: TimerID? = nil
    @exclusivity(unchecked) private var eventsWithoutRegisterWrite = 0
    @exclusivity(unchecked) private var writeSequenceAtLastEvent: UInt64 = 0
    @exclusivity(unchecked) private var stormHeld = false

    /// Records the kernel handler's interrupts and detected storms when set (nil: tracing off).
    @exclusivity(unchecked) public var tracer: Tracer?

    @exclusivity(unchecked) private var files: [UIOFile] = [] {
        didSet { rebuildDoorbells() }
    }
    /// The doorbells of `files`, unretained (`files` owns them), rebuilt when a file opens or
    /// closes: the handler rings them without a retain per file per interrupt.
    @exclusivity(unchecked) private var doorbells = UnsafeMutableBufferPointer<Unmanaged<Doorbell>>.allocate(capacity: 0)

    init(
        index: Int, spec: UIONodeSpec, board: Board, reactor: Reactor, activity: RegisterActivity, stormThreshold: Int,
        random: SplitMix64 = SplitMix64(seed: 0)
    ) {
        self.index = index
        name = spec.name
        traceName = TraceName(spec.name)
        interruptLine = spec.interrupt?.line
        maps = spec.maps.enumerated().map { UIOMap(index: $0.offset, spec: $0.element) }
        cpuEndianness = board.profile.cpu.endianness
        self.board = board
        interrupts = board.interrupts
        self.reactor = reactor
        self.activity = activity
        self.stormThreshold = stormThreshold
        delivery = board.profile.interruptDelivery
        delayedDelivery = interruptLine != nil && !delivery.isImmediate
        self.random = random
        raisedCounter = interruptLine.map { board.interrupts.raisedCounter(line: $0) }
        super.init()
        if delayedDelivery {
            deliveryTimer = reactor.makeTimer(target: DeliveryTarget(device: self))
        }
        if let line = interruptLine {
            board.interrupts.subscribe(self, to: line)
            board.interrupts.unmask(line: line)
        }
    }

    deinit {
        if let deliveryTimer { reactor.freeTimer(deliveryTimer) }
        doorbells.deallocate()
    }

    // MARK: files

    /// Opens the device. `nonBlocking` is O_NONBLOCK. The file's readiness is a doorbell: in-process
    /// by default in virtual time, an eventfd in real time or when asked.
    public func open(nonBlocking: Bool = false, backing: Doorbell.Backing? = nil) -> UIOFile {
        let file = UIOFile(device: self, nonBlocking: nonBlocking, doorbell: reactor.makeDoorbell(backing: backing))
        files.append(file)
        return file
    }

    func close(_ file: UIOFile) {
        files.removeAll { $0 === file }
    }

    /// The end of the run: leaves the interrupt controller and forgets the open files. Both hold
    /// this device (the controller its subscribers, a file its device), so until then the board and
    /// everything on it keep each other alive (see `UIOSystem.shutdown()`).
    func detach() {
        if let line = interruptLine { interrupts.unsubscribe(self, from: line) }
        files.removeAll()
    }

    public var openFileCount: Int { files.count }

    private func rebuildDoorbells() {
        doorbells.deallocate()
        doorbells = .allocate(capacity: files.count)
        for (i, file) in files.enumerated() { doorbells.initializeElement(at: i, to: .passUnretained(file.doorbell)) }
    }

    // MARK: interrupt handling (kernel side)

    /// The in-kernel handler: disable the line, count the event, wake every open file (after the
    /// delivery latency, when the profile has one).
    override public func interruptPending(line: Int) {
        interrupts.maskAndAcknowledge(line: line)
        interruptDisabled = true
        raisedAtLastEvent = raisedCounter?.pointee ?? 0
        lastInterruptTime = reactor.now
        if tracer != nil { traceInterrupt() }
        noteEventForStormDetection()
        if delayedDelivery {
            scheduleDelivery()
            return
        }
        eventCount &+= 1
        wakeFiles()
    }

    private func wakeFiles() {
        // Indexed, not `for in`: a debug build's unspecialised iterator mallocs per element.
        var i = 0
        while i < doorbells.count {
            doorbells[i]._withUnsafeGuaranteedRef { $0.ring() }
            i += 1
        }
    }

    /// Out of line: immediate delivery never comes here.
    @inline(never)
    private func scheduleDelivery() {
        eventsInDelivery += 1
        guard let timer = deliveryTimer, !reactor.isArmed(timer) else { return }
        let latency = delivery.latencyNanoseconds(atPartsPerMillion: random.next() % 1_000_000)
        reactor.arm(timer, after: TimeSpan(nanoseconds: latency))
    }

    /// The delivery timer fired: the events on their way reach the count and wake the files.
    fileprivate func deliver() {
        eventCount &+= eventsInDelivery
        eventsInDelivery = 0
        wakeFiles()
    }

    /// irqcontrol: non-zero enables, zero disables; both idempotent. Inlined into the file's
    /// enable, which the driver calls on every interrupt.
    @inline(__always)
    func setInterrupt(enabled: Bool) {
        guard let line = interruptLine else { return }
        if enabled {
            guard interruptDisabled else { return }
            if stormHeld {
                if activity.writes == writeSequenceAtLastEvent {
                    enablesRefusedInStorm += 1
                    return
                }
                stormHeld = false
                eventsWithoutRegisterWrite = 0
            }
            interruptDisabled = false
            if interrupts.levelCauseAsserted(line: line) && raisedCounter?.pointee == raisedAtLastEvent {
                enablesWithCauseAsserted += 1
            }
            // A level cause still asserted fires again here, inside the enable (as enable_irq does).
            interrupts.unmask(line: line)
        } else {
            guard !interruptDisabled else { return }
            interruptDisabled = true
            interrupts.mask(line: line)
        }
    }

    @inline(__always)
    private func noteEventForStormDetection() {
        let writes = activity.writes
        if writes == writeSequenceAtLastEvent {
            eventsWithoutRegisterWrite += 1
        } else {
            eventsWithoutRegisterWrite = 1
            writeSequenceAtLastEvent = writes
        }
        if eventsWithoutRegisterWrite > stormThreshold && !stormHeld {
            stormHeld = true
            storms += 1
            if firstStormAt == nil { firstStormAt = reactor.now }
            tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.uioStorm(device: traceName, events: eventsWithoutRegisterWrite)) }
        }
    }

    @inline(never)
    private func traceInterrupt() { tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.uioInterrupt(device: traceName, count: Int32(bitPattern: eventCount))) } }

    /// Whether the line is being held disabled because of a storm.
    public var isHeldForStorm: Bool { stormHeld }

    // MARK: maps

    /// `mmap(fd, length, offset)`: map N is selected by offset N × page size (uio_mmap). EINVAL for
    /// an offset that is not a page multiple, a map that does not exist, or a length beyond the map.
    public func mmap(offset: UInt64, length: UInt64) -> Result<EmulatedRegisterMapping, Errno> {
        guard offset % UIOMap.pageSize == 0 else { return .failure(.invalidArgument) }
        let index = offset / UIOMap.pageSize
        guard index < UInt64(maps.count), length > 0 else { return .failure(.invalidArgument) }
        let map = maps[Int(index)]
        guard length <= map.mappableBytes else { return .failure(.invalidArgument) }
        return .success(EmulatedRegisterMapping(map: map, length: length, bus: board.bus, activity: activity))
    }
}

/// The delivery timer's target: reaches the device unretained (the device frees the timer, and with
/// it this target, when it goes).
private final class DeliveryTarget: ReactorTarget {
    let device: Unmanaged<EmulatedUIODevice>
    init(device: EmulatedUIODevice) { self.device = .passUnretained(device) }
    override func reactorEvent(_ tag: UInt64) { device._withUnsafeGuaranteedRef { $0.deliver() } }
}

/// Counts register writes to one device window, across all UIO nodes that map it.
@usableFromInline
final class RegisterActivity {
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @usableFromInline @exclusivity(unchecked) var writes: UInt64 = 0
}
