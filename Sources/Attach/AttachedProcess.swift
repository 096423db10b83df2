import CAttachProtocol
import Reactor

/// One process connected through the preload library: the spawned driver, or a process it started.
final class AttachedProcess {
    /// What the process is doing, as far as board time is concerned.
    enum State {
        /// Computing: in virtual time the clock waits for its next request (if it holds the clock).
        case running
        /// Its last request is answered when `wait` is satisfied.
        case waiting(Wait)
        /// Blocked outside the board: board time goes on without it until it says it is back, or
        /// until the child it waits for (`waitingFor`: waitpid's pid argument, -1 or a group for any;
        /// nil for a read of a pipe) ends: it is about to return then, and holds board time again.
        case detached(waitingFor: Int32?)
        case gone
    }

    /// A request answered later: at a board time, or when one of some UIO files becomes readable.
    struct Wait {
        enum Completion {
            /// The reply is known; the process only has to wait for its time (a register access's cost).
            case reply(Mailbox.Reply)
            /// A blocking 4-byte read of a UIO file.
            case uioRead(handle: Int, bytes: Int)
            /// poll/select/epoll: the ready handles, or none at the deadline.
            case readiness
            case sleep
            /// The request itself, once the process's clock-read debt has been paid in board time.
            case request
        }

        var handles: [Int]
        /// Board nanoseconds since start; nil: no deadline.
        var deadline: Int64?
        var completion: Completion
        let sequence: UInt32
    }

    let socket: Int32
    let mailbox: Mailbox
    let mailboxFD: Int32
    let pid: Int32
    let parentPID: Int32
    let name: String
    /// The process `uioemu attach` started (the others are its descendants).
    let isSpawnedChild: Bool
    /// The order in which processes connected (the session's counter at this one's handshake).
    let connectionNumber: Int
    // The stored `var`s the request path reads are `@exclusivity(unchecked)`: one reactor thread, no
    // overlapping access (DESIGN.md, hot path: each register access of the program is a request).
    @exclusivity(unchecked) var state: State = .running
    /// Holds board time while running. Every connected process does (the time a program computes
    /// between two requests must not let the board run ahead, or runs would differ); one that blocks
    /// outside the board detaches first (`detached`: waitpid, a read of a pipe).
    @exclusivity(unchecked) var holdsClockWhenRunning = true
    /// The last request sequence answered (or being answered).
    @exclusivity(unchecked) var answeredSequence: UInt32 = 0
    /// The last reply had to wake the process (it slept on the futex): it may now run on the
    /// emulator's own CPU, so the emulator does not spin for its next request.
    @exclusivity(unchecked) var wokeAtLastReply = false
    /// The emulator's waits for this process's requests, for its occasional spin (see serveNextRequest).
    @exclusivity(unchecked) var requestWaits: UInt32 = 0
    @exclusivity(unchecked) var handles: [Int: BoardHandle] = [:]
    var nextHandle = 0
    @exclusivity(unchecked) private(set) var registerTargets: [Int: RegisterTarget] = [:]
    /// The mapping the last register access went to (a driver's accesses nearly all go to one): found
    /// again without hashing.
    @exclusivity(unchecked) private var lastTarget: (id: Int, target: RegisterTarget)? = nil
    var nextMapping = 1
    /// Changes to the process's view of the DMA pool, sent with its next reply.
    @exclusivity(unchecked) var pendingProtection: [uioemu_protection_change] = []
    /// Reusable timer for this process's waits.
    @exclusivity(unchecked) var deadlineTimer: TimerID? = nil
    /// The first thread that touched the board (virtual time allows only one).
    var boardThread: Int32? = nil

    init(socket: Int32, mailbox: Mailbox, mailboxFD: Int32, pid: Int32, parentPID: Int32, name: String, isSpawnedChild: Bool,
         connectionNumber: Int) {
        self.connectionNumber = connectionNumber
        self.parentPID = parentPID
        self.socket = socket
        self.mailbox = mailbox
        self.mailboxFD = mailboxFD
        self.pid = pid
        self.name = name
        self.isSpawnedChild = isSpawnedChild
    }

    var isGone: Bool { if case .gone = state { true } else { false } }
    var isRunning: Bool { if case .running = state { true } else { false } }

    /// A request is waiting in the mailbox.
    var hasRequest: Bool { mailbox.requestSequence != answeredSequence }

    /// The register mapping `id` (OP_MMAP's mapping id), if mapped.
    func registerTarget(_ id: Int) -> RegisterTarget? {
        if let last = lastTarget, last.id == id { return last.target }
        guard let target = registerTargets[id] else { return nil }
        lastTarget = (id, target)
        return target
    }

    func setRegisterTarget(_ id: Int, _ target: RegisterTarget?) {
        registerTargets[id] = target
        if lastTarget?.id == id { lastTarget = nil }
    }

    func allocateHandle(_ handle: BoardHandle) -> Int? {
        for _ in 0..<Int(UIOEMU_MAX_HANDLES) {  // bounded: the handle space
            let h = nextHandle
            nextHandle = (nextHandle + 1) % Int(UIOEMU_MAX_HANDLES)
            if handles[h] == nil {
                handles[h] = handle
                return h
            }
        }
        return nil
    }
}
