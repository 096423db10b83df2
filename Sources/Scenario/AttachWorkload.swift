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
public final class AttachWorkload {
    public struct Configuration: Sendable {
        public var session: AttachSession.Options
        public var pattern: StreamPattern = .counter
        public var packetSize: PacketSize = .fixed(4096)
        public var rateBytesPerSecond: UInt64? = nil
        public var backPressure = false
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

    public init(profile: BoardProfile, clock: Reactor.Clock, seed: UInt64, configuration: Configuration) throws(WorkloadError) {
        self.configuration = configuration
        do throws(AttachError) {
            sharedPool = try AttachSession.makeSharedPool()
        } catch {
            throw WorkloadError(error.message)
        }
        reactor = Reactor(clock: clock)
        board = Board(profile: profile, sharedDMAPool: sharedPool)
        uio = UIOSystem(board: board, reactor: reactor, cacheCopy: false)
        devices = DeviceSet(board: board, reactor: reactor, seed: seed, accessPolicy: uio.dmaGuard)
        for dma in devices.axiDMAs {
            dma.s2mm?.attach(StreamSource(pattern: configuration.pattern, packetSize: configuration.packetSize,
                                          rateBytesPerSecond: configuration.rateBytesPerSecond, backPressure: configuration.backPressure))
            dma.mm2s?.attach(StreamSink(pattern: configuration.pattern, rateBytesPerSecond: nil))
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
        board.interrupts.tracer = tracer
        for dma in devices.axiDMAs { dma.tracer = tracer }
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
