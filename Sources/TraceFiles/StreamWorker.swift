#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a stream sink does with each block of its canonical stream (hash it, write it), on the
/// worker's thread.
protocol StreamBlockConsumer: AnyObject {
    func consume(_ bytes: UnsafeRawBufferPointer)
    /// `consume` on the consumer at `object` (an unretained `Self`), called through the type: a
    /// call through `any StreamBlockConsumer` may retain and release the consumer per block.
    static func consume(_ bytes: UnsafeRawBufferPointer, by object: UnsafeRawPointer)
}

extension StreamBlockConsumer {
    static func consume(_ bytes: UnsafeRawBufferPointer, by object: UnsafeRawPointer) {
        Unmanaged<Self>.fromOpaque(object)._withUnsafeGuaranteedRef { $0.consume(bytes) }
    }
}

/// Takes a stream sink's blocks off the reactor's thread: the sink copies each block the tracer
/// hands it into one of `depth` buffers made up front, and one thread of its own hashes it or
/// writes it to the file while the reactor goes on. The emulation itself stays on the one reactor
/// thread; only the sink's work on finished bytes moves (hashing is about a tenth of `play`'s time
/// per completion, and a `--trace` file's write(2) calls cost the kernel more than the emulation).
///
/// The bytes, their order and so the hash are the same as when consumed in place: one consumer
/// thread, blocks in the order given. `drain()` returns once every block given so far is consumed
/// (read the consumer's state only after it); `finish()` drains and ends the thread. A full queue
/// makes `submit` wait (the reactor never runs ahead of the file by more than `depth` blocks). If
/// the thread cannot be made, blocks are consumed in place, as before.
///
/// Nothing is allocated per block once the buffers are there (a block larger than its buffer, which
/// only a very long new string can make, grows that buffer once), and nothing is reference counted
/// per block: the callgrind gate watches the traced path.
final class StreamWorker {
    /// Keeps the consumer alive; per block it is called through `consumerType` and `consumerObject`.
    private let consumer: any StreamBlockConsumer
    private let consumerObject: UnsafeRawPointer
    private let consumerType: any StreamBlockConsumer.Type
    private let depth: Int
    // Raw memory: a pthread mutex or condition must not move once in use.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Signalled when a block is queued or the worker should end.
    private let filled: UnsafeMutablePointer<pthread_cond_t>
    /// Signalled when a block is consumed (space for `submit`, progress for `drain`).
    private let emptied: UnsafeMutablePointer<pthread_cond_t>
    private let buffers: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private let capacities: UnsafeMutablePointer<Int>
    private let counts: UnsafeMutablePointer<Int>
    // Under `mutex`: the oldest queued block, how many are queued, whether the thread should end.
    @exclusivity(unchecked) private var head = 0
    @exclusivity(unchecked) private var queued = 0
    @exclusivity(unchecked) private var ending = false
    /// The worker thread, nil when consuming in place (no thread could be made, or finished).
    @exclusivity(unchecked) private var thread: pthread_t?

    /// `blockBytes`: the usual size of a block (each buffer holds twice that before it must grow).
    init(consumer: any StreamBlockConsumer, blockBytes: Int, depth: Int = 4) {
        precondition(depth >= 1 && blockBytes > 0)
        self.consumer = consumer
        consumerObject = UnsafeRawPointer(Unmanaged.passUnretained(consumer as AnyObject).toOpaque())
        consumerType = type(of: consumer)
        self.depth = depth
        mutex = .allocate(capacity: 1)
        filled = .allocate(capacity: 1)
        emptied = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(filled, nil)
        pthread_cond_init(emptied, nil)
        buffers = .allocate(capacity: depth)
        capacities = .allocate(capacity: depth)
        counts = .allocate(capacity: depth)
        for k in 0..<depth {  // bounded: `depth` buffers
            capacities[k] = 2 * blockBytes
            buffers[k] = .allocate(byteCount: capacities[k], alignment: 64)
            counts[k] = 0
        }
        thread = Self.start(self)
    }

    deinit {
        finish()
        for k in 0..<depth { buffers[k].deallocate() }  // bounded: `depth` buffers
        buffers.deallocate()
        capacities.deallocate()
        counts.deallocate()
        pthread_cond_destroy(filled)
        pthread_cond_destroy(emptied)
        pthread_mutex_destroy(mutex)
        filled.deallocate()
        emptied.deallocate()
        mutex.deallocate()
    }

    /// Whether blocks go to a thread of their own (false: consumed in place by `submit`).
    var isThreaded: Bool { thread != nil }

    /// Queues a copy of `bytes` for the consumer (waits while `depth` blocks are queued).
    func submit(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        guard thread != nil else {
            consumerType.consume(bytes, by: consumerObject)
            return
        }
        pthread_mutex_lock(mutex)
        while queued == depth { pthread_cond_wait(emptied, mutex) }  // bounded: the worker consumes a block per turn
        let slot = (head + queued) % depth
        pthread_mutex_unlock(mutex)
        // The slot is the producer's until it is queued below: the worker reads only queued slots.
        if bytes.count > capacities[slot] {
            buffers[slot].deallocate()
            capacities[slot] = bytes.count + bytes.count / 2
            buffers[slot] = .allocate(byteCount: capacities[slot], alignment: 64)
        }
        buffers[slot].copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        counts[slot] = bytes.count
        pthread_mutex_lock(mutex)
        queued += 1
        pthread_cond_signal(filled)
        pthread_mutex_unlock(mutex)
    }

    /// Returns once every block submitted so far is consumed.
    func drain() {
        guard thread != nil else { return }
        pthread_mutex_lock(mutex)
        while queued > 0 { pthread_cond_wait(emptied, mutex) }  // bounded: the worker consumes a block per turn
        pthread_mutex_unlock(mutex)
    }

    /// Drains, ends the thread and consumes any later block in place. Called by the sink's `close()`
    /// (and by `deinit`); repeats do nothing.
    func finish() {
        guard let running = thread else { return }
        pthread_mutex_lock(mutex)
        ending = true
        pthread_cond_signal(filled)
        pthread_mutex_unlock(mutex)
        pthread_join(running, nil)
        thread = nil
    }

    /// The worker's loop: consume queued blocks in order until told to end with none left.
    private func run() {
        pthread_mutex_lock(mutex)
        while true {  // bounded: ends when `ending` is set and the queue is empty
            while queued == 0 && !ending { pthread_cond_wait(filled, mutex) }  // bounded: woken by `submit` or `finish`
            if queued == 0 { break }
            let slot = head
            pthread_mutex_unlock(mutex)
            consumerType.consume(UnsafeRawBufferPointer(start: buffers[slot], count: counts[slot]), by: consumerObject)
            pthread_mutex_lock(mutex)
            head = (head + 1) % depth
            queued -= 1
            pthread_cond_broadcast(emptied)
        }
        pthread_mutex_unlock(mutex)
    }

    /// The thread, with every signal blocked (the reactor's thread takes the stop signals; a write
    /// interrupted here would only be retried), or nil if it cannot be made.
    private static func start(_ worker: StreamWorker) -> pthread_t? {
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t? = nil
        #endif
        // Unretained: `finish()` (from `deinit` at the latest) joins the thread before the worker goes.
        let context = Unmanaged.passUnretained(worker).toOpaque()
        let made = pthread_create(&thread, nil, { context in
            Unmanaged<StreamWorker>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.run() }
            return nil
        }, context)
        guard made == 0 else { return nil }
        #if canImport(Glibc)
        return thread
        #else
        return thread!
        #endif
    }
}
