import Glibc
import Synchronization
import Testing
import CLibevent
@testable import Reactor

@Suite("fd watches and doorbells", .serialized)
struct WatchTests {
    @Test("a read watch on an eventfd fires once per write, in order", arguments: [Reactor.Clock.virtual, .realTime])
    func eventfdWatchFiresPerWrite(clock: Reactor.Clock) {
        let r = Reactor(clock: clock)
        let fd = uioemu_eventfd(0, uioemu_efd_nonblock())
        #expect(fd >= 0)
        defer { close(fd) }
        var seen: [UInt64] = []
        var written = 0
        func writeNext() {
            written += 1
            var value = UInt64(written * 10)
            _ = write(fd, &value, 8)
        }
        var watch: WatchID? = nil
        // Each next write comes from a timer armed after the previous value was read, so two writes
        // never meet in the counter, however late a loaded machine runs the timers (writes armed
        // 1 ms apart up front could: the eventfd then sums them and one wake-up sees both).
        watch = r.watch(fd: fd, for: .read) {
            var value: UInt64 = 0
            #expect(read(fd, &value, 8) == 8)
            seen.append(value)
            if seen.count == 5 { r.cancel(watch!) } else { r.schedule(after: .milliseconds(1)) { writeNext() } }
        }
        r.schedule(after: .milliseconds(1)) { writeNext() }
        r.run()
        #expect(seen == [10, 20, 30, 40, 50])
        #expect(!r.hasPendingWork)
    }

    @Test("a watch the system refuses (epoll cannot watch a regular file) is reported, not left to hang the loop")
    func refusedWatch() throws {
        let path = "/tmp/uioemu-refused-watch-\(getpid())"
        let fd = open(path, O_RDWR | O_CREAT, 0o600)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        let r = Reactor(clock: .realTime)
        let watch = r.watch(fd: fd, for: .read) { Issue.record("a refused watch fired") }
        #expect(!r.isWatching(watch))
        #expect(r.refusal(of: watch) == EPERM)
        #expect(!r.hasPendingWork)
        r.run()  // returns: nothing keeps the loop alive
    }

    @Test("libevent's own warning (epoll refusing a regular file) reaches our log sink, not stderr raw")
    func libeventWarningsGoThroughTheSink() throws {
        let path = "/tmp/uioemu-libevent-log-\(getpid())"
        let fd = open(path, O_RDWR | O_CREAT, 0o600)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        let seen = Mutex<[(LibeventLog.Severity, String)]>([])
        let r = Reactor(clock: .realTime)
        let previous = LibeventLog.sink
        LibeventLog.sink = { severity, message in
            // Other tests' reactors run in parallel: keep only what is about this fd.
            if message.contains("on fd \(fd) ") { seen.withLock { $0.append((severity, message)) } } else { previous(severity, message) }
        }
        defer { LibeventLog.sink = previous }
        _ = r.watch(fd: fd, for: .read) { Issue.record("a refused watch fired") }
        let messages = seen.withLock { $0 }
        #expect(messages.count == 1)
        #expect(messages.first?.0 == .warning)
        #expect(messages.first?.1.hasPrefix("Epoll ADD(1) on fd \(fd) failed") == true, "\(messages)")
    }

    @Test("a write watch fires while the fd is writable")
    func writeWatch() {
        let r = Reactor(clock: .realTime)
        let fd = uioemu_eventfd(0, uioemu_efd_nonblock())
        defer { close(fd) }
        var fired = 0
        var watch: WatchID? = nil
        watch = r.watch(fd: fd, for: .write) {
            fired += 1
            if fired == 3 { r.cancel(watch!) }
        }
        r.run()
        #expect(fired == 3)
    }

    @Test("doorbells: rings coalesce until the watcher drains, like an eventfd read to zero",
          arguments: [Doorbell.Backing.inProcess, .eventfd], [Reactor.Clock.virtual, .realTime])
    func doorbellsCoalesce(backing: Doorbell.Backing, clock: Reactor.Clock) {
        let r = Reactor(clock: clock)
        let bell = r.makeDoorbell(backing: backing)
        #expect(bell.backing == backing)
        var drained: [UInt64] = []
        var watch: WatchID? = nil
        watch = r.watch(bell.source, for: .read) {
            drained.append(bell.drain())
            // Each next ring comes from a later callback, after this drain, whatever the wall clock does.
            switch drained.count {
            case 1: r.schedule(after: .microseconds(100)) { bell.ring() }
            case 2: r.schedule(after: .microseconds(100)) { bell.ring(5) }
            default: r.cancel(watch!)
            }
        }
        // Three rings from one callback coalesce into one wake-up.
        r.schedule(after: .microseconds(10)) { bell.ring(); bell.ring(); bell.ring() }
        r.run()
        #expect(drained == [3, 1, 5])
        #expect(!bell.isReadable)
    }

    @Test("doorbells: a watcher that does not drain is called again on the next turn (level-triggered)",
          arguments: [Doorbell.Backing.inProcess, .eventfd])
    func doorbellLevelTriggered(backing: Doorbell.Backing) {
        let r = Reactor(clock: .virtual)
        let bell = r.makeDoorbell(backing: backing)
        var calls = 0
        var watch: WatchID? = nil
        watch = r.watch(bell.source, for: .read) {
            calls += 1
            if calls == 4 {
                #expect(bell.drain() == 1)
                r.cancel(watch!)
            }
        }
        bell.ring()
        r.run()
        #expect(calls == 4)
    }

    @Test("doorbells: ringing never runs the watcher inside the ringing call", arguments: [Doorbell.Backing.inProcess, .eventfd])
    func doorbellNeverReentrant(backing: Doorbell.Backing) {
        let r = Reactor(clock: .virtual)
        let bell = r.makeDoorbell(backing: backing)
        var log: [String] = []
        let watch = r.watch(bell.source, for: .read) { log.append("watch \(bell.drain())") }
        r.schedule(after: .zero) {
            bell.ring()
            log.append("after ring")
        }
        r.run()
        r.cancel(watch)
        #expect(log == ["after ring", "watch 1"])
    }

    @Test("an in-process doorbell makes no system call; an eventfd-backed one has a real fd")
    func backingsDiffer() {
        let r = Reactor(clock: .virtual)
        #expect(r.makeDoorbell().backing == .inProcess)
        #expect(r.makeDoorbell().fileDescriptor == -1)
        #expect(r.makeDoorbell(backing: .eventfd).fileDescriptor >= 0)
        #expect(Reactor(clock: .realTime).makeDoorbell().backing == .eventfd)
    }
}

@Suite("Real-time clock", .serialized)
struct RealTimeTests {
    @Test("a real-time timer never fires before its deadline")
    func neverEarly() {
        let r = Reactor(clock: .realTime)
        var lateness: [Int64] = []
        for us: Int64 in [0, 50, 200, 1_000, 3_000] {
            let asked = r.now + .microseconds(us)
            r.schedule(at: asked) {
                // Against the wall clock on the reactor's own scale: board time may lag the wall
                // clock (outside callbacks `now` never passes an armed deadline, so on a loaded
                // machine `asked` can lie behind the wall clock at scheduling time) but never leads
                // it, so no deadline is reached early in wall time either.
                lateness.append(monotonicNanoseconds() - r.core.pointee.epochMonotonic - asked.nanosecondsSinceStart)
                #expect(r.now >= asked)
            }
        }
        r.run()
        #expect(lateness.count == 5)
        #expect(lateness.allSatisfy { $0 >= 0 })
    }

    @Test("SIGINT stops a running loop cleanly and is reported", arguments: [Reactor.Clock.virtual, .realTime])
    func sigintStops(clock: Reactor.Clock) {
        let r = Reactor(clock: clock)
        r.handleStopSignals()
        defer { r.handleStopSignals(false) }
        var ticks = 0
        r.schedulePeriodic(every: .milliseconds(1)) {
            ticks += 1
            // Process-directed, like Ctrl-C: the handler may run on another thread.
            if ticks == 3 { kill(getpid(), SIGINT) }
        }
        r.run()
        #expect(r.stoppedBySignal == SIGINT)
        // The handler may run on another thread, so the loop notices a few turns later; in virtual time
        // those turns take nanoseconds of wall time, so the tick count after the signal is not fixed.
        // (A SIGINT sent by another test running in parallel stops this reactor too: Ctrl-C semantics.)
        #expect(ticks >= 1)
        #expect(r.hasPendingWork)  // the periodic timer is still armed: nothing was torn down
    }
}
