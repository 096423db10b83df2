import Glibc
import CLibevent

/// What a watch waits on: a real file descriptor, or a doorbell (in-process or eventfd-backed).
public enum ReadinessSource {
    case fd(Int32)
    case doorbell(Doorbell)
}

public struct WatchEvents: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = WatchEvents(rawValue: 1)
    public static let write = WatchEvents(rawValue: 2)
}

/// A persistent readiness watch. Safe to cancel twice, from any callback, or after its source is gone.
public struct WatchID: Hashable, Sendable {
    let slot: UInt32
    let generation: UInt32
}

struct WatchTable {
    struct Entry {
        var callback: Callback
        var generation: UInt32
        var inUse: Bool
        /// libevent event for fd and eventfd-backed watches; nil for in-process doorbells.
        var event: OpaquePointer?
        var context: UnsafeMutablePointer<EventContext>?
        /// The in-process doorbell this watches, or -1.
        var doorbellSlot: Int32
        var owner: Int32
        var keepsLoopAlive: Bool
    }

    private var entries = RawBuffer<Entry>(capacity: 16)
    private var used = 0
    private var free: [Int] = []

    mutating func allocate(_ entry: Entry) -> WatchID {
        let slot: Int
        var e = entry
        if let f = free.popLast() {
            slot = f
            e.generation = entries[slot].generation
        } else {
            entries.reserve(used + 1, keeping: used)
            slot = used
            used += 1
            e.generation = 0
        }
        e.inUse = true
        entries[slot] = e
        return WatchID(slot: UInt32(slot), generation: e.generation)
    }

    func isLive(_ id: WatchID) -> Bool {
        Int(id.slot) < used && entries[Int(id.slot)].inUse && entries[Int(id.slot)].generation == id.generation
    }

    @inline(__always) func entry(_ slot: Int) -> Entry { entries[slot] }
    @inline(__always) func callback(_ slot: Int) -> Callback { entries[slot].callback }

    mutating func release(_ slot: Int) {
        entries.base[slot].inUse = false
        entries.base[slot].generation &+= 1
        entries.base[slot].event = nil
        entries.base[slot].context = nil
        free.append(slot)
    }

    mutating func setEvent(_ slot: Int, event: OpaquePointer, context: UnsafeMutablePointer<EventContext>) {
        entries.base[slot].event = event
        entries.base[slot].context = context
    }

    mutating func freeAllEvents() {
        for slot in 0..<used where entries[slot].inUse {
            if let ev = entries[slot].event { event_free(ev) }
            entries[slot].context?.deallocate()
            entries.base[slot].event = nil
            entries.base[slot].context = nil
        }
    }

    func deallocate() { entries.deallocate() }
}

extension Reactor {
    /// Watches `source` until cancelled; `target.reactorEvent(tag)` runs each turn it is ready.
    /// fd watches keep `run()` going; doorbell watches do not (only in-process code rings them).
    /// Doorbells support `.read` only.
    @discardableResult
    public func watch(_ source: ReadinessSource, for events: WatchEvents, target: ReactorTarget, tag: UInt64 = 0) -> WatchID {
        assertOwnerThread()
        precondition(!events.isEmpty, "a watch needs .read and/or .write")
        let owner = retainOwner(target)
        var entry = WatchTable.Entry(callback: Callback(target: .passUnretained(target), tag: tag), generation: 0,
                                     inUse: true, event: nil, context: nil, doorbellSlot: -1,
                                     owner: Int32(owner), keepsLoopAlive: false)
        switch source {
        case let .fd(fd):
            entry.keepsLoopAlive = true
            let id = core.pointee.watches.allocate(entry)
            addLibeventWatch(id, fd: fd, events: events)
            core.pointee.keepAliveWatches += 1
            return id
        case let .doorbell(bell):
            precondition(events == .read, "a doorbell can only be watched for .read")
            if bell.fileDescriptor >= 0 {
                let id = core.pointee.watches.allocate(entry)
                addLibeventWatch(id, fd: bell.fileDescriptor, events: events)
                return id
            }
            let slot = Int(bell.slot)
            precondition(core.pointee.doorbells.state(slot).watchSlot < 0, "a doorbell has at most one watch")
            entry.doorbellSlot = Int32(slot)
            let id = core.pointee.watches.allocate(entry)
            let state = core.pointee.doorbells.pointer + slot
            state.pointee.watchSlot = Int32(id.slot)
            if state.pointee.count > 0 && !state.pointee.queued {
                state.pointee.queued = true
                core.pointee.ready.push(.doorbell(slot: UInt32(slot)))
                if clock == .realTime { activatePostEvent() }
            }
            return id
        }
    }

    @discardableResult
    public func watch(_ source: ReadinessSource, for events: WatchEvents, _ body: @escaping () -> Void) -> WatchID {
        watch(source, for: events, target: ClosureTarget(body))
    }

    @discardableResult
    public func watch(fd: Int32, for events: WatchEvents, _ body: @escaping () -> Void) -> WatchID {
        watch(.fd(fd), for: events, target: ClosureTarget(body))
    }

    /// Stops a watch. Safe twice, from its own or another callback, or after it was cancelled.
    public func cancel(_ watch: WatchID) {
        guard core.pointee.watches.isLive(watch) else { return }
        cancelWatch(slot: Int(watch.slot))
    }

    func cancelWatch(slot: Int) {
        let entry = core.pointee.watches.entry(slot)
        if let ev = entry.event {
            event_del(ev)
            // Freed after the current dispatch: the callback running now may be this event's.
            core.pointee.eventsToFree.append(ev)
            if let context = entry.context { core.pointee.contextsToFree.append(context) }
            core.pointee.libeventWatches -= 1
        }
        if entry.keepsLoopAlive { core.pointee.keepAliveWatches -= 1 }
        if entry.doorbellSlot >= 0 {
            (core.pointee.doorbells.pointer + Int(entry.doorbellSlot)).pointee.watchSlot = -1
        }
        core.pointee.watches.release(slot)
        // The target may be the one running; keep it until the dispatch ends.
        core.pointee.hasDeferredReleases = true
        core.pointee.ownersToRelease.append(Int(entry.owner))
        if core.pointee.dispatchDepth == 0 { flushFreedEvents() }
    }

    private func addLibeventWatch(_ id: WatchID, fd: Int32, events: WatchEvents) {
        var flags = Int16(EV_PERSIST)
        if events.contains(.read) { flags |= Int16(EV_READ) }
        if events.contains(.write) { flags |= Int16(EV_WRITE) }
        let context = UnsafeMutablePointer<EventContext>.allocate(capacity: 1)
        context.initialize(to: EventContext(reactor: .passUnretained(self), role: .watch, slot: id.slot))
        guard let ev = event_new(base, fd, flags, reactorTrampoline, context) else {
            preconditionFailure("libevent could not create a watch for fd \(fd)")
        }
        core.pointee.watches.setEvent(Int(id.slot), event: ev, context: context)
        core.pointee.libeventWatches += 1
        if event_add(ev, nil) != 0 {
            // epoll refuses some fds (a regular file: EPERM). A watch that can never fire must not
            // keep the loop waiting: it is cancelled at once and the failure kept for the caller.
            watchFailures.append((id, errno))
            cancelWatch(slot: Int(id.slot))
        }
    }

    /// Whether `watch` is registered (false after `cancel`, or when the system refused it).
    public func isWatching(_ watch: WatchID) -> Bool { core.pointee.watches.isLive(watch) }

    /// The errno with which the system refused `watch` (epoll_ctl), if it did.
    public func refusal(of watch: WatchID) -> Int32? { watchFailures.last { $0.id == watch }?.errno }

    func fireWatch(slot: Int) {
        let entry = core.pointee.watches.entry(slot)
        guard entry.inUse else { return }
        core.pointee.dispatchCount &+= 1
        entry.callback.invoke()
    }
}
