import Devices
import Trace

/// What the checker knows of one DMA buffer: where it is, and which bytes are not synced yet.
final class BufferState {
    let name: String
    let traceName: TraceName
    let address: UInt64
    let size: UInt64
    /// Bytes the device wrote since the CPU last synced them for itself.
    @exclusivity(unchecked) var deviceWritten: ByteRange?
    /// Bytes the CPU wrote since it last synced them for the device.
    @exclusivity(unchecked) var cpuWritten: ByteRange?
    @exclusivity(unchecked) var isLive = true

    init(name: TraceName, address: UInt64, size: UInt64) {
        self.name = name.string
        traceName = name
        self.address = address
        self.size = size
    }

    func holds(_ start: UInt64, _ bytes: UInt64) -> Bool {
        start >= address && start - address < size && bytes <= size - (start - address)
    }

    func overlaps(_ start: UInt64, _ bytes: UInt64) -> Bool {
        start < address &+ size && address < start &+ bytes
    }
}

/// The DMA buffer rules (the Linux DMA API, Documentation/core-api/dma-api-howto.rst, "streaming
/// DMA"; u-dma-buf): a transfer stays inside one live buffer; the CPU reads what the device wrote
/// only after sync_for_cpu, and the device reads what the CPU wrote only after sync_for_device.
extension ProtocolChecker {
    func bufferChanged(_ name: TraceName, address: UInt64, bytes: UInt64, live: Bool) {
        hasBuffers = true
        // The unretained lists may name a buffer dropped below: remade after.
        lastBuffer = nil
        liveBuffers = []
        buffersByName = []
        if live {
            buffers[name] = BufferState(name: name, address: address, size: bytes)
            freed.removeAll { $0.traceName == name }
        } else if let buffer = buffers.removeValue(forKey: name) {
            buffer.isLive = false
            freed.append(buffer)
            if freed.count > Self.freedLimit { freed.removeFirst() }
        }
        let byAddress = buffers.values.sorted { ($0.address, $0.name) < ($1.address, $1.name) }
        liveBuffers = byAddress.map { .passUnretained($0) }
        lastBufferIndex = 0
        var byName = [Unmanaged<BufferState>?](repeating: nil, count: Int(buffers.keys.map(\.number).max() ?? 0) + 1)
        for buffer in byAddress { byName[Int(buffer.traceName.number)] = .passUnretained(buffer) }  // bounded: the live buffers
        buffersByName = byName
    }

    func bufferSynced(_ name: TraceName, toDevice: Bool, offset: UInt64, bytes: UInt64) {
        guard let buffer = buffer(name), let range = ByteRange(offset: offset, bytes: bytes) else { return }
        buffer._withUnsafeGuaranteedRef { buffer in
            if toDevice {
                buffer.cpuWritten = buffer.cpuWritten?.removing(range)
            } else {
                buffer.deviceWritten = buffer.deviceWritten?.removing(range)
            }
        }
    }

    func cpuAccessed(_ name: TraceName, offset: UInt64, bytes: UInt64, write: Bool) {
        guard let buffer = buffer(name), let range = ByteRange(offset: offset, bytes: bytes) else { return }
        buffer._withUnsafeGuaranteedRef { buffer in
            if write {
                buffer.cpuWritten = buffer.cpuWritten.map { $0.joined(range) } ?? range
            } else if let stale = buffer.deviceWritten, stale.overlaps(range) {
                report(.cpuReadWithoutSync, device: buffer.name,
                       values: "CPU read of \(range) while the device's \(stale) were not synced for the CPU since it wrote them")
            }
        }
    }

    /// An S2MM transfer wrote `bytes` at `address`.
    func deviceWrote(address: UInt64, bytes: UInt64) {
        liveBuffer(holding: address, 1)?._withUnsafeGuaranteedRef { buffer in
            guard let range = ByteRange(offset: address - buffer.address, bytes: min(bytes, buffer.size - (address - buffer.address))) else { return }
            buffer.deviceWritten = buffer.deviceWritten.map { $0.joined(range) } ?? range
        }
    }

    /// A transfer of `bytes` at `address` started: it must lie in one live buffer; MM2S must not read
    /// bytes the CPU wrote and did not sync for the device.
    func dmaAddressed(_ channelState: ChannelState, address: UInt64, bytes: UInt64) {
        guard hasBuffers, bytes > 0 else { return }
        let direction = channelState.direction
        if let found = liveBuffer(holding: address, bytes) {
            let unsynced = found._withUnsafeGuaranteedRef { buffer -> (ByteRange, ByteRange)? in
                guard direction == .mm2s, let written = buffer.cpuWritten,
                      let range = ByteRange(offset: address - buffer.address, bytes: bytes), written.overlaps(range) else { return nil }
                return (range, written)
            }
            if let (range, written) = unsynced { sendWithoutSync(channelState, found.takeUnretainedValue(), range, written) }
            return
        }
        outsideBuffers(channelState, address: address, bytes: bytes)
    }

    @inline(never)
    private func sendWithoutSync(_ channelState: ChannelState, _ buffer: BufferState, _ range: ByteRange, _ written: ByteRange) {
        report(.sendWithoutSync, device: channelState.name, register: dmaAddressRegister(channelState),
               values: "sends \(range) of \(buffer.name) while the CPU's \(written) were not synced for the device since it wrote them")
    }

    /// The register a transfer's address came from (scatter-gather: a descriptor, not a register).
    private func dmaAddressRegister(_ channel: ChannelState) -> String {
        channel.scatterGather ? "descriptor BUFFER_ADDRESS" : channel.direction == .mm2s ? "MM2S_SA" : "S2MM_DA"
    }

    @inline(never)
    private func outsideBuffers(_ channelState: ChannelState, address: UInt64, bytes: UInt64) {
        let channel = channelState.name
        let register = dmaAddressRegister(channelState)
        let span = "\(hex(address)) +\(bytes) bytes"
        if let stale = freed.last(where: { $0.overlaps(address, bytes) }) {
            report(.dmaFreedBuffer, device: channel, register: register,
                   values: "\(span) lies in \(stale.name) (\(hex(stale.address)) +\(stale.size)), which was freed")
            return
        }
        var hint = ""
        if board.physicalAddressBits < 64 && address >> UInt64(board.physicalAddressBits) != 0 {
            hint = "; beyond the \(board.physicalAddressBits)-bit physical address space: a CPU virtual address?"
        } else if let nearest = buffers.values.min(by: { distance($0, address) < distance($1, address) || (distance($0, address) == distance($1, address) && $0.name < $1.name) }) {
            hint = "; the nearest live buffer is \(nearest.name) at \(hex(nearest.address)) (\(nearest.size) bytes)"
        }
        report(.dmaOutsideBuffers, device: channel, register: register, values: "\(span) is outside every live buffer\(hint)")
    }

    /// The live buffer holding all of `[address, address + bytes)`: the last one found, or a
    /// search; unretained.
    private func liveBuffer(holding address: UInt64, _ bytes: UInt64) -> Unmanaged<BufferState>? {
        if let last = lastBuffer, last._withUnsafeGuaranteedRef({ $0.holds(address, bytes) }) { return last }
        // From the one after the last found, in address order (the ring's next buffer comes first).
        let count = liveBuffers.count
        var index = lastBufferIndex
        var k = 0
        while k < count {  // bounded: the live buffers
            index = index + 1 < count ? index + 1 : 0
            let candidate = liveBuffers[index]
            if candidate._withUnsafeGuaranteedRef({ $0.holds(address, bytes) }) {
                lastBuffer = candidate
                lastBufferIndex = index
                return candidate
            }
            k += 1
        }
        lastBuffer = nil
        return nil
    }

    private func distance(_ buffer: BufferState, _ address: UInt64) -> UInt64 {
        if address < buffer.address { return buffer.address - address }
        return address >= buffer.address + buffer.size ? address - (buffer.address + buffer.size) + 1 : 0
    }
}
