import Trace

/// Records a driver's state transitions and ring-slot moves into a tracer, found by comparing the
/// machine with what was last recorded; the shell calls it before performing each input's
/// actions, so they come before the register writes they cause.
///
/// The shell hands the machine over piece by piece (`record(state:lostInterrupts:)`, then
/// `record(slot:owner:)` per slot, each owner read from the machine's array at the call): an
/// array or a class reference held across `Tracer.record` (a call the optimiser cannot see into)
/// is retained and released around it, which the hot-path gate counts per traced completion.
struct TransitionRecorder<Owner: TracedOwner> {
    /// `tracer != nil`, kept as a plain flag: testing the optional class reference costs a retain
    /// and a release per input.
    private(set) var isTracing = false
    private(set) var tracer: Tracer?
    /// The same tracer, unretained (`tracer` owns it): a trivial value, so calling through it
    /// retains nothing.
    private var unretainedTracer: Unmanaged<Tracer>?
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
        unretainedTracer = tracer.unretained
        isTracing = tracer != nil
        tracedState = state
        tracedOwners = owners
        tracedLostInterrupts = lostInterrupts
        tracer?.declare(.driver(traceName))
    }

    /// `lostInterrupts`: the machine's count of interrupts it noticed it missed (UIO count jumps);
    /// an increase is recorded as the driver accounting for them. Each event is made before the
    /// call that records it (plain values).
    @inline(never)
    mutating func record(state: DriverState, lostInterrupts: Int) {
        guard let tracer = unretainedTracer else { return }
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
    }

    /// Slot `slot` now belongs to `owner`: recorded if it moved since the last record.
    @inline(__always)
    mutating func record(slot: Int, owner: Owner) {
        guard slot < tracedOwners.count, owner != tracedOwners[slot] else { return }
        recordMove(slot: slot, to: owner)
    }

    @inline(never)
    private mutating func recordMove(slot: Int, to owner: Owner) {
        guard let tracer = unretainedTracer else { return }
        let event = TraceEvent.slotOwner(driver: tracedName, slot: slot, from: tracedOwners[slot].traceLabel, to: owner.traceLabel)
        tracer._withUnsafeGuaranteedRef { $0.record(event) }
        tracedOwners[slot] = owner
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
