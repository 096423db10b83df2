import Reactor

/// What a driver shell does to the world outside its state machine, whatever its direction: its
/// channel's registers, the UIO file, the DMA buffer provider, and the reactor's watch and timers
/// (`DriverWakeups`, which the shell keeps and passes in). Shared by the receive and transmit shells,
/// which hold it in a `let`: a value of `let`s, so a call through it is as direct as through the
/// shell's own `let`s (no reference counting per completion; DESIGN.md, the per-completion hot path).
struct DriverIO<Registers: RegisterPort, Interrupts: InterruptSource, Buffers: DMABufferProvider> {
    let configuration: DriverConfiguration
    let reactor: Reactor
    let registers: Registers
    let channel: ChannelAccess<Registers>
    let interrupts: Interrupts
    let provider: Buffers

    init(reactor: Reactor, registers: Registers, channelBase: UInt32, interrupts: Interrupts, buffers: Buffers,
         configuration: DriverConfiguration) {
        self.configuration = configuration
        self.reactor = reactor
        self.registers = registers
        channel = ChannelAccess(registers: registers, base: channelBase, order: configuration.registerByteOrder)
        self.interrupts = interrupts
        provider = buffers
    }

    /// Allocates the ring into `ring` (once: a restart reuses it) and watches the interrupt source
    /// for `target`. Returns the UIO count now, the machine's baseline.
    func open(ring: inout [Buffers.Buffer], wakeups: inout DriverWakeups, target: ReactorTarget) -> Result<Int32?, DriverSetupError> {
        if ring.isEmpty {
            switch DriverWakeups.allocateRing(provider, configuration) {
            case let .success(allocated): ring = allocated
            case let .failure(error): return .failure(error)
            }
        }
        if let error = wakeups.open(reactor, target: target, readiness: interrupts.readiness) { return .failure(error) }
        return .success(DriverWakeups.baseline(interrupts))
    }

    /// The register port's fault count over the machine's counters.
    func metrics(_ machine: DriverMetrics) -> DriverMetrics {
        var m = machine
        m.registerFaults = registers.faults
        return m
    }

    // MARK: the actions both directions have

    /// Soft reset (DMACR.Reset); true when DMACR.Reset already reads 0 again, false when the shell
    /// must wait for it (`CoreWait`).
    func resetCore(_ wakeups: DriverWakeups) -> Bool {
        wakeups.disarmWatchdog(reactor)
        channel.write(.DMACR, AXIDMAHeader.Reset)
        return channel.shows(.resetDone)
    }

    /// Writes DMACR; true unless it sets RS and DMASR.Halted still reads 1, when the shell must wait
    /// before writing LENGTH (PG021: LENGTH written while halted has no effect; Linux's
    /// `xilinx_dma_start` polls Halted the same way).
    @inline(__always)
    func writeControl(_ value: UInt32) -> Bool {
        channel.write(.DMACR, value)
        return value & AXIDMAHeader.RS == 0 || channel.shows(.running)
    }

    /// Whether the core shows what the shell waits for (one register read).
    func shows(_ condition: CoreWaitCondition) -> Bool { channel.shows(condition) }

    /// The next read of a core that has not caught up yet, one register access later.
    func schedulePoll(_ wakeups: DriverWakeups) {
        wakeups.armPoll(reactor, after: configuration.registerPollInterval)
    }

    @inline(__always)
    func clearStatus(_ bits: UInt32, _ wakeups: DriverWakeups) {
        wakeups.disarmWatchdog(reactor)
        channel.write(.DMASR, bits)
    }

    /// Address, then LENGTH (which starts the transfer); the watchdog runs until the completion.
    @inline(__always)
    func start(address: UInt64, length: Int, _ wakeups: DriverWakeups) {
        channel.start(address: address, length: length)
        wakeups.armWatchdog(reactor, after: configuration.watchdog)
    }

    /// Writes 1 to the UIO file; false if that failed (the machine counts it).
    @inline(__always)
    func enableInterrupt() -> Bool {
        if case .failure = interrupts.setInterruptEnabled(true) { return false }
        return true
    }

    func scheduleRetry(attempt: Int, _ wakeups: DriverWakeups) {
        wakeups.armRetry(reactor, after: configuration.backoff(attempt: attempt))
    }
}
