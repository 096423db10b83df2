import Devices
import Trace

/// What the checker knows of one AXI DMA channel: its registers as the trace last showed them and
/// the transfer LENGTH started.
final class ChannelState {
    let name: String
    let traceName: TraceName
    let direction: DMADirection
    let lengthMask: UInt32
    let lengthWidthBits: Int
    let scatterGather: Bool
    let alignmentMask: UInt64
    /// Scatter-gather: the MSB halves of CURDESC and TAILDESC as last written.
    @exclusivity(unchecked) var pointerMSB: (current: UInt32, tail: UInt32) = (0, 0)
    @exclusivity(unchecked) var dmacr: UInt32 = 0x0001_0002
    @exclusivity(unchecked) var dmasr: UInt32 = DMASR.Halted
    /// SA/DA and the MSB as last written.
    @exclusivity(unchecked) var address: UInt64 = 0
    /// A transfer started by LENGTH is armed or moving (until its completion, error or a halt).
    @exclusivity(unchecked) var inFlight = false
    @exclusivity(unchecked) var programmedLength: UInt32 = 0
    /// Where the transfer in flight (or the last one) reads or writes.
    @exclusivity(unchecked) var transferAddress: UInt64 = 0
    /// The UIO nodes that report this channel's interrupt (unretained: the checker owns them).
    @exclusivity(unchecked) var nodes: [Unmanaged<NodeState>] = []

    init(_ channel: CheckedBoard.Channel) {
        name = channel.name
        traceName = TraceName(channel.name)
        direction = channel.direction
        lengthMask = channel.lengthMask
        lengthWidthBits = channel.lengthWidthBits
        scatterGather = channel.scatterGather
        alignmentMask = channel.alignmentMask
    }

    /// The interrupt cause as the device derives its line: `DMASR & DMACR & 0x7000` (PG021).
    var cause: UInt32 { dmasr & dmacr & DMACR.allIrqEn }
}

/// An AXI DMA's registers by word offset (offset / 4), as the device decodes them: the channel
/// (unretained: the checker owns it), the register and its PG021 name; nil for a reserved offset.
final class RegisterDecoder {
    let device: String
    let traceName: TraceName
    let table: [(channel: Unmanaged<ChannelState>, register: ChannelRegister, name: TraceName)?]

    init(_ device: CheckedBoard.Device, channels: [String: ChannelState]) {
        self.device = device.name
        traceName = TraceName(device.name)
        var table = [(channel: Unmanaged<ChannelState>, register: ChannelRegister, name: TraceName)?](
            repeating: nil, count: Int((device.registerMap.registers.map(\.offset).max() ?? 0) / 4) + 1)
        for description in device.registerMap.registers {
            guard let name = device.channels[description.direction], let channel = channels[name] else { continue }
            table[Int(description.offset / 4)] = (.passUnretained(channel), description.register, TraceName(description.name))
        }
        self.table = table
    }

    @inline(__always)
    func decode(_ offset: UInt32) -> (channel: Unmanaged<ChannelState>, register: ChannelRegister, name: TraceName)? {
        let index = Int(offset / 4)
        guard offset % 4 == 0, index < table.count else { return nil }
        return table[index]
    }
}

/// The register rules (PG021, direct register mode): LENGTH starts a transfer only on a running
/// channel, after the address, within the length width and not while one is in progress; nothing
/// is written while a soft reset is in progress.
extension ProtocolChecker {
    func registerWritten(_ decoder: RegisterDecoder, offset: UInt32, value: UInt32) {
        guard let (channel, kind, register) = decoder.decode(offset) else { return }
        channel._withUnsafeGuaranteedRef { registerWritten($0, kind, register: register, value: value) }
    }

    private func registerWritten(_ channel: ChannelState, _ kind: ChannelRegister, register: TraceName, value: UInt32) {
        let name = channel.name
        // PG021 DMACR.Reset: the whole core resets; until the bit reads 0 again writes are lost.
        if channel.dmacr & DMACR.Reset != 0 {
            if !(kind == .DMACR && value & DMACR.Reset != 0) {
                report(.writeDuringReset, device: name, register: register.string,
                       values: "wrote \(hex(value)) while DMACR reads \(hex(channel.dmacr)) (Reset=1)")
            }
            return
        }
        switch kind {
        case .LENGTH:
            lengthWritten(channel, register: register, value: value)
        case .address, .addressMSB:
            if channel.inFlight {
                report(.addressAfterLength, device: name, register: register.string,
                       values: "wrote \(hex(value)) while the transfer LENGTH started (\(channel.programmedLength) bytes at \(hex(channel.transferAddress))) is in progress")
            }
            let word = UInt64(value)
            channel.address = kind == .address ? (channel.address & ~0xFFFF_FFFF) | word : (channel.address & 0xFFFF_FFFF) | word << 32
        case .DMACR, .DMASR:
            break
        case .CURDESC, .CURDESC_MSB, .TAILDESC, .TAILDESC_MSB:
            descriptorPointerWritten(channel, kind, register: register, value: value)
        }
    }

    /// PG021 S2MM_LENGTH / MM2S_LENGTH: a non-zero write on a running channel starts the transfer;
    /// written while halted it has no effect; bits above the configured width read as zero.
    private func lengthWritten(_ channel: ChannelState, register name: TraceName, value: UInt32) {
        @inline(never) func register() -> String { name.string }
        let kept = value & channel.lengthMask
        if kept != value {
            report(.lengthTruncated, device: channel.name, register: register(),
                   values: "wrote \(value) (\(hex(value))) to a \(channel.lengthWidthBits)-bit LENGTH: the core keeps \(kept)")
        }
        guard kept != 0 else { return }
        if channel.inFlight {
            report(.lengthWhileBusy, device: channel.name, register: register(),
                   values: "wrote \(kept) while the transfer of \(channel.programmedLength) bytes at \(hex(channel.transferAddress)) is in progress")
            return
        }
        if channel.dmacr & DMACR.RS == 0 {
            report(.lengthWhileHalted, device: channel.name, register: register(),
                   values: "wrote \(kept) while DMACR is \(hex(channel.dmacr)) (RS=0) and DMASR \(hex(channel.dmasr))")
            return
        }
        if channel.dmasr & DMASR.Halted != 0 {
            report(.lengthBeforeRunning, device: channel.name, register: register(),
                   values: "wrote \(kept) while DMASR still reads \(hex(channel.dmasr)) (Halted=1) after RS=1 (DMACR \(hex(channel.dmacr)))")
            return
        }
        channel.inFlight = true
        channel.programmedLength = kept
        channel.transferAddress = channel.address
    }

    func statusChanged(_ channel: ChannelState, control: UInt32, status: UInt32) {
        let before = channel.cause
        channel.dmacr = control
        channel.dmasr = status
        // A halted channel (an error, RS cleared, a reset) has nothing in flight; a reset also
        // clears the address registers.
        if status & DMASR.Halted != 0 || control & DMACR.Reset != 0 { channel.inFlight = false }
        if control & DMACR.Reset != 0 { channel.address = 0 }
        if before != channel.cause { causeChanged(channel) }
    }

    func transferStarted(_ channel: ChannelState, address: UInt64, bytes: Int) {
        channel.inFlight = true
        channel.transferAddress = address
        if address & channel.alignmentMask != 0 { unalignedTransfer(channel, address: address) }
        // S2MM moves at most what LENGTH allows; MM2S moves LENGTH. Scatter-gather: a descriptor's
        // data start carries what moves into its buffer (no LENGTH register).
        let moved = channel.direction == .s2mm && !channel.scatterGather ? min(UInt64(bytes), UInt64(channel.programmedLength)) : UInt64(bytes)
        dmaAddressed(channel, address: address, bytes: moved)
    }

    /// PG021: without DRE the buffer address must be aligned to the memory-map data width.
    @inline(never)
    private func unalignedTransfer(_ channel: ChannelState, address: UInt64) {
        let register = channel.scatterGather ? "descriptor BUFFER_ADDRESS" : channel.direction == .mm2s ? "MM2S_SA" : "S2MM_DA"
        report(.unalignedWithoutDRE, device: channel.name, register: register,
               values: "\(hex(address)) is \(address & channel.alignmentMask) byte(s) off the \(channel.alignmentMask + 1)-byte data width, and the core has no DRE")
    }

    func transferDone(_ channel: ChannelState, bytes: Int) {
        channel.inFlight = false
        if channel.direction == .s2mm { deviceWrote(address: channel.transferAddress, bytes: UInt64(bytes)) }
    }

    /// A register access in the wrong byte order (the bus swapped it; Board's byte-order model).
    func byteOrderMismatch(_ name: TraceName, offset: UInt32, access: TraceEvent.RegisterAccess, assumed: String,
                           deviceValue: UInt32, cpuValue: UInt32) {
        let device = name.string
        let register = decoders[device]?.decode(offset)?.name.string ?? "offset \(hex(offset))"
        let values = access == .read
            ? "read assuming \(assumed)-endian: the register holds \(hex(deviceValue)), the CPU saw \(hex(cpuValue))"
            : "write assuming \(assumed)-endian: the CPU meant \(hex(cpuValue)), the register got \(hex(deviceValue))"
        report(.byteOrder, device: device, register: register, values: values)
    }
}
