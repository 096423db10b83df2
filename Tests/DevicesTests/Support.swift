import Board
import Devices
import Reactor
import Testing

/// A small board for device tests: 256 MiB of DDR at 0, 1 GiB more at 4 GiB (for 64-bit
/// addresses), an AXI DMA at 0x8000_0000 with both channels, 100 MHz × 4 bytes. Halted follows RS
/// and a soft reset completes at once unless a test asks for the lag (`LagTests`); the shipped
/// boards have the kind's default lag.
func testProfileText(
    lengthWidthBits: Int = 23, fifoDepth: String = "4 KiB", setupCycles: Int = 20,
    mm2sSense: String = "level-high", s2mmSense: String = "level-high", haltLagCycles: Int? = 0, resetCycles: Int? = 0,
    options: String = ""
) -> String {
    """
    name: device-test
    description: A board for device tests
    cpu:
      core: e500v2
      clock: 1 GHz
      physical-address-bits: 36
    memory:
      - name: ddr
        base: 0x0
        size: 256 MiB
      - name: high-ddr
        base: 0x1_0000_0000
        size: 1 GiB
    dma-pool:
      base: 0x0f00_0000
      size: 16 MiB
      coherent: true
    reserved:
      - name: ccsr
        base: 0xf_ffe0_0000
        size: 1 MiB
    interrupt-controller:
      kind: mpic
      lines: 16
    devices:
      - name: dma
        kind: axi-dma
        base: 0x8000_0000
        size: 64 KiB
        bus-endianness: little
        clock: 100 MHz
        data-width-bytes: 4
        fifo-depth: \(fifoDepth)
        length-width-bits: \(lengthWidthBits)
        setup-cycles: \(setupCycles)\(options.isEmpty ? "" : "\n    " + options.split(separator: "\n").joined(separator: "\n    "))
    \(haltLagCycles.map { "    halt-lag-cycles: \($0)" } ?? "")
    \(resetCycles.map { "    reset-cycles: \($0)" } ?? "")
        mm2s:
          interrupt: 2
          sense: \(mm2sSense)
        s2mm:
          interrupt: 3
          sense: \(s2mmSense)

    """
}

/// A fresh board, reactor and device set; registers are reached through the bus only, the way a
/// driver reaches them (little-endian accesses, as `in_le32`/`out_le32` on PowerPC).
final class Bench {
    static let base = PhysicalAddress(0x8000_0000)
    static let buffer = PhysicalAddress(0x0f00_0000)

    let board: Board
    let reactor: Reactor
    let devices: DeviceSet
    let dma: AXIDMA

    /// `options`: more keys of the AXI DMA, one per line (`address-width-bits: 64`, `dre: true`).
    init(
        clock: Reactor.Clock = .virtual, lengthWidthBits: Int = 23, fifoDepth: String = "4 KiB", setupCycles: Int = 20,
        mm2sSense: String = "level-high", s2mmSense: String = "level-high", seed: UInt64 = 1,
        accessPolicy: DMAAccessPolicy = DMAAccessPolicy(), haltLagCycles: Int? = 0, resetCycles: Int? = 0, options: String = ""
    ) throws {
        let text = testProfileText(
            lengthWidthBits: lengthWidthBits, fifoDepth: fifoDepth, setupCycles: setupCycles, mm2sSense: mm2sSense,
            s2mmSense: s2mmSense, haltLagCycles: haltLagCycles, resetCycles: resetCycles, options: options)
        board = Board(profile: try BoardProfile.parse(text, file: "device-test.yaml", registry: DeviceKinds.standard))
        reactor = Reactor(clock: clock)
        devices = DeviceSet(board: board, reactor: reactor, seed: seed, accessPolicy: accessPolicy)
        dma = try #require(devices.axiDMA(named: "dma"))
    }

    var mm2s: DMAChannel { dma.mm2s! }
    var s2mm: DMAChannel { dma.s2mm! }

    func offset(_ register: ChannelRegister, _ direction: DMADirection) -> UInt32 {
        direction.baseOffset + register.rawValue
    }

    func read(_ register: ChannelRegister, _ direction: DMADirection) -> UInt32 {
        read(offset: offset(register, direction))
    }

    func read(offset: UInt32) -> UInt32 {
        switch board.bus.read32(at: Bench.base + UInt64(offset), assuming: .little) {
        case .success(let value): return value
        case .failure(let fault):
            Issue.record("register read faulted: \(fault)")
            return 0xDEAD_BEEF
        }
    }

    func write(_ register: ChannelRegister, _ direction: DMADirection, _ value: UInt32) {
        write(offset: offset(register, direction), value)
    }

    func write(offset: UInt32, _ value: UInt32) {
        if let fault = board.bus.write32(value, at: Bench.base + UInt64(offset), assuming: .little) {
            Issue.record("register write faulted: \(fault)")
        }
    }

    /// RS and all three interrupt enables.
    static let runWithInterrupts = DMACR.RS | DMACR.allIrqEn

    /// The driver's start sequence: DMACR (RS + enables), address, LENGTH.
    func start(_ direction: DMADirection, address: PhysicalAddress = Bench.buffer, length: UInt32,
               control: UInt32 = Bench.runWithInterrupts) {
        write(.DMACR, direction, control)
        write(.address, direction, UInt32(truncatingIfNeeded: address.rawValue))
        write(.addressMSB, direction, UInt32(truncatingIfNeeded: address.rawValue >> 32))
        write(.LENGTH, direction, length)
    }

    func line(_ direction: DMADirection) -> Int { direction == .mm2s ? 2 : 3 }

    /// Whether the controller sees the channel's interrupt pending.
    func pending(_ direction: DMADirection) -> Bool { board.interrupts.isPending(line(direction)) }

    func status(_ direction: DMADirection) -> UInt32 { read(.DMASR, direction) }

    func advance(by span: TimeSpan) { reactor.run(until: reactor.now + span) }

    /// Bytes of RAM.
    func memory(at address: PhysicalAddress, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let fault = bytes.withUnsafeMutableBytes { board.bus.read(into: $0, from: address) }
        #expect(fault == nil)
        return bytes
    }

    func fill(_ address: PhysicalAddress, with bytes: [UInt8]) {
        let fault = bytes.withUnsafeBytes { board.bus.write($0, to: address) }
        #expect(fault == nil)
    }
}

/// `count` bytes of `pattern` from its start.
func patternBytes(_ pattern: StreamPattern, count: Int, skipping skipped: Int = 0) -> [UInt8] {
    var generator = PatternGenerator(pattern)
    generator.skip(skipped)
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { generator.fill($0) }
    return bytes
}
