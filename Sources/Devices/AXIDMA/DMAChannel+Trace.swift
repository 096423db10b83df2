import Board
import Trace

/// What a channel tells a tracer: transfers starting and ending, faults injected, and its DMACR and
/// DMASR whenever they change. Each call site checks `tracer != nil` first and calls these out of
/// line, so a run without a tracer pays one branch per site and builds no event.
extension DMAChannel {
    func attachTracer(_ tracer: Tracer?, name: String) {
        self.tracer = tracer
        traceName = TraceName(name)
        tracedRegisters = nil
        tracer?.declare(.channel(name))
        tracer?.declare(.interruptLine(route.line, initialHigh: activeLow))
    }

    /// A transfer (or, in scatter-gather mode, a descriptor's data) starts at `start` (default:
    /// SA/DA).
    @inline(never)
    func traceStart(_ bytes: Int, at start: PhysicalAddress? = nil) {
        tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.dmaStart(channel: traceName, address: (start ?? address).rawValue, bytes: bytes)) }
    }

    /// Direct S2MM reports what LENGTH holds after the transfer (the bytes received); MM2S, and a
    /// scatter-gather descriptor, what moved.
    @inline(never)
    func traceCompletion(_ bytes: Int, failed: Bool) {
        if failed {
            tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.dmaError(channel: traceName, status: dmasr)) }
        } else {
            tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.dmaDone(channel: traceName, bytes: direction == .s2mm && !scatterGather ? Int(length) : bytes)) }
        }
    }

    /// Called from `updateInterrupt()` (after every register write and DMA step): records DMACR and
    /// DMASR when either changed since the last record.
    @inline(never)
    func traceRegisters() {
        if let traced = tracedRegisters, traced.control == dmacr && traced.status == dmasr { return }
        tracedRegisters = (dmacr, dmasr)
        tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.channelStatus(channel: traceName, control: dmacr, status: dmasr)) }
    }

    /// Scatter-gather: the descriptor just fetched into `descriptorBytes`, its words as read.
    @inline(never)
    func traceDescriptorFetch(at address: PhysicalAddress) {
        func word(_ w: DescriptorWord) -> UInt32 {
            UInt32(littleEndian: descriptorBytes.loadUnaligned(fromByteOffset: Int(w.rawValue), as: UInt32.self))
        }
        tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.descriptorFetch(channel: traceName, address: address.rawValue, next: word(.NXTDESC), buffer: word(.BUFFER_ADDRESS),
                                        control: word(.CONTROL), status: word(.STATUS))) }
    }

    @inline(never)
    func traceFault(_ fault: AXIDMAFault) {
        tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.fault(channel: traceName, fault: fault.description)) }
    }
}
