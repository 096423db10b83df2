/// Something that happened on the emulated board, as a trace records it. The recorder (`Tracer`)
/// stamps each event with the reactor's time; the event itself carries only what happened.
///
/// Names are the ones the layers already use (the device and UIO node names of the board profile,
/// PG021 register names from the register table, `udmabufN`), so a trace reads like the board. The
/// names of devices, channels, registers, buffers and drivers and the fixed labels are `TraceName`s
/// (numbers the recording sites make once: an event is then plain values, and recording it costs no
/// reference counting); the free text of rare events (a fault, a finding) is a `String`.
/// Every number is an integer: the canonical JSON lines (and so the trace hash) never depend on
/// float formatting.
public enum TraceEvent: Sendable, Hashable {
    /// The driver read or wrote a device register (`register` from the device's register table;
    /// `(reserved)` for an offset with no register).
    case register(device: TraceName, register: TraceName, offset: UInt32, value: UInt32, access: RegisterAccess)
    /// An interrupt line's electrical level changed (the input of the interrupt controller).
    case interruptLine(line: Int, high: Bool)
    /// A read of the UIO file returned the interrupt count `count`; `previous` is the count this file
    /// returned last (or held when it was opened): a jump of more than one is interrupts it missed.
    case uioRead(device: TraceName, count: Int32, previous: Int32)
    /// The UIO file was written: 1 enables (unmasks) the interrupt, 0 disables it.
    case uioEnable(device: TraceName, enabled: Bool)
    /// The kernel's handler took the UIO node's interrupt (`uio_pdrv_genirq`: disable the line, count
    /// the event, wake the files); the count is now `count`. Userspace must re-enable the line.
    case uioInterrupt(device: TraceName, count: Int32)
    /// The UIO node's line fired `events` times in a row with no register write to its device in
    /// between (a level-interrupt storm): it is held disabled until the driver writes a register.
    case uioStorm(device: TraceName, events: Int)
    /// A DMA channel began moving `bytes` at `address` (S2MM: once a packet is there).
    case dmaStart(channel: TraceName, address: UInt64, bytes: Int)
    /// Scatter-gather: the engine fetched the descriptor at `address`; its NXTDESC, BUFFER_ADDRESS,
    /// CONTROL and STATUS words as the AXI side read them (little-endian, before any masking), so a
    /// checker can tell a descriptor stored in the wrong byte order.
    case descriptorFetch(channel: TraceName, address: UInt64, next: UInt32, buffer: UInt32, control: UInt32, status: UInt32)
    /// A transfer completed: `bytes` moved (S2MM: what LENGTH reports).
    case dmaDone(channel: TraceName, bytes: Int)
    /// A transfer ended in an error; `status` is DMASR after the error was latched.
    case dmaError(channel: TraceName, status: UInt32)
    /// A channel's DMACR or DMASR changed (the bits a waveform viewer shows).
    case channelStatus(channel: TraceName, control: UInt32, status: UInt32)
    /// The driver's state machine moved; `code` is a small number for waveforms (0 stopped,
    /// 1 running, 2 recovering, 3 failed).
    case driverState(driver: TraceName, from: TraceName, to: TraceName, code: Int)
    /// A ring slot changed hands inside the driver (driver, device, consumer, producer, queued).
    case slotOwner(driver: TraceName, slot: Int, from: TraceName, to: TraceName)
    /// A DMA buffer changed owner under the DMA API (sync for device / for CPU).
    case bufferOwner(buffer: TraceName, from: TraceName, to: TraceName)
    /// A DMA buffer was carved from the pool (`live`) or freed: its DMA address and size.
    case bufferLifetime(buffer: TraceName, address: UInt64, bytes: UInt64, live: Bool)
    /// `dma_sync_single_for_device` (`toDevice`) or `_for_cpu` of `bytes` bytes at `offset`.
    case bufferSync(buffer: TraceName, toDevice: Bool, offset: UInt64, bytes: UInt64)
    /// The CPU read or wrote `bytes` bytes of a DMA buffer at `offset` (its CPU view).
    case cpuAccess(buffer: TraceName, offset: UInt64, bytes: UInt64, access: RegisterAccess)
    /// A register access assumed the wrong byte order for its window (a native big-endian load of a
    /// little-endian AXI register on PowerPC): the device saw `deviceValue`, the CPU `cpuValue`.
    case byteOrder(device: TraceName, offset: UInt32, access: RegisterAccess, assumed: String, deviceValue: UInt32, cpuValue: UInt32)
    /// The driver noticed `count` interrupts it did not see one by one (a jump of the UIO count)
    /// and accounted for them.
    case lostInterrupts(driver: TraceName, count: Int)
    /// A fault was injected into a channel (`fault` as the scenario names it).
    case fault(channel: TraceName, fault: String)
    /// A checker's finding: an ownership violation, DMA outside buffers, allocation after start.
    case finding(kind: String, severity: String, detail: String)
    /// The protocol checker's finding: the rule broken (`LEN-HALTED`), where (a device, channel, UIO
    /// node or buffer), the register concerned (or empty) and the values that break it.
    case protocolFinding(rule: String, device: String, register: String, values: String)

    public enum RegisterAccess: String, Sendable, Hashable {
        case read
        case write

        /// The value of the JSON line's `access` key, as a name numbered in advance.
        @inline(__always)
        var traceName: TraceName { self == .read ? .read : .write }
    }

    /// The `ev` value of the JSON line.
    public var kind: String { kindName.description }

    /// The `ev` value, without building a string.
    @inline(__always)
    var kindName: StaticString {
        switch self {
        case .register: "register"
        case .interruptLine: "irq"
        case .uioRead: "uio-read"
        case .uioEnable: "uio-enable"
        case .uioInterrupt: "uio-irq"
        case .uioStorm: "uio-storm"
        case .dmaStart: "dma-start"
        case .descriptorFetch: "descriptor-fetch"
        case .dmaDone: "dma-done"
        case .dmaError: "dma-error"
        case .channelStatus: "dma-status"
        case .driverState: "driver-state"
        case .slotOwner: "slot-owner"
        case .bufferOwner: "buffer-owner"
        case .bufferLifetime: "buffer"
        case .bufferSync: "buffer-sync"
        case .cpuAccess: "cpu-access"
        case .byteOrder: "byte-order"
        case .lostInterrupts: "lost-irqs"
        case .fault: "fault"
        case .finding: "finding"
        case .protocolFinding: "protocol-finding"
        }
    }
}

/// A track the sinks should show from the start (a waveform viewer needs every signal declared
/// before the first value change). The workload declares its tracks when it attaches a tracer.
public enum TraceTrack: Sendable, Hashable {
    /// An interrupt line and its level before anything is driven.
    case interruptLine(Int, initialHigh: Bool)
    /// A DMA channel (`axi-dma0.s2mm`).
    case channel(String)
    /// A driver.
    case driver(String)

    /// The name people see.
    public var name: String {
        switch self {
        case let .interruptLine(line, _): "irq\(line)"
        case let .channel(name): name
        case let .driver(name): name
        }
    }
}
