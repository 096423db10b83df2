import Attach
import Board
import Devices
import Reactor
import Trace
import UIO

/// A user's own driver program on the emulated board (`uioemu attach`): the board with its DMA pool
/// in shared memory, the UIO system without a modelled CPU cache (the program reads the pool's pages
/// itself; on a non-coherent board its touches of device-owned buffers are caught by page
/// protection), u-dma-buf buffers carved at start as the kernel module carves them at boot, a
/// stream source on every S2MM channel and a checking sink on every MM2S channel, and the program.
public final class AttachWorkload: Workload {
    public struct Configuration: Sendable {
        public var session: AttachSession.Options
        public var clock: Reactor.Clock = .virtual
        /// What feeds every S2MM channel, and what takes every MM2S channel's stream.
        public var source = StreamSource(pattern: .counter, packetSize: .fixed(4096))
        public var sink = StreamSink(pattern: .counter)
        /// The MM2S stream wired back into S2MM (nil: a source and a sink of their own).
        public var loopback: StreamLoopback.Transform? = nil
        /// u-dma-buf devices that exist before the program starts, beyond the profile's own.
        public var extraBuffers: [UDMABufferSpec] = []

        public init(session: AttachSession.Options) { self.session = session }
    }

    public let configuration: Configuration
    public let reactor: Reactor
    public let board: Board
    public let uio: UIOSystem
    public let devices: DeviceSet
    public let session: AttachSession
    let sharedPool: Int32

    /// A scenario's run with `driver: { command: [...] }`: its time mode and stream, the preload
    /// library found where `AttachSession.locatePreloadLibrary()` looks.
    public convenience init(profile: BoardProfile, seed: UInt64, scenario: WorkloadConfiguration) throws(WorkloadError) {
        guard let command = scenario.command else { throw WorkloadError("mode: attached needs driver: { command: [...] }") }
        let preload: String
        do throws(AttachError) {
            preload = try AttachSession.locatePreloadLibrary()
        } catch {
            throw WorkloadError(error.message, isInputError: true)
        }
        var configuration = Configuration(session: AttachSession.Options(command: command, preloadLibrary: preload))
        configuration.clock = scenario.clock
        configuration.source = scenario.source
        configuration.sink = scenario.sink
        configuration.loopback = scenario.loopback
        try self.init(profile: profile, seed: seed, configuration: configuration)
    }

    public init(profile: BoardProfile, seed: UInt64, configuration: Configuration) throws(WorkloadError) {
        self.configuration = configuration
        do throws(AttachError) {
            sharedPool = try AttachSession.makeSharedPool()
        } catch {
            throw WorkloadError(error.message)
        }
        reactor = Reactor(clock: configuration.clock)
        board = Board(profile: profile, sharedDMAPool: sharedPool)
        var seeds = SplitMix64(seed: seed)
        uio = UIOSystem(board: board, reactor: reactor, cacheCopy: false, seed: seeds.next())
        devices = DeviceSet(board: board, reactor: reactor, seed: seed, accessPolicy: uio.dmaGuard)
        for dma in devices.axiDMAs {
            if let transform = configuration.loopback, let s2mm = dma.s2mm, let mm2s = dma.mm2s {
                mm2s.connectLoopback(to: s2mm, StreamLoopback(transform: transform))
            } else {
                dma.s2mm?.attach(configuration.source)
                dma.mm2s?.attach(configuration.sink)
            }
        }
        // Carved at start, in declaration order, as the module does at boot.
        for buffer in profile.udmaBuffers + configuration.extraBuffers {
            // `dma-coherent` makes a buffer coherent on a non-coherent board; without it a buffer is
            // what the pool is.
            let coherent = profile.dmaPool.coherent || buffer.dmaCoherent
            if case let .failure(error) = uio.heap.allocate(size: buffer.sizeBytes, name: buffer.name, coherent: coherent) {
                throw WorkloadError("u-dma-buf \(buffer.name) (\(buffer.sizeBytes) bytes): \(error)")
            }
        }
        do throws(AttachError) {
            session = try AttachSession(reactor: reactor, board: board, uio: uio, sharedPool: sharedPool, options: configuration.session)
        } catch {
            throw WorkloadError(error.message, isInputError: error.isInputError)
        }
    }

    deinit {
        session.finish()
        AttachSystemClose.close(sharedPool)
    }

    /// Records the board's side into `tracer`: interrupt lines, every AXI DMA, the heap.
    public func attach(_ tracer: Tracer) {
        board.attach(tracer)
        for dma in devices.axiDMAs { dma.tracer = tracer }
        for node in uio.devices { node.tracer = tracer }
        uio.heap.tracer = tracer
        session.tracer = tracer
    }

    /// Starts the program.
    public func start() throws(WorkloadError) {
        do throws(AttachError) {
            try session.start()
        } catch {
            throw WorkloadError(error.message, isInputError: error.isInputError)
        }
    }

    /// Runs until the program ends, a problem stops the run, a stop signal, or board time `limit`.
    /// Returns whether the board could still make progress (false: the program waits for something
    /// that can never happen on the board).
    @discardableResult
    public func run(until limit: Instant? = nil) -> Bool {
        let session = self.session
        let reactor = self.reactor
        var endTimer: TimerID? = nil
        if let limit { endTimer = reactor.schedule(at: limit) { reactor.stop() } }
        let progressed = reactor.run(until: { session.isFinished || session.wantsStop })
        if let endTimer { reactor.cancel(endTimer) }
        return progressed || limit.map { reactor.now >= $0 } ?? false || reactor.stoppedBySignal != nil
    }

    // MARK: Workload

    public var kernel: UIOSystem? { uio }
    public var scriptedDMA: AXIDMA? { devices.axiDMAs.first }
    public var accountedChannel: DMAChannel? { devices.axiDMAs.first?.s2mm }
    /// The program ended (or a problem stopped the run): the run is over.
    public var hasEnded: Bool { session.isFinished || session.wantsStop }

    /// Why the run failed on the program's side: it exited non-zero or was killed, or something it
    /// did stopped the run (an instruction the trap cannot complete exactly, a second thread).
    public var problems: [String] {
        var problems = session.problems
        switch session.ending {
        case let .exited(status)? where status != 0: problems.append("the program exited with status \(status)")
        case let .signalled(signal)?: problems.append("the program was \(AttachSession.Ending.signalled(signal: signal))")
        default: break
        }
        return problems
    }

    /// Another process's file of the driver's node, opened at the first mask-irq / unmask-irq.
    private var sideFile: UIOFile?

    /// Steps on the stream and on another process's view of the UIO node; the program's own
    /// buffers and state are its business.
    public func perform(_ action: ScenarioSpec.Step.WorkloadAction) -> String? {
        guard let s2mm = accountedChannel else { return "the board's AXI DMA has no S2MM channel" }
        switch action {
        case let .setRate(rate): s2mm.setSourceRate(rate)
        case .pauseSource: s2mm.pauseSource()
        case .resumeSource: s2mm.resumeSource()
        case .maskInterrupt, .unmaskInterrupt:
            guard let node = uio.devices.first(where: { $0.interruptLine == s2mm.route.line }) else { return "no UIO node reports the S2MM interrupt" }
            if sideFile == nil { sideFile = node.open(nonBlocking: true) }
            if case .unmaskInterrupt = action { _ = sideFile?.setInterruptEnabled(true) } else { _ = sideFile?.setInterruptEnabled(false) }
        case .restartDriver, .consumerStall, .cpuReadBuffer, .freeBuffer:
            return "this step acts on the built-in driver; an attached program's buffers and state are its own"
        case .uioRead, .uioWrite: return ScriptWorkload.scriptOnly
        }
        return nil
    }

    /// Ends the program if it still runs.
    /// Stops the program (if it still runs) and frees the run: the session, the board's objects
    /// and the reactor's targets hold each other in cycles that only the shutdown breaks. The
    /// figures stay readable. Safe to call twice.
    public func finish() {
        session.finish()
        guard !reactor.isShutDown else { return }
        uio.shutdown()
        reactor.shutdown()
    }

    public func measure(into m: inout Measures) {
        m.completions = completions
        m.driverState = session.isFinished ? "stopped" : "running"
        // The program's own counters and checks are its business; the board sees none of them.
        for key in ["lost-irqs", "spurious-irqs", "recoveries", "errors", "mismatched-bytes", "verified-bytes", "latency-p99", "delay-irqs"] {
            m.unmeasured[key] = "an attached program keeps its own counters (mode: attached)"
        }
    }

    /// Transfers completed by the board's DMA channels (both directions).
    public var completions: Int {
        devices.axiDMAs.reduce(0) { total, dma in
            total + Int(dma.s2mm?.accounting.deliveredPackets ?? 0) + Int(dma.mm2s?.sinkStatistics.packets ?? 0)
        }
    }
}

enum AttachSystemClose {
    static func close(_ fd: Int32) { if fd >= 0 { _ = Glibc.close(fd) } }
}

import Glibc
