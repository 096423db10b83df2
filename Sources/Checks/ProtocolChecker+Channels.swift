import Devices
import Trace

/// What the checker knows of one AXI DMA channel: its registers as the trace last showed them and
/// the transfer LENGTH started.
struct ChannelState {
    let name: String
    let direction: DMADirection
    let lengthMask: UInt32
    let lengthWidthBits: Int
    var dmacr: UInt32 = 0x0001_0002
    var dmasr: UInt32 = DMASR.Halted
    /// SA/DA and the MSB as last written.
    var address: UInt64 = 0
    /// A transfer started by LENGTH is armed or moving (until its completion, error or a halt).
    var inFlight = false
    var programmedLength: UInt32 = 0
    /// Where the transfer in flight (or the last one) reads or writes.
    var transferAddress: UInt64 = 0

    init(_ channel: CheckedBoard.Channel) {
        name = channel.name
        direction = channel.direction
        lengthMask = channel.lengthMask
        lengthWidthBits = channel.lengthWidthBits
    }

    /// The interrupt cause as the device derives its line: `DMASR & DMACR & 0x7000` (PG021).
    var cause: UInt32 { dmasr & dmacr & DMACR.allIrqEn }
}

/// The register rules (PG021, direct register mode): LENGTH starts a transfer only on a running
/// channel, after the address, within the length width and not while one is in progress; nothing
/// is written while a soft reset is in progress.
extension ProtocolChecker {
    func registerWritten(device: String, offset: UInt32, value: UInt32) {
        guard let core = board.devices[device], let description = core.registerMap.register(at: offset),
              let name = core.channels[description.direction], var channel = channels[name] else { return }
        let register = description.name
        // PG021 DMACR.Reset: the whole core resets; until the bit reads 0 again writes are lost.
        if channel.dmacr & DMACR.Reset != 0 {
            if !(description.register == .DMACR && value & DMACR.Reset != 0) {
                report(.writeDuringReset, device: name, register: register,
                       values: "wrote \(hex(value)) while DMACR reads \(hex(channel.dmacr)) (Reset=1)")
            }
            return
        }
        switch description.register {
        case .LENGTH:
            lengthWritten(&channel, register: register, value: value)
        case .address, .addressMSB:
            if channel.inFlight {
                report(.addressAfterLength, device: name, register: register,
                       values: "wrote \(hex(value)) while the transfer LENGTH started (\(channel.programmedLength) bytes at \(hex(channel.transferAddress))) is in progress")
            }
            let word = UInt64(value)
            channel.address = description.register == .address ? (channel.address & ~0xFFFF_FFFF) | word : (channel.address & 0xFFFF_FFFF) | word << 32
        case .DMACR, .DMASR:
            break
        }
        channels[name] = channel
    }

    /// PG021 S2MM_LENGTH / MM2S_LENGTH: a non-zero write on a running channel starts the transfer;
    /// written while halted it has no effect; bits above the configured width read as zero.
    private func lengthWritten(_ channel: inout ChannelState, register: String, value: UInt32) {
        let kept = value & channel.lengthMask
        if kept != value {
            report(.lengthTruncated, device: channel.name, register: register,
                   values: "wrote \(value) (\(hex(value))) to a \(channel.lengthWidthBits)-bit LENGTH: the core keeps \(kept)")
        }
        guard kept != 0 else { return }
        if channel.inFlight {
            report(.lengthWhileBusy, device: channel.name, register: register,
                   values: "wrote \(kept) while the transfer of \(channel.programmedLength) bytes at \(hex(channel.transferAddress)) is in progress")
            return
        }
        if channel.dmacr & DMACR.RS == 0 {
            report(.lengthWhileHalted, device: channel.name, register: register,
                   values: "wrote \(kept) while DMACR is \(hex(channel.dmacr)) (RS=0) and DMASR \(hex(channel.dmasr))")
            return
        }
        if channel.dmasr & DMASR.Halted != 0 {
            report(.lengthBeforeRunning, device: channel.name, register: register,
                   values: "wrote \(kept) while DMASR still reads \(hex(channel.dmasr)) (Halted=1) after RS=1 (DMACR \(hex(channel.dmacr)))")
            return
        }
        channel.inFlight = true
        channel.programmedLength = kept
        channel.transferAddress = channel.address
    }

    func statusChanged(_ name: String, control: UInt32, status: UInt32) {
        guard var channel = channels[name] else { return }
        let before = channel.cause
        channel.dmacr = control
        channel.dmasr = status
        // A halted channel (an error, RS cleared, a reset) has nothing in flight; a reset also
        // clears the address registers.
        if status & DMASR.Halted != 0 || control & DMACR.Reset != 0 { channel.inFlight = false }
        if control & DMACR.Reset != 0 { channel.address = 0 }
        channels[name] = channel
        if before != channel.cause { causeChanged(channel: name, cause: channel.cause) }
    }

    func transferStarted(_ name: String, address: UInt64, bytes: Int) {
        guard var channel = channels[name] else { return }
        channel.inFlight = true
        channel.transferAddress = address
        channels[name] = channel
        // S2MM moves at most what LENGTH allows; MM2S moves LENGTH.
        let moved = channel.direction == .s2mm ? min(UInt64(bytes), UInt64(channel.programmedLength)) : UInt64(bytes)
        dmaAddressed(channel: name, direction: channel.direction, address: address, bytes: moved)
    }

    func transferDone(_ name: String, bytes: Int) {
        guard var channel = channels[name] else { return }
        channel.inFlight = false
        channels[name] = channel
        if channel.direction == .s2mm { deviceWrote(address: channel.transferAddress, bytes: UInt64(bytes)) }
    }

    func transferFailed(_ name: String) {
        channels[name]?.inFlight = false
    }

    /// A register access in the wrong byte order (the bus swapped it; Board's byte-order model).
    func byteOrderMismatch(_ device: String, offset: UInt32, access: TraceEvent.RegisterAccess, assumed: String,
                           deviceValue: UInt32, cpuValue: UInt32) {
        let register = board.devices[device]?.registerMap.register(at: offset)?.name ?? "offset \(hex(offset))"
        let values = access == .read
            ? "read assuming \(assumed)-endian: the register holds \(hex(deviceValue)), the CPU saw \(hex(cpuValue))"
            : "write assuming \(assumed)-endian: the CPU meant \(hex(cpuValue)), the register got \(hex(deviceValue))"
        report(.byteOrder, device: device, register: register, values: values)
    }
}
