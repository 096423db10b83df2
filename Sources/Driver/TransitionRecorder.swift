import Trace

/// Records a driver's state transitions and ring-slot moves into a tracer, found by comparing the
/// machine with what was last recorded; the shell calls it before performing each input's
/// actions, so they come before the register writes they cause.
struct TransitionRecorder<Owner: TracedOwner> {
    /// `tracer != nil`, kept as a plain flag: testing the optional class reference costs a retain
    /// and a release per input.
    private(set) var isTracing = false
    private(set) var tracer: Tracer?
    /// The driver's name in traces.
    let traceName: String
    /// The same as events carry it.
    private let tracedName: TraceName
    private var tracedState = DriverState.stopped
    private var tracedOwners: [Owner] = []
    private var tracedLostInterrupts = 0

    init(traceName: String) {
        self.traceName = traceName
        tracedName = TraceName(traceName)
    }

    /// Starts (or, with nil, stops) recording from the machine as it is now.
    mutating func attach(_ tracer: Tracer?, state: DriverState, owners: [Owner], lostInterrupts: Int) {
        self.tracer = tracer
        isTracing = tracer != nil
        tracedState = state
        tracedOwners = owners
        tracedLostInterrupts = lostInterrupts
        tracer?.declare(.driver(traceName))
    }

    /// `lostInterrupts`: the machine's count of interrupts it noticed it missed (UIO count jumps);
    /// an increase is recorded as the driver accounting for them.
    /// Each event is made before the call that records it (plain values), so the closure captures
    /// no array and nothing is retained per event.
    @inline(never)
    mutating func record(state: DriverState, owners: UnsafeBufferPointer<Owner>, lostInterrupts: Int) {
        // Unretained: the driver holds the tracer (through `self.tracer`) for the whole call.
        guard let tracer = tracer.unretained else { return }
        if lostInterrupts > tracedLostInterrupts {
            let event = TraceEvent.lostInterrupts(driver: tracedName, count: lostInterrupts - tracedLostInterrupts)
            tracer._withUnsafeGuaranteedRef { $0.record(event) }
            tracedLostInterrupts = lostInterrupts
        }
        if state != tracedState {
            let event = TraceEvent.driverState(driver: tracedName, from: tracedState.traceLabel, to: state.traceLabel, code: state.traceCode)
            tracer._withUnsafeGuaranteedRef { $0.record(event) }
            tracedState = state
        }
        tracedOwners.withUnsafeMutableBufferPointer { traced in
            var slot = 0
            while slot < min(owners.count, traced.count) {  // bounded: the ring
                if owners[slot] != traced[slot] {
                    let event = TraceEvent.slotOwner(driver: tracedName, slot: slot, from: traced[slot].traceLabel, to: owners[slot].traceLabel)
                    tracer._withUnsafeGuaranteedRef { $0.record(event) }
                    traced[slot] = owners[slot]
                }
                slot += 1
            }
        }
    }
}

/// A ring slot's owner as traces name it.
protocol TracedOwner: Equatable {
    var traceLabel: TraceName { get }
}

extension ReceiveStateMachine.Owner: TracedOwner {
    var traceLabel: TraceName {
        switch self {
        case .driver: .driver
        case .device: .device
        case .consumer: .consumer
        }
    }
}

extension TransmitStateMachine.Owner: TracedOwner {
    var traceLabel: TraceName {
        switch self {
        case .producer: .producer
        case .queued: .queued
        case .device: .device
        }
    }
}
