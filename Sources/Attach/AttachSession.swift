import Board
import CAttachProtocol
import Glibc
import Reactor
import Trace
import UIO

/// An unmodified driver program attached to the emulated board (DESIGN.md, "Attaching a user's
/// driver process"): the run directory with the stand-in sysfs and /dev tree, the control socket,
/// the child process, and every process it starts that talks to the board.
///
/// Virtual time: the session is the reactor's `ClockGate`. A process that holds the clock and is
/// running stops board time until its next request; a request is answered at the board time the
/// process saw, and waits (sleeps, blocking reads, poll timeouts, a register access's bus time) let
/// the clock move. So the same program, board and seed always give the same event order.
/// Real time: requests are answered as they come (the notify eventfd is watched), and the child's
/// clocks and sleeps are its own.
public final class AttachSession: ClockGate {
    public struct Options: Sendable {
        /// The command and its arguments (`argv`); the program is searched in PATH.
        public var command: [String]
        /// The preload library (`libuioemu-attach.so`).
        public var preloadLibrary: String
        /// What each register access costs the process in board time (virtual time); nil takes the
        /// device's `access-time` from the profile.
        public var registerAccessTime: TimeSpan? = nil
        /// What each clock read costs the process in board time (virtual time), so that a loop
        /// spinning on the clock still sees time pass.
        public var clockReadCost: TimeSpan = .nanoseconds(20)
        /// How long a child gets between SIGTERM and SIGKILL when the run ends before it does.
        public var stopGraceMilliseconds = 2_000
        /// Extra environment for the child (NAME=value).
        public var environment: [String] = []

        public init(command: [String], preloadLibrary: String) {
            self.command = command
            self.preloadLibrary = preloadLibrary
        }
    }

    /// How the spawned program ended.
    public enum Ending: Equatable, Sendable, CustomStringConvertible {
        case exited(status: Int32)
        case signalled(signal: Int32)
        /// The run ended first and uioemu stopped the program (SIGTERM, then SIGKILL).
        case stopped(signal: Int32)

        public var description: String {
            switch self {
            case let .exited(status): "exited with status \(status)"
            case let .signalled(signal): "killed by signal \(signal) (\(signalName(signal)))"
            case let .stopped(signal): "stopped by uioemu with \(signalName(signal)) when the run ended"
            }
        }
    }

    let reactor: Reactor
    let board: Board
    let uio: UIOSystem
    public let options: Options
    let isRealTime: Bool
    /// The private directory: the control socket and the stand-in tree.
    public let runDirectory: String
    let tree: StandInTree
    let listener: Int32
    let notifyFD: Int32
    let poolFD: Int32
    /// Physical address of the pool memfd's first byte, and its size.
    let poolMemoryBase: PhysicalAddress
    let poolMemoryBytes: UInt64
    // The stored `var`s the request path reads are `@exclusivity(unchecked)`: one reactor thread, no
    // overlapping access (DESIGN.md, hot path: each register access of the program is a request).
    @exclusivity(unchecked) var processes: [AttachedProcess] = []
    /// Handshakes so far (numbers the processes in connection order).
    var connections = 0
    /// Processes that exist but have not connected yet: the spawned child before its handshake, a
    /// process another one started (OP_FORKED), one between its exec and its new image's handshake.
    /// Board time waits for them, so nothing runs ahead while a program starts.
    @exclusivity(unchecked) var expectedPIDs: [Int32: Int32] = [:]  // pid -> its parent's pid
    var syncSettings: [ObjectIdentifier: BufferSyncSettings] = [:]
    /// Attributes open for writing (a pipe each) in all processes: each request drains them first,
    /// so that a value written reaches the buffer before the request it precedes.
    @exclusivity(unchecked) var attributeWriters = 0
    var childPID: pid_t = 0
    /// Wall time of the spawn, for the "has not connected" warning.
    var spawnedAt: Int64 = 0
    var warnedNotConnected = false
    public private(set) var childConnected = false
    @exclusivity(unchecked) public private(set) var ending: Ending? = nil
    /// Board time when the child ended (or was stopped).
    public private(set) var endedAt: Instant? = nil
    /// Problems that stopped the run (an instruction the trap cannot complete exactly, a second
    /// thread, a protocol error), each a full sentence.
    public private(set) var problems: [String] = []
    /// Things said once on stderr-worthy occasions (the CLI prints them).
    public internal(set) var notes: [String] = []
    /// Register accesses the attached processes made.
    @exclusivity(unchecked) public internal(set) var registerAccesses = 0
    /// CPU touches of device-owned buffers caught by page protection.
    public internal(set) var cpuTouches = 0
    /// Set when something requires the run to end (a problem); the runner stops the reactor.
    @exclusivity(unchecked) public private(set) var wantsStop = false
    /// Records what the attached processes do to UIO files (reads, enables) when set.
    public var tracer: Tracer? = nil
    private var realTimeTarget: RealTimeEvents? = nil
    /// UIOEMU_ATTACH_DEBUG=1: every request and reply on stderr (for debugging the transport).
    let debugRequests = getenv("UIOEMU_ATTACH_DEBUG") != nil

    func debugLog(_ text: String) {
        var line = Array("uioemu attach: \(text)\n".utf8)
        _ = write(2, &line, line.count)
    }
    private var closed = false

    /// `libuioemu-attach.so`: $UIOEMU_PRELOAD_LIBRARY, else next to the running executable (`make`
    /// builds it into .build/debug and .build/release beside uioemu).
    public static func locatePreloadLibrary() throws(AttachError) -> String {
        if let named = getenv("UIOEMU_PRELOAD_LIBRARY").map({ String(cString: $0) }) {
            guard access(named, R_OK) == 0 else { throw AttachError("UIOEMU_PRELOAD_LIBRARY names \(named), which does not exist", isInputError: true) }
            return named
        }
        var path = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &path, path.count - 1)
        guard n > 0 else { throw AttachError("cannot find this executable's directory (/proc/self/exe)", isInputError: true) }
        let executable = String(decoding: path[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let library = executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") + "/libuioemu-attach.so"
        guard access(library, R_OK) == 0 else {
            throw AttachError("the preload library \(library) is missing: build it with `make` (or set UIOEMU_PRELOAD_LIBRARY)", isInputError: true)
        }
        return library
    }

    /// A memfd for the board's DMA pool (`Board(profile:sharedDMAPool:)`): the child maps it.
    public static func makeSharedPool() throws(AttachError) -> Int32 {
        switch AttachSystemCalls.memfd("uioemu-dma-pool", bytes: 0) {
        case let .success(fd): return fd
        case let .failure(e): throw AttachError("cannot create the shared DMA pool: \(AttachSystemCalls.describe(e.code))")
        }
    }

    /// Sets up the run directory and the control socket for a board whose pool is backed by
    /// `sharedPool`. Nothing runs until `start()`.
    public init(reactor: Reactor, board: Board, uio: UIOSystem, sharedPool: Int32, options: Options) throws(AttachError) {
        #if !arch(x86_64)
        throw AttachError("uioemu attach supports x86-64 hosts only (register accesses are trapped and decoded as x86-64 instructions)")
        #endif
        self.reactor = reactor
        self.board = board
        self.uio = uio
        self.options = options
        isRealTime = reactor.clock == .realTime
        poolFD = sharedPool
        let ram = board.ram[board.profile.dmaPool.memoryRegion]!
        guard let block = ram.backedBlock(containing: board.dmaPool.base - ram.range.base) else {
            throw AttachError("the DMA pool is not backed by shared memory")
        }
        var info = stat()
        guard fstat(sharedPool, &info) == 0, UInt64(info.st_size) == block.count else {
            throw AttachError("the DMA pool could not be placed in shared memory (\(block.count) bytes)")
        }
        poolMemoryBase = ram.range.base + block.offset
        poolMemoryBytes = block.count
        guard case let .success(directory) = AttachSystemCalls.makeRunDirectory() else {
            throw AttachError("cannot create a private run directory in \(String(cString: getenv("TMPDIR") ?? strdup("/tmp"))): \(AttachSystemCalls.describe(AttachSystemCalls.errno()))")
        }
        runDirectory = directory
        tree = StandInTree(root: directory + "/root")
        for buffer in uio.heap.liveBuffers {
            var settings = BufferSyncSettings(size: buffer.size)
            if let spec = board.profile.udmaBuffers.first(where: { $0.name == buffer.name }) { settings.mode = spec.syncMode }
            syncSettings[ObjectIdentifier(buffer)] = settings
        }
        _ = AttachSystemCalls.makeDirectory(directory + "/root")
        if let problem = StandInTree.write(for: uio, at: directory + "/root") {
            AttachSystemCalls.removeTree(directory)
            throw AttachError(problem)
        }
        switch AttachSystemCalls.listen(at: directory + "/control.sock") {
        case let .success(fd): listener = fd
        case let .failure(e):
            AttachSystemCalls.removeTree(directory)
            throw AttachError("cannot listen on \(directory)/control.sock: \(AttachSystemCalls.describe(e.code))")
        }
        notifyFD = AttachSystemCalls.eventFD()
        super.init()
        if isRealTime {
            let events = RealTimeEvents(session: self)
            realTimeTarget = events
            _ = reactor.watch(.fd(notifyFD), for: .read, target: events, tag: RealTimeEvents.Tag.request.rawValue)
            _ = reactor.watch(.fd(listener), for: .read, target: events, tag: RealTimeEvents.Tag.connection.rawValue)
        } else {
            reactor.clockGate = self
        }
    }

    deinit { close() }

    /// The environment the child gets: ours, with the preload library in front of any other.
    func childEnvironment() -> [String] {
        var environment: [String] = []
        var preload = options.preloadLibrary
        var index = 0
        while let entry = environ[index] {  // bounded: the environment's entries
            let text = String(cString: entry)
            index += 1
            if text.hasPrefix("LD_PRELOAD=") {
                let others = String(text.dropFirst("LD_PRELOAD=".count))
                if !others.isEmpty { preload += ":" + others }
            } else if !text.hasPrefix("UIOEMU_ATTACH_") {
                environment.append(text)
            }
        }
        environment.append("LD_PRELOAD=" + preload)
        environment.append("\(UIOEMU_ENV_SOCKET)=\(runDirectory)/control.sock")
        environment.append("\(UIOEMU_ENV_ROOT)=\(tree.root)")
        return environment + options.environment
    }

    /// Starts the program. A command that cannot be started is an input error naming it.
    public func start() throws(AttachError) {
        guard let program = options.command.first else { throw AttachError("no command to attach: give one after --") }
        switch AttachSystemCalls.spawn(options.command, environment: childEnvironment()) {
        case let .success(pid):
            childPID = pid
            expectedPIDs[pid] = getpid()
            spawnedAt = AttachSystemCalls.monotonicNanoseconds()
        case let .failure(e):
            throw AttachError(e.code == ENOENT ? "command not found: \(program)" : "cannot start \(program): \(AttachSystemCalls.describe(e.code))",
                              isInputError: true)
        }
        if isRealTime {
            let events = realTimeTarget!
            _ = reactor.schedulePeriodic(every: .milliseconds(10)) { [unowned self] in
                _ = events
                checkChild()
            }
        }
    }

    /// The spawned program has ended (exited, killed, or stopped by uioemu).
    public var isFinished: Bool { ending != nil }

    // MARK: the clock gate (virtual time)

    override public var isHoldingClock: Bool {
        guard ending == nil, !wantsStop else { return false }
        if !expectedPIDs.isEmpty { return true }
        let now = reactor.now.nanosecondsSinceStart
        var detached = false
        for p in processes {
            switch p.state {
            case .running where p.holdsClockWhenRunning: return true
            case let .waiting(wait) where isSatisfied(wait, p, now: now): return true
            case .detached: detached = true
            default: continue
            }
        }
        // The board has nothing left to do, but a process blocked outside it (a pipe, the terminal,
        // another process) may come back: wait for it rather than end the run.
        return detached && !reactor.hasTimersOrQueuedWork
    }



    override public func holdClock() -> Bool {
        // New connections are taken while waiting (below): a process that connects is announced
        // (OP_FORKED, the spawned child, an exec) and so holds the clock until it does.
        if !expectedPIDs.isEmpty { acceptConnections() }
        let now = reactor.now.nanosecondsSinceStart
        var acted = false
        for p in processes {
            if case let .waiting(wait) = p.state, isSatisfied(wait, p, now: now) {
                complete(wait, of: p)
                acted = true
            }
        }
        if acted { return true }
        serveNextRequest()
        return true
    }

    /// Blocks until a clock-holding process has a request, serves one, or returns after a
    /// liveness interval (so the loop notices signals and exits).
    private func serveNextRequest() {
        // Any live process may send a request: a detached one attaches again by doing so. This runs
        // once per request of a program (each register access): it allocates nothing and, with one
        // process, spins in C on that process's request word alone.
        var first: AttachedProcess? = nil
        var liveCount = 0
        for p in processes where !p.isGone {  // bounded: the connected processes
            liveCount += 1
            if first == nil && p.isRunning && p.holdsClockWhenRunning { first = p }
        }
        guard let first else {
            waitForExpected()
            return
        }
        if liveCount == 1 {
            // Spin only while the process can be running beside us: not just woken by the last
            // reply (a woken task is often placed on its waker's CPU) and last seen on another CPU;
            // otherwise it runs only once we sleep. Every 64th wait spins anyway, so that two
            // processes the scheduler has spread over two CPUs find out and stay spinning.
            let cpu = uioemu_host_cpu_plus_one()
            let childCPU = first.mailbox.childCPU
            first.requestWaits &+= 1
            let besideUs = !first.wokeAtLastReply && (childCPU == 0 || cpu == 0 || childCPU != cpu)
            if besideUs || first.requestWaits & 63 == 0,
               uioemu_host_spin_while_equal(first.mailbox.requestSequenceWord, first.answeredSequence, AttachSession.spinNanoseconds) != 0 {
                handleRequest(of: first)
                return
            }
        } else {
            let deadline = AttachSystemCalls.monotonicNanoseconds() + AttachSession.spinNanoseconds
            while AttachSystemCalls.monotonicNanoseconds() < deadline {  // bounded: spinNanoseconds of wall time
                if serveAnyRequest() { return }
            }
        }
        let expected = first.answeredSequence
        first.mailbox.setEmulatorSleeping(true)
        if !first.hasRequest {
            // Short when several processes run: the others' requests are seen only between sleeps.
            let timeout = liveCount == 1 ? Int64(UIOEMU_LIVENESS_CHECK_NS) : 1_000_000
            _ = uioemu_host_futex_wait(first.mailbox.requestSequenceWord, expected, timeout)
        }
        first.mailbox.setEmulatorSleeping(false)
        if serveAnyRequest() { return }
        // Nothing came: is everyone still there?
        if debugRequests {
            let holders = processes.filter { !$0.isGone && $0.isRunning && $0.holdsClockWhenRunning }
            debugLog("waiting for \(holders.map { "\($0.pid) (\($0.name))" }), expected \(expectedPIDs.keys.sorted())")
        }
        acceptConnections()
        for p in processes where !p.isGone && AttachSystemCalls.peerClosed(p.socket) { disconnect(p) }
        checkChild()
    }

    /// How long the emulator spins for a process's next request before it sleeps on the futex. A
    /// program's next register access comes a trap and a return later (a few µs on an idle
    /// machine); sleeping costs a futex wake in the program and the emulator's wake-up (about 5 to
    /// 10 µs and two system calls). Kept short so that on a loaded machine a program that is not
    /// running costs little CPU.
    static let spinNanoseconds: Int64 = 20_000

    /// Serves the first live process's pending request; false when none has one.
    private func serveAnyRequest() -> Bool {
        for p in processes where !p.isGone && p.hasRequest {  // bounded: the connected processes
            handleRequest(of: p)
            return true
        }
        return false
    }

    /// Only processes that have not connected yet hold the clock: wait in wall time for their
    /// handshake (or their end), serving any request that comes meanwhile.
    private func waitForExpected() {
        let live = processes.filter { !$0.isGone }
        for p in live where p.hasRequest {
            handleRequest(of: p)
            return
        }
        AttachSystemCalls.waitReadable([listener] + live.map(\.socket), milliseconds: 5)
        acceptConnections()
        for p in live where p.hasRequest {
            handleRequest(of: p)
            return
        }
        for p in live where AttachSystemCalls.peerClosed(p.socket) { disconnect(p) }
        checkChild()
        for (pid, parent) in expectedPIDs where !AttachSystemCalls.isAlive(pid) {
            expectedPIDs[pid] = nil
            ended(pid, parent: parent)
        }
        if expectedPIDs[childPID] != nil && !warnedNotConnected
            && AttachSystemCalls.monotonicNanoseconds() - spawnedAt > 5_000_000_000 {
            warnedNotConnected = true
            notes.append("\(options.command[0]) has not connected to the board after 5 s of wall time: a statically linked program does not load the preload library (LD_PRELOAD)")
        }
    }

    /// Process `pid` has ended: its parent, if it detached to wait (waitpid, a pipe from it), is
    /// about to run again, and holds board time from now on (until it detaches again).
    func ended(_ pid: Int32, parent: Int32) {
        for p in processes where !p.isGone && p.pid == parent {
            // waitpid(pid), waitpid(-1) and waitpid(-group) all return for this child.
            if case let .detached(target?) = p.state, target == pid || target <= 0 { p.state = .running }
        }
    }

    func isSatisfied(_ wait: AttachedProcess.Wait, _ p: AttachedProcess, now: Int64) -> Bool {
        if let deadline = wait.deadline, now >= deadline { return true }
        for h in wait.handles {
            if case let .uio(file)? = p.handles[h], case .success(true) = file.poll() { return true }
        }
        return false
    }

    // MARK: connections

    func acceptConnections() {
        for _ in 0..<64 {  // bounded: connections per look
            guard let fd = AttachSystemCalls.accept(listener) else { return }
            greet(fd)
        }
    }

    /// The handshake: HELLO in, WELCOME (with the mailbox, the pool and the notify eventfd) out.
    private func greet(_ fd: Int32) {
        AttachSystemCalls.waitReadable([fd], milliseconds: 2_000)
        let hello: ControlMessage.Hello
        switch AttachSystemCalls.receive(fd) {
        case let .packet(bytes, descriptors, truncated):
            for d in descriptors { AttachSystemCalls.close(d) }
            do throws(ControlMessage.DecodeError) {
                guard !truncated else { throw ControlMessage.DecodeError(message: "a control message longer than 4096 bytes") }
                guard case let .hello(h) = try ControlMessage.decode(bytes) else {
                    throw ControlMessage.DecodeError(message: "the first message must be HELLO")
                }
                hello = h
            } catch {
                refuse(fd, "malformed control message: \(error)")
                return
            }
        default:
            refuse(fd, "no HELLO within 2 s of connecting")
            return
        }
        guard hello.hostIsX86_64 else {
            refuse(fd, "uioemu attach supports x86-64 hosts only")
            return
        }
        guard case let .success(mailboxFD) = AttachSystemCalls.memfd("uioemu-mailbox", bytes: UInt64(Mailbox.bytes)),
              let page = AttachSystemCalls.mapShared(mailboxFD, bytes: Mailbox.bytes)
        else {
            refuse(fd, "cannot create a mailbox: \(AttachSystemCalls.describe(AttachSystemCalls.errno()))")
            return
        }
        let mailbox = Mailbox(base: page)
        mailbox.setBoardTime(reactor.now.nanosecondsSinceStart)
        mailbox.setClockReadCost(options.clockReadCost.nanoseconds)
        // Real time: the reactor sleeps in epoll until a process notifies it.
        mailbox.setEmulatorSleeping(isRealTime)
        let isChild = hello.pid == childPID
        connections += 1
        let process = AttachedProcess(socket: fd, mailbox: mailbox, mailboxFD: mailboxFD, pid: hello.pid, parentPID: hello.parentPid,
                                      name: hello.name, isSpawnedChild: isChild, connectionNumber: connections)
        expectedPIDs[hello.pid] = nil
        var flags: UInt32 = 0
        if isRealTime { flags |= UIOEMU_WELCOME_REALTIME.rawValue }
        if !uio.heap.isCoherent || uio.heap.liveBuffers.contains(where: { !$0.isCoherent }) { flags |= UIOEMU_WELCOME_NONCOHERENT.rawValue }
        let welcome = ControlMessage.welcome(flags: flags, mailboxBytes: UInt32(Mailbox.bytes),
                                             poolPhysicalBase: poolMemoryBase.rawValue, poolBytes: poolMemoryBytes,
                                             pageBytes: UIOMap.pageSize)
        if let e = AttachSystemCalls.send(fd, welcome.encoded(), descriptors: [mailboxFD, poolFD, notifyFD]) {
            notes.append("process \(hello.pid) (\(hello.name)) went away during the handshake: \(AttachSystemCalls.describe(e))")
            AttachSystemCalls.close(fd)
            AttachSystemCalls.unmap(page, bytes: Mailbox.bytes)
            AttachSystemCalls.close(mailboxFD)
            return
        }
        processes.append(process)
        if debugRequests { debugLog("connected \(hello.pid) (\(hello.name)) parent \(hello.parentPid) as #\(connections)") }
        if isChild { childConnected = true }
        if isRealTime, let events = realTimeTarget {
            _ = reactor.watch(.fd(fd), for: .read, target: events, tag: RealTimeEvents.Tag.socket.rawValue)
        }
    }

    private func refuse(_ fd: Int32, _ reason: String) {
        notes.append("refused a connection: \(reason)")
        _ = AttachSystemCalls.send(fd, ControlMessage.refused(reason).encoded())
        AttachSystemCalls.close(fd)
    }

    func disconnect(_ p: AttachedProcess) {
        guard !p.isGone else { return }
        if debugRequests { debugLog("disconnected \(p.pid) (\(p.name))") }
        p.state = .gone
        for (_, handle) in p.handles { release(handle) }
        p.handles = [:]
        if let timer = p.deadlineTimer { reactor.disarm(timer) }
        AttachSystemCalls.close(p.socket)
        AttachSystemCalls.unmap(p.mailbox.base, bytes: Mailbox.bytes)
        AttachSystemCalls.close(p.mailboxFD)
        if p.isSpawnedChild { checkChild(waitBriefly: true) }
        guard !processes.contains(where: { $0.pid == p.pid && !$0.isGone }) else { return }
        if AttachSystemCalls.isAlive(p.pid) {
            // It closed its connection by exec'ing (a shell or wrapper running the driver): the new
            // image connects again, and until then it holds board time.
            if ending == nil || !p.isSpawnedChild { expectedPIDs[p.pid] = p.parentPID }
        } else {
            ended(p.pid, parent: p.parentPID)
        }
    }

    /// Reaps the spawned child if it has ended.
    func checkChild(waitBriefly: Bool = false) {
        guard ending == nil, childPID > 0 else { return }
        var status = AttachSystemCalls.poll(child: childPID)
        if status == .running && waitBriefly {
            // Its socket closed: it is exiting, or it exec'd. Give it a moment (bounded) to tell.
            for _ in 0..<20 where status == .running {
                usleep(1_000)
                status = AttachSystemCalls.poll(child: childPID)
            }
        }
        switch status {
        case .running: return
        case let .exited(code): ending = .exited(status: code)
        case let .signalled(signal): ending = .signalled(signal: signal)
        }
        endedAt = reactor.now
        if !isRealTime { reactor.stop() } else { reactor.stop() }
    }

    /// Records a problem that ends the run, and asks the loop to stop.
    func stopRun(_ problem: String) {
        problems.append(problem)
        wantsStop = true
        reactor.stop()
    }

    // MARK: ending

    /// Ends the program if it still runs (SIGTERM, then SIGKILL after the grace period), reaps it,
    /// and removes the run directory. Idempotent.
    public func finish() {
        if ending == nil && childPID > 0 {
            AttachSystemCalls.signal(group: childPID, SIGTERM)
            var signal = SIGTERM
            let deadline = AttachSystemCalls.monotonicNanoseconds() + Int64(options.stopGraceMilliseconds) * 1_000_000
            var status = AttachSystemCalls.poll(child: childPID)
            while status == .running && AttachSystemCalls.monotonicNanoseconds() < deadline {  // bounded: the grace period
                usleep(2_000)
                status = AttachSystemCalls.poll(child: childPID)
            }
            if status == .running {
                signal = SIGKILL
                AttachSystemCalls.signal(group: childPID, SIGKILL)
                status = AttachSystemCalls.poll(child: childPID, blocking: true)
            }
            ending = .stopped(signal: signal)
            endedAt = reactor.now
        }
        // Descendants that outlived the child go too.
        if childPID > 0 { AttachSystemCalls.signal(group: childPID, SIGKILL) }
        close()
    }

    private func close() {
        guard !closed else { return }
        closed = true
        for p in processes { disconnect(p) }
        if reactor.clockGate === self { reactor.clockGate = nil }
        AttachSystemCalls.close(listener)
        AttachSystemCalls.close(notifyFD)
        AttachSystemCalls.removeTree(runDirectory)
    }
}

/// Why attaching failed.
public struct AttachError: Error, CustomStringConvertible {
    public let message: String
    /// Bad usage or input (exit 2), as opposed to a failure of the run.
    public let isInputError: Bool
    public init(_ message: String, isInputError: Bool = false) {
        self.message = message
        self.isInputError = isInputError
    }
    public var description: String { message }
}

func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGHUP: "SIGHUP"
    case SIGINT: "SIGINT"
    case SIGQUIT: "SIGQUIT"
    case SIGILL: "SIGILL"
    case SIGABRT: "SIGABRT"
    case SIGBUS: "SIGBUS"
    case SIGFPE: "SIGFPE"
    case SIGKILL: "SIGKILL"
    case SIGSEGV: "SIGSEGV"
    case SIGPIPE: "SIGPIPE"
    case SIGALRM: "SIGALRM"
    case SIGTERM: "SIGTERM"
    default: "signal \(signal)"
    }
}

/// Real time: the notify eventfd, the listening socket and the processes' sockets, watched.
final class RealTimeEvents: ReactorTarget {
    enum Tag: UInt64 {
        case request, connection, socket
    }

    unowned let session: AttachSession
    init(session: AttachSession) { self.session = session }

    override func reactorEvent(_ tag: UInt64) {
        switch Tag(rawValue: tag) {
        case .request:
            AttachSystemCalls.drainEventFD(session.notifyFD)
            session.serveRealTimeRequests()
        case .connection: session.acceptConnections()
        case .socket:
            for p in session.processes where !p.isGone && AttachSystemCalls.peerClosed(p.socket) { session.disconnect(p) }
            session.serveRealTimeRequests()
        case nil: preconditionFailure("AttachSession: unknown real-time event tag \(tag)")
        }
    }
}
