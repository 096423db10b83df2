import DriverPorts

/// One AXI DMA channel's registers as a driver uses them, through a register port. Shared by the
/// receive and transmit drivers; a value holding a strong `let` to the port, so calls through it
/// are direct.
struct ChannelAccess<Registers: RegisterPort> {
    let registers: Registers
    /// `AXIDMAHeader.s2mmBase` or `.mm2sBase`.
    let base: UInt32
    let order: RegisterByteOrder

    @inline(__always)
    func read(_ register: AXIDMAHeader.ChannelOffset) -> UInt32 {
        registers.read32(base + register.rawValue, order)
    }

    @inline(__always)
    func write(_ register: AXIDMAHeader.ChannelOffset, _ value: UInt32) {
        registers.write32(base + register.rawValue, value, order)
    }

    /// Whether the core shows what `condition` waits for: DMACR.Reset reads 0 (PG021: it
    /// self-clears when the soft reset is done), or DMASR.Halted reads 0 (the channel runs).
    func shows(_ condition: CoreWaitCondition) -> Bool {
        switch condition {
        case .resetDone: read(.DMACR) & AXIDMAHeader.Reset == 0
        case .running: read(.DMASR) & AXIDMAHeader.Halted == 0
        }
    }

    /// Address (low, then high word), then LENGTH last: writing LENGTH starts the transfer.
    @inline(__always)
    func start(address: UInt64, length: Int) {
        write(.address, UInt32(truncatingIfNeeded: address))
        write(.addressMSB, UInt32(truncatingIfNeeded: address >> 32))
        write(.LENGTH, UInt32(length))
    }
}
