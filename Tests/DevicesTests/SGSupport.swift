import Board
import Devices
import Reactor
import Testing

/// A descriptor as a test lays it out in memory, word by word (PG021 "Scatter Gather Descriptor").
struct TestDescriptor {
    var next: PhysicalAddress
    var buffer: PhysicalAddress
    var control: UInt32
    var status: UInt32 = 0
}

extension Bench {
    /// Where test descriptors live: 64 KiB into the DMA pool, 0x40 apart.
    static let descriptors = Bench.buffer + 0x1_0000

    static func descriptor(_ index: Int) -> PhysicalAddress { descriptors + UInt64(index) * 0x40 }

    /// A bench whose AXI DMA is built with scatter-gather (`options` adds more keys).
    static func scatterGather(_ options: String = "", seed: UInt64 = 1, accessPolicy: DMAAccessPolicy = DMAAccessPolicy()) throws -> Bench {
        try Bench(seed: seed, accessPolicy: accessPolicy, options: "scatter-gather: true" + (options.isEmpty ? "" : "\n" + options))
    }

    /// Stores a descriptor the way a correct driver on the big-endian CPU does: every word
    /// little-endian (`out_le32`), MSB words included.
    func store(_ d: TestDescriptor, at address: PhysicalAddress, order: Endianness = .little) {
        let words: [(DescriptorWord, UInt32)] = [
            (.NXTDESC, UInt32(truncatingIfNeeded: d.next.rawValue)), (.NXTDESC_MSB, UInt32(truncatingIfNeeded: d.next.rawValue >> 32)),
            (.BUFFER_ADDRESS, UInt32(truncatingIfNeeded: d.buffer.rawValue)),
            (.BUFFER_ADDRESS_MSB, UInt32(truncatingIfNeeded: d.buffer.rawValue >> 32)),
            (.reserved10, 0), (.reserved14, 0), (.CONTROL, d.control), (.STATUS, d.status),
            (.APP0, 0xA0), (.APP1, 0xA1), (.APP2, 0xA2), (.APP3, 0xA3), (.APP4, 0xA4),
        ]
        for (word, value) in words {
            #expect(board.bus.write32(value, at: address + UInt64(word.rawValue), assuming: order) == nil)
        }
    }

    /// A chain of `buffers.count` descriptors at `descriptor(0...)`, each pointing at the next, the
    /// last back at the first; `control(i)` gives each CONTROL word.
    @discardableResult
    func chain(_ buffers: [PhysicalAddress], control: (Int) -> UInt32) -> [PhysicalAddress] {
        let addresses = buffers.indices.map { Bench.descriptor($0) }
        for (i, buffer) in buffers.enumerated() {
            store(TestDescriptor(next: addresses[(i + 1) % buffers.count], buffer: buffer, control: control(i)), at: addresses[i])
        }
        return addresses
    }

    /// A descriptor word as the CPU reads it back with `in_le32`.
    func word(_ word: DescriptorWord, of descriptor: PhysicalAddress) -> UInt32 {
        (try? board.bus.read32(at: descriptor + UInt64(word.rawValue), assuming: .little).get()) ?? 0xDEAD_BEEF
    }

    func status(of descriptor: PhysicalAddress) -> UInt32 { word(.STATUS, of: descriptor) }

    /// The driver's scatter-gather start: CURDESC while halted, DMACR (RS and `control`), TAILDESC
    /// (low half, then high half when the core has it).
    func startChain(_ direction: DMADirection, first: PhysicalAddress, tail: PhysicalAddress, control: UInt32 = Bench.runWithInterrupts) {
        write(.CURDESC, direction, UInt32(truncatingIfNeeded: first.rawValue))
        if dma.registerMap.register(.CURDESC_MSB, of: direction) != nil {
            write(.CURDESC_MSB, direction, UInt32(truncatingIfNeeded: first.rawValue >> 32))
        }
        write(.DMACR, direction, control)
        writeTail(direction, tail)
    }

    func writeTail(_ direction: DMADirection, _ tail: PhysicalAddress) {
        write(.TAILDESC, direction, UInt32(truncatingIfNeeded: tail.rawValue))
        if dma.registerMap.register(.TAILDESC_MSB, of: direction) != nil {
            write(.TAILDESC_MSB, direction, UInt32(truncatingIfNeeded: tail.rawValue >> 32))
        }
    }

    func pointer(_ low: ChannelRegister, _ direction: DMADirection) -> PhysicalAddress {
        PhysicalAddress(UInt64(read(low, direction)))
    }

    /// Buffers of `size` bytes back to back from `Bench.buffer`.
    static func buffers(_ count: Int, size: Int) -> [PhysicalAddress] {
        (0..<count).map { Bench.buffer + UInt64($0 * size) }
    }
}

/// Refuses the kinds of DMA access it is given (the IOMMU-like guard in miniature).
final class RefusingPolicy: DMAAccessPolicy {
    let refused: Set<DMAAccess.Kind>
    private(set) var refusals: [DMAAccess] = []
    init(refusing refused: Set<DMAAccess.Kind>) { self.refused = refused }
    override func admit(_ access: DMAAccess) -> Bool {
        guard refused.contains(access.kind) else { return true }
        refusals.append(access)
        return false
    }
}
