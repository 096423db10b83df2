import Glibc
import CLibevent

/// An in-process readiness source, watched exactly like an fd.
///
/// `ring()` adds to a counter and makes the doorbell readable; `drain()` returns the counter and
/// resets it, like reading an eventfd. While it is readable its read watch fires once per turn
/// (level-triggered, as libevent reports an eventfd that was not read to zero); rings coalesce
/// until the watcher drains.
///
/// Backings: `.inProcess` makes no system call (virtual-time playback must not pay a kernel round
/// trip per interrupt); `.eventfd` uses a real eventfd, so the same watcher code can be woken by the
/// kernel. Code that rings, drains and watches cannot tell which one it got.
public final class Doorbell {
    public enum Backing: Sendable, Equatable {
        case inProcess
        case eventfd
    }

    public let backing: Backing
    let reactor: Reactor
    let slot: UInt32
    /// The eventfd behind an `.eventfd` doorbell, -1 otherwise.
    public let fileDescriptor: Int32

    init(reactor: Reactor, backing: Backing, slot: UInt32, fileDescriptor: Int32) {
        self.reactor = reactor
        self.backing = backing
        self.slot = slot
        self.fileDescriptor = fileDescriptor
    }

    deinit { reactor.releaseDoorbell(slot: slot) }

    /// What `Reactor.watch` takes.
    public var source: ReadinessSource { .doorbell(self) }

    /// Adds `count` (default 1) and makes the doorbell readable.
    @inline(__always)
    public func ring(_ count: UInt64 = 1) {
        if fileDescriptor >= 0 {
            ringEventFD(count)
        } else {
            reactor.ringInProcess(slot: Int(slot), count: count)
        }
    }

    /// Returns the rings since the last drain (0 if none) and makes the doorbell not readable.
    @inline(__always)
    public func drain() -> UInt64 {
        if fileDescriptor >= 0 { return drainEventFD() }
        return reactor.drainInProcess(slot: Int(slot))
    }

    // The system-call paths stay out of line so the in-process path has no stack frame to speak of.
    @inline(never)
    private func ringEventFD(_ count: UInt64) {
        var n = count
        _ = write(fileDescriptor, &n, 8)
        // Real time: a timer batch yields after this, so the watcher runs before later timers.
        reactor.core.pointee.rangEventFD = true
    }

    @inline(never)
    private func drainEventFD() -> UInt64 {
        var n: UInt64 = 0
        return read(fileDescriptor, &n, 8) == 8 ? n : 0
    }

    /// Whether a drain would return non-zero, without draining.
    public var isReadable: Bool {
        if fileDescriptor >= 0 {
            var p = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
            return poll(&p, 1, 0) == 1
        }
        return reactor.core.pointee.doorbells.state(Int(slot)).count > 0
    }
}

/// In-process doorbell state, indexed by slot.
struct DoorbellTable {
    struct State {
        var count: UInt64
        /// The read watch's slot, or -1.
        var watchSlot: Int32
        /// Whether an entry for this doorbell is in the ready queue.
        var queued: Bool
        var inUse: Bool
        var fileDescriptor: Int32
    }

    private var states = RawBuffer<State>(capacity: 16)
    private var used = 0
    private var free: [Int] = []

    mutating func allocate(fileDescriptor: Int32) -> Int {
        let slot: Int
        if let f = free.popLast() {
            slot = f
        } else {
            states.reserve(used + 1, keeping: used)
            slot = used
            used += 1
        }
        states[slot] = State(count: 0, watchSlot: -1, queued: false, inUse: true, fileDescriptor: fileDescriptor)
        return slot
    }

    mutating func release(_ slot: Int) {
        if states[slot].fileDescriptor >= 0 { close(states[slot].fileDescriptor) }
        states[slot].inUse = false
        states[slot].fileDescriptor = -1
        states[slot].watchSlot = -1
        free.append(slot)
    }

    @inline(__always) func state(_ slot: Int) -> State { states[slot] }
    @inline(__always) var pointer: UnsafeMutablePointer<State> { states.base }

    mutating func closeAll() {
        for slot in 0..<used where states[slot].inUse && states[slot].fileDescriptor >= 0 {
            close(states[slot].fileDescriptor)
            states[slot].fileDescriptor = -1
        }
    }

    func deallocate() { states.deallocate() }
}

extension Reactor {
    /// A new doorbell. The default backing is in-process in virtual time and an eventfd in real time.
    public func makeDoorbell(backing: Doorbell.Backing? = nil) -> Doorbell {
        assertOwnerThread()
        let chosen = backing ?? (clock == .virtual ? .inProcess : .eventfd)
        var fd: Int32 = -1
        if chosen == .eventfd {
            fd = uioemu_eventfd(0, uioemu_efd_nonblock() | uioemu_efd_cloexec())
            precondition(fd >= 0, "eventfd failed: errno \(errno)")
        }
        let slot = core.pointee.doorbells.allocate(fileDescriptor: fd)
        return Doorbell(reactor: self, backing: chosen, slot: UInt32(slot), fileDescriptor: fd)
    }

    @inline(__always)
    func ringInProcess(slot: Int, count: UInt64) {
        let state = core.pointee.doorbells.pointer + slot
        state.pointee.count &+= count
        if state.pointee.watchSlot >= 0 && !state.pointee.queued {
            state.pointee.queued = true
            core.pointee.ready.push(.doorbell(slot: UInt32(slot)))
            if clock == .realTime { activatePostEvent() }
        }
    }

    @inline(__always)
    func drainInProcess(slot: Int) -> UInt64 {
        let state = core.pointee.doorbells.pointer + slot
        let n = state.pointee.count
        state.pointee.count = 0
        return n
    }

    /// A queued in-process doorbell gets its turn: if still readable and watched, its watch fires;
    /// if the watcher left it readable, it is queued again (level-triggered, like an fd).
    @inline(__always)
    func runDoorbell(slot: Int) {
        let state = core.pointee.doorbells.pointer + slot
        state.pointee.queued = false
        guard state.pointee.inUse, state.pointee.count > 0, state.pointee.watchSlot >= 0 else { return }
        core.pointee.watches.callback(Int(state.pointee.watchSlot)).invoke()
        if state.pointee.inUse && state.pointee.count > 0 && state.pointee.watchSlot >= 0 && !state.pointee.queued {
            state.pointee.queued = true
            core.pointee.ready.push(.doorbell(slot: UInt32(slot)))
            if clock == .realTime { activatePostEvent() }
        }
    }

    func releaseDoorbell(slot: UInt32) {
        let s = Int(slot)
        let watchSlot = core.pointee.doorbells.state(s).watchSlot
        if watchSlot >= 0 { cancelWatch(slot: Int(watchSlot)) }
        core.pointee.doorbells.release(s)
    }
}
