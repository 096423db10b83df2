import CLibevent

/// A span of time in nanoseconds. Signed so that differences of instants are representable;
/// the reactor never schedules into the past (a negative delay means "now").
public struct TimeSpan: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    @inlinable public static func nanoseconds(_ n: Int64) -> TimeSpan { TimeSpan(nanoseconds: n) }
    @inlinable public static func microseconds(_ n: Int64) -> TimeSpan { TimeSpan(nanoseconds: n * 1_000) }
    @inlinable public static func milliseconds(_ n: Int64) -> TimeSpan { TimeSpan(nanoseconds: n * 1_000_000) }
    @inlinable public static func seconds(_ n: Int64) -> TimeSpan { TimeSpan(nanoseconds: n * 1_000_000_000) }
    public static let zero = TimeSpan(nanoseconds: 0)

    @inlinable public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.nanoseconds < b.nanoseconds }
    @inlinable public static func + (a: TimeSpan, b: TimeSpan) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds + b.nanoseconds) }
    @inlinable public static func - (a: TimeSpan, b: TimeSpan) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds - b.nanoseconds) }
    @inlinable public static func * (a: TimeSpan, k: Int64) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds * k) }

    /// Human form with the largest unit that keeps it exact: `1500ns`, `12us`, `3ms`, `2s`.
    public var description: String {
        let n = nanoseconds
        if n != 0 && n % 1_000_000_000 == 0 { return "\(n / 1_000_000_000)s" }
        if n != 0 && n % 1_000_000 == 0 { return "\(n / 1_000_000)ms" }
        if n != 0 && n % 1_000 == 0 { return "\(n / 1_000)us" }
        return "\(n)ns"
    }
}

/// A point on the reactor's clock: nanoseconds since the reactor was created. In virtual time it only
/// moves when the loop advances it; in real time it follows CLOCK_MONOTONIC.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanosecondsSinceStart: Int64

    @inlinable public init(nanosecondsSinceStart: Int64) { self.nanosecondsSinceStart = nanosecondsSinceStart }
    public static let start = Instant(nanosecondsSinceStart: 0)

    @inlinable public static func < (a: Instant, b: Instant) -> Bool { a.nanosecondsSinceStart < b.nanosecondsSinceStart }
    @inlinable public static func + (a: Instant, d: TimeSpan) -> Instant {
        Instant(nanosecondsSinceStart: a.nanosecondsSinceStart + d.nanoseconds)
    }
    @inlinable public static func - (a: Instant, b: Instant) -> TimeSpan {
        TimeSpan(nanoseconds: a.nanosecondsSinceStart - b.nanosecondsSinceStart)
    }
    public var description: String { "t+\(TimeSpan(nanoseconds: nanosecondsSinceStart))" }
}

/// CLOCK_MONOTONIC in nanoseconds (vDSO on Linux: no system call).
@inline(__always)
func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

extension TimeSpan {
    /// The libevent form of a relative timeout, clamped at zero.
    var timeval: timeval {
        let n = max(nanoseconds, 0)
        // Round up so a real-time timer never fires before its deadline.
        let micros = (n + 999) / 1_000
        return CLibevent.timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
    }
}
