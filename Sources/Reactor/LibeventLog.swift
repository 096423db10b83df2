import CLibevent
import Glibc
import Synchronization

/// libevent's own messages (a watch epoll refused, a broken event base), which it would otherwise
/// print raw to stderr as `[warn] Epoll ADD(1) on fd 7 failed...`. Every reactor routes them here
/// (`event_set_log_callback`, installed once, process-wide as libevent's log is), and from here they
/// go to `sink`: by default stderr, as `uioemu: libevent warning: ...`, like our other messages.
/// libevent's fatal errors come the same way, then the process aborts as libevent would.
/// (libevent's event_set_log_callback / event_set_fatal_callback, event2/event.h.)
public enum LibeventLog {
    public enum Severity: String, Sendable {
        case debug, message = "note", warning, error
    }

    public typealias Sink = @Sendable (Severity, String) -> Void

    /// Writes `uioemu: libevent <severity>: <message>` on stderr.
    public static let standardError: Sink = { severity, message in
        var line = Array("uioemu: libevent \(severity.rawValue): \(message)\n".utf8)
        _ = write(2, &line, line.count)
    }

    private static let current = Mutex<Sink>(standardError)

    /// Where libevent's messages go from now on (a test collects them; the CLI keeps the default).
    public static var sink: Sink {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    /// Routes libevent's messages to `sink`; called by every `Reactor.init`, effective once.
    static func install() { _ = installed }

    private static let installed: Bool = {
        event_set_log_callback(libeventLogCallback)
        event_set_fatal_callback(libeventFatalCallback)
        return true
    }()

    static func severity(_ code: Int32) -> Severity {
        switch code {
        case EVENT_LOG_DEBUG: return .debug
        case EVENT_LOG_MSG: return .message
        case EVENT_LOG_WARN: return .warning
        default: return .error
        }
    }
}

private func libeventLogCallback(_ severity: Int32, _ message: UnsafePointer<CChar>?) {
    LibeventLog.sink(LibeventLog.severity(severity), message.map { String(cString: $0) } ?? "")
}

private func libeventFatalCallback(_ code: Int32) {
    LibeventLog.sink(.error, "fatal error \(code): the event loop cannot go on")
    abort()
}
