import Board
import Devices
import Reactor
import Testing

/// Error bits (PG021 DMASR DMAIntErr/DMASlvErr/DMADecErr), the access policy and the fault hooks.
@Suite struct ErrorAndFaultTests {
    enum Cause: String, CaseIterable, CustomStringConvertible {
        case slaveErrorFault, decodeErrorFault, internalErrorFault, unmappedAddress, registerWindowAddress, refusedByPolicy
        var description: String { rawValue }

        var bit: UInt32 {
            switch self {
            case .slaveErrorFault, .registerWindowAddress: DMASR.DMASlvErr
            case .decodeErrorFault, .unmappedAddress, .refusedByPolicy: DMASR.DMADecErr
            case .internalErrorFault: DMASR.DMAIntErr
            }
        }
    }

    final class Refusing: DMAAccessPolicy {
        var seen: [DMAAccess] = []
        let refuse: Bool
        init(refuse: Bool) { self.refuse = refuse }
        override func admit(_ access: DMAAccess) -> Bool {
            seen.append(access)
            return !refuse
        }
    }

    func run(_ cause: Cause, _ direction: DMADirection, control: UInt32 = Bench.runWithInterrupts) throws -> Bench {
        let bench = try Bench(accessPolicy: Refusing(refuse: cause == .refusedByPolicy))
        let channel = bench.dma.channel(direction)!
        if direction == .s2mm { channel.attach(StreamSource(packetSize: .fixed(512))) }
        var address = Bench.buffer
        switch cause {
        case .slaveErrorFault: try channel.inject(.slaveError)
        case .decodeErrorFault: try channel.inject(.decodeError)
        case .internalErrorFault: try channel.inject(.internalError)
        case .unmappedAddress: address = PhysicalAddress(0x9000_0000)
        case .registerWindowAddress: address = Bench.base
        case .refusedByPolicy: break
        }
        bench.start(direction, address: address, length: 512, control: control)
        bench.advance(by: .microseconds(10))
        return bench
    }

    static let cases = DMADirection.allCases.flatMap { d in Cause.allCases.map { (d, $0) } }

    @Test("each error bit halts the channel, clears RS and raises Err_Irq with the line when enabled", arguments: cases)
    func errorHalts(direction: DMADirection, cause: Cause) throws {
        let bench = try run(cause, direction)
        #expect(bench.status(direction) == cause.bit | DMASR.Err_Irq | DMASR.Halted)
        #expect(bench.read(.DMACR, direction) & DMACR.RS == 0)
        #expect(bench.pending(direction))
        if direction == .s2mm {
            #expect(bench.s2mm.accounting.dropped[.transferError] == 512)
            #expect(bench.s2mm.accounting.deliveredBytes == 0)
            #expect(bench.s2mm.accounting.balances)
        }
    }

    @Test("an error without Err_IrqEn sets Err_Irq but leaves the line low", arguments: DMADirection.allCases)
    func errorWithoutEnable(direction: DMADirection) throws {
        let bench = try run(.slaveErrorFault, direction, control: DMACR.RS | DMACR.IOC_IrqEn)
        #expect(bench.status(direction) & DMASR.Err_Irq != 0)
        #expect(!bench.pending(direction))
    }

    @Test("after an error RS cannot be set again until a reset", arguments: DMADirection.allCases)
    func errorNeedsReset(direction: DMADirection) throws {
        let bench = try run(.decodeErrorFault, direction)
        bench.write(.DMASR, direction, DMASR.allIrq)
        bench.write(.DMACR, direction, Bench.runWithInterrupts)
        #expect(bench.read(.DMACR, direction) & DMACR.RS == 0)
        #expect(bench.status(direction) == DMASR.DMADecErr | DMASR.Halted, "error bits are not write-1-to-clear")
        bench.write(.DMACR, direction, DMACR.Reset)
        bench.write(.DMACR, direction, Bench.runWithInterrupts)
        #expect(bench.status(direction) == 0, "running again after the reset")
    }

    @Test("the access policy is asked once per transfer, with the range actually moved", arguments: DMADirection.allCases)
    func policyObservesOncePerTransfer(direction: DMADirection) throws {
        let policy = Refusing(refuse: false)
        let bench = try Bench(accessPolicy: policy)
        if direction == .s2mm { bench.s2mm.attach(StreamSource(packetSize: .fixed(300))) }
        for _ in 0..<3 {
            bench.start(direction, length: 1024)
            bench.advance(by: .microseconds(10))
            bench.write(.DMASR, direction, DMASR.IOC_Irq)
        }
        let moved: UInt64 = direction == .s2mm ? 300 : 1024
        #expect(policy.seen.count == 3)
        #expect(policy.seen.allSatisfy { $0.address == Bench.buffer && $0.byteCount == moved && $0.direction == direction })
        #expect(policy.seen.first?.writesMemory == (direction == .s2mm))
    }

    @Test("a packet longer than S2MM LENGTH fills the buffer, then DMAIntErr halts the channel")
    func packetTooLong() throws {
        let bench = try Bench()
        bench.s2mm.attach(StreamSource(packetSize: .fixed(1000)))
        bench.start(.s2mm, length: 600)
        bench.advance(by: .microseconds(10))
        #expect(bench.status(.s2mm) == DMASR.DMAIntErr | DMASR.Err_Irq | DMASR.Halted)
        #expect(bench.memory(at: Bench.buffer, count: 600) == patternBytes(.counter, count: 600))
        #expect(bench.memory(at: Bench.buffer + 600, count: 4) == [0, 0, 0, 0], "nothing past the buffer")
        #expect(bench.s2mm.accounting.deliveredBytes == 600)
        #expect(bench.s2mm.accounting.dropped[.packetTooLong] == 400)
        #expect(bench.s2mm.accounting.balances)
    }

    @Test("a stalled transfer never completes until a reset", arguments: DMADirection.allCases)
    func stall(direction: DMADirection) throws {
        let bench = try Bench()
        let channel = bench.dma.channel(direction)!
        if direction == .s2mm { channel.attach(StreamSource(packetSize: .fixed(64))) }
        try channel.inject(.stall)
        bench.start(direction, length: 64)
        bench.advance(by: .seconds(1))
        #expect(bench.status(direction) == 0)
        #expect(channel.isBusy)
        bench.write(.DMACR, direction, DMACR.Reset)
        #expect(!channel.isBusy)
        // The next transfer runs normally.
        bench.start(direction, length: 64)
        bench.advance(by: .microseconds(10))
        #expect(bench.status(direction) == DMASR.IOC_Irq | DMASR.Idle)
    }

    @Test("a delayed completion arrives exactly D later", arguments: DMADirection.allCases)
    func delayedCompletion(direction: DMADirection) throws {
        let bench = try Bench(setupCycles: 0)
        let channel = bench.dma.channel(direction)!
        if direction == .s2mm { channel.attach(StreamSource(packetSize: .fixed(400))) }
        try channel.inject(.delayCompletion(.microseconds(7)))
        bench.start(direction, length: 400)  // 1 µs of data
        bench.reactor.run(until: Instant(nanosecondsSinceStart: 7_999))
        #expect(bench.status(direction) & DMASR.IOC_Irq == 0)
        bench.reactor.run(until: Instant(nanosecondsSinceStart: 8_000))
        #expect(bench.status(direction) & DMASR.IOC_Irq != 0)
    }

    @Test("a short packet makes S2MM report fewer bytes than the buffer")
    func shortPacket() throws {
        let bench = try Bench()
        bench.s2mm.attach(StreamSource(packetSize: .fixed(2048)))
        try bench.s2mm.inject(.shortPacket(bytes: 100))
        bench.start(.s2mm, length: 2048)
        bench.advance(by: .microseconds(10))
        #expect(bench.read(.LENGTH, .s2mm) == 100)
        #expect(throws: FaultRejection.self) { try bench.mm2s.inject(.shortPacket(bytes: 100)) }
    }

    @Test("a corrupted byte lands in memory at its offset")
    func corruptS2MM() throws {
        let bench = try Bench()
        bench.s2mm.attach(StreamSource(packetSize: .fixed(256)))
        try bench.s2mm.inject(.corruptByte(offset: 10, mask: 0x01))
        bench.start(.s2mm, length: 256)
        bench.advance(by: .microseconds(10))
        var expected = patternBytes(.counter, count: 256)
        expected[10] ^= 0x01
        #expect(bench.memory(at: Bench.buffer, count: 256) == expected)
    }

    @Test("Dly_Irq stays 0 in direct mode unless a fault sets it", arguments: DMADirection.allCases)
    func delayInterrupt(direction: DMADirection) throws {
        let bench = try Bench()
        bench.write(.DMACR, direction, DMACR.RS | DMACR.Dly_IrqEn)
        #expect(bench.status(direction) & DMASR.Dly_Irq == 0)
        try bench.dma.channel(direction)!.inject(.delayInterrupt)
        #expect(bench.status(direction) & DMASR.Dly_Irq != 0)
        #expect(bench.pending(direction))
    }

    @Test("a spurious interrupt pulses the line with no status bit set", arguments: DMADirection.allCases)
    func spurious(direction: DMADirection) throws {
        let bench = try Bench(mm2sSense: "rising-edge", s2mmSense: "rising-edge")
        let line = bench.line(direction)
        try bench.dma.channel(direction)!.inject(.spuriousInterrupt)
        #expect(bench.board.interrupts.counters(of: line).raised == 1)
        #expect(bench.pending(direction), "the edge latched")
        #expect(bench.status(direction) & DMASR.allIrq == 0)
        #expect(bench.board.interrupts.inputLevel(of: line) == false, "and the line is back down")
    }

    @Test("a lost interrupt on an edge line: the cause is set, the controller never sees the edge", arguments: DMADirection.allCases)
    func lostEdge(direction: DMADirection) throws {
        let bench = try Bench(mm2sSense: "rising-edge", s2mmSense: "rising-edge")
        let channel = bench.dma.channel(direction)!
        if direction == .s2mm { channel.attach(StreamSource(packetSize: .fixed(64))) }
        try channel.inject(.lostInterrupt)
        bench.start(direction, length: 64)
        bench.advance(by: .microseconds(10))
        #expect(bench.status(direction) & DMASR.IOC_Irq != 0)
        #expect(!bench.pending(direction))
        #expect(channel.counters.lostInterrupts == 1)
        // Clearing the cause and completing again raises the next edge normally.
        bench.write(.DMASR, direction, DMASR.IOC_Irq)
        bench.start(direction, length: 64)
        bench.advance(by: .microseconds(10))
        #expect(bench.pending(direction))
    }

    @Test("a level line cannot lose an interrupt: the fault is refused", arguments: DMADirection.allCases)
    func lostLevelRefused(direction: DMADirection) throws {
        let bench = try Bench()
        #expect(throws: FaultRejection.levelLineCannotLoseAnInterrupt(line: bench.line(direction))) {
            try bench.dma.channel(direction)!.inject(.lostInterrupt)
        }
    }
}
