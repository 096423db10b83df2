import Board
import Trace
import Devices

/// The scatter-gather rules (PG021 "Scatter Gather Descriptor" and the SG register map): CURDESC is
/// written only while halted; CURDESC and TAILDESC name 0x40-aligned descriptors in DMA memory;
/// descriptor words are little-endian in memory, so a big-endian CPU stores them byte-swapped.
extension ProtocolChecker {
    /// CURDESC, TAILDESC or their MSB halves written (the channel's registers as the trace showed
    /// them before this write).
    func descriptorPointerWritten(_ channel: ChannelState, _ kind: ChannelRegister, register name: TraceName, value: UInt32) {
        let register = name.string  // a descriptor pointer write: a few per run, not per completion
        switch kind {
        case .CURDESC_MSB:
            channel.pointerMSB.current = value
            if !isHalted(channel) { currentWrittenWhileRunning(channel, register: register, value: value) }
        case .TAILDESC_MSB:
            channel.pointerMSB.tail = value
        case .CURDESC, .TAILDESC:
            if kind == .CURDESC && !isHalted(channel) { currentWrittenWhileRunning(channel, register: register, value: value) }
            let msb = kind == .CURDESC ? channel.pointerMSB.current : channel.pointerMSB.tail
            checkDescriptorPointer(channel, register: register, address: UInt64(msb) << 32 | UInt64(value))
        case .DMACR, .DMASR, .address, .addressMSB, .LENGTH:
            preconditionFailure("\(kind) is not a descriptor pointer")
        }
    }

    /// PG021: CURDESC is writable when DMACR.RS = 0 and DMASR.Halted = 1.
    private func isHalted(_ channel: ChannelState) -> Bool {
        channel.dmacr & DMACR.RS == 0 && channel.dmasr & DMASR.Halted != 0
    }

    private func currentWrittenWhileRunning(_ channel: ChannelState, register: String, value: UInt32) {
        report(.currentWhileRunning, device: channel.name, register: register,
               values: "wrote \(hex(value)) while DMACR is \(hex(channel.dmacr)) and DMASR \(hex(channel.dmasr)) (not halted): ignored")
    }

    private func checkDescriptorPointer(_ channel: ChannelState, register: String, address: UInt64) {
        if address & (SGDescriptor.alignment - 1) != 0 {
            report(.descriptorPointer, device: channel.name, register: register,
                   values: "wrote \(hex(address)), not 0x40-aligned: the core keeps \(hex(address & ~(SGDescriptor.alignment - 1)))")
            return
        }
        // A zero pointer is a reset value written back (a driver clearing the register), not a descriptor.
        guard hasBuffers, address != 0, !buffers.values.contains(where: { $0.holds(address, UInt64(SGDescriptor.fetchBytes)) }) else { return }
        report(.descriptorPointer, device: channel.name, register: register,
               values: "wrote \(hex(address)), outside every live DMA buffer: no descriptor can be there")
    }

    /// The engine fetched a descriptor: words that make no sense as read but do byte-swapped were
    /// stored in the CPU's order. A pointer makes sense inside RAM (NXTDESC also 0x40-aligned);
    /// CONTROL makes sense with nothing set above the length field (and, MM2S, SOF/EOF).
    func descriptorFetched(_ channel: ChannelState, address: UInt64, next: UInt32, buffer: UInt32, control: UInt32) {
        func inMemory(_ a: UInt32) -> Bool { board.memory.contains { $0.contains(PhysicalAddress(UInt64(a))) } }
        func descriptorPointer(_ a: UInt32) -> Bool { inMemory(a) && UInt64(a) & (SGDescriptor.alignment - 1) == 0 }
        let controlBits = channel.lengthMask | (channel.direction == .mm2s ? SGControl.SOF | SGControl.EOF : 0)
        func sensibleControl(_ c: UInt32) -> Bool { c & ~controlBits == 0 && c & channel.lengthMask != 0 }
        var swapped: [String] = []
        if !descriptorPointer(next) && descriptorPointer(next.byteSwapped) { swapped.append("NXTDESC \(hex(next)) (\(hex(next.byteSwapped)) swapped)") }
        if !inMemory(buffer) && inMemory(buffer.byteSwapped) { swapped.append("BUFFER_ADDRESS \(hex(buffer)) (\(hex(buffer.byteSwapped)) swapped)") }
        if !sensibleControl(control) && sensibleControl(control.byteSwapped) {
            swapped.append("CONTROL \(hex(control)) (\(hex(control.byteSwapped)) swapped)")
        }
        guard !swapped.isEmpty else { return }
        report(.descriptorByteOrder, device: channel.name, register: "descriptor \(hex(address))",
               values: "the engine read " + swapped.joined(separator: ", ") + ": stored big-endian, read little-endian")
    }
}
