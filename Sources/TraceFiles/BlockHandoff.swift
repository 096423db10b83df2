#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What is done with each block handed off (hash it, write it), on the handoff's thread.
protocol BlockConsumer: AnyObject {
    func consume(_ block: UnsafeRawBufferPointer)
    /// `consume` on the consumer at `object` (an unretained `Self`), called through the type: a call
    /// through `any BlockConsumer` may retain and release the consumer per block. Only the default
    /// implementation is meant.
    static func consume(_ block: UnsafeRawBufferPointer, by object: UnsafeRawPointer)
}

extension BlockConsumer {
    static func consume(_ block: UnsafeRawBufferPointer, by object: UnsafeRawPointer) {
        Unmanaged<Self>.fromOpaque(object)._withUnsafeGuaranteedRef { $0.consume(block) }
    }
}

/// Blocks copied on the reactor's thread and consumed, in order, on one thread of their own, so that
/// a stream sink's work on finished trace bytes (hashing the records, writing the JSON lines to the
/// file) runs beside the emulation instead of inside it. The emulation, the tracer and its encoders
/// stay on the one reactor thread; a stream sink copies each block it is given into the next slot
/// (`submit(copyOf:)`: the tracer reuses its own block) and goes on. With every one of the `depth`
/// slots queued, `submit` waits (the reactor never runs more than `depth` blocks ahead). `drain()`
/// returns once every queued block is consumed: the consumer's state may be read after it.
/// `finish()` drains and ends the thread. One consumer thread, blocks in the order queued: what comes
/// out is what consuming each block in place gave. If the thread cannot be made, `submit` consumes
/// the block in place.
///
/// Nothing is allocated per block once the slots are there (a slot asked for more bytes than it has
/// grows once), and nothing is reference counted per block (the callgrind gate watches the traced
/// path): the consumer is called through its type, the slots are raw memory.
final class BlockHandoff {
    /// Keeps the consumer alive; each block goes to it through `consumerType` and `consumerObject`.
    private let consumer: any BlockConsumer
    private let consumerObject: UnsafeRawPointer
    private let consumerType: any BlockConsumer.Type
    private let depth: Int
    // Raw memory: a pthread mutex or condition must not move once in use.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Signalled when a block is queued or the thread should end.
    private let filled: UnsafeMutablePointer<pthread_cond_t>
    /// Signalled when a block is consumed (a free slot for `submit`, progress for `drain`).
    private let emptied: UnsafeMutablePointer<pthread_cond_t>
    private let slots: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private let capacities: UnsafeMutablePointer<Int>
    private let counts: UnsafeMutablePointer<Int>
    // Under `mutex`: the oldest queued slot, how many are queued, whether the thread should end.
    @exclusivity(unchecked) private var head = 0
    @exclusivity(unchecked) private var queued = 0
    @exclusivity(unchecked) private var ending = false
    /// The thread; nil when consuming in place (no thread could be made, or finished).
    @exclusivity(unchecked) private var thread: pthread_t?

    /// `depth` slots of `slotBytes` bytes each (a larger block grows its slot once).
    init(consumer: any BlockConsumer, slotBytes: Int, depth: Int = 4) {
        precondition(depth >= 1 && slotBytes > 0)
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
        slots = .allocate(capacity: depth)
        capacities = .allocate(capacity: depth)
        counts = .allocate(capacity: depth)
        for k in 0..<depth {  // bounded: `depth` slots
            capacities[k] = slotBytes
            slots[k] = .allocate(byteCount: slotBytes, alignment: 64)
            counts[k] = 0
        }
        thread = Self.start(self)
    }

    deinit {
        finish()
        for k in 0..<depth { slots[k].deallocate() }  // bounded: `depth` slots
        slots.deallocate()
        capacities.deallocate()
        counts.deallocate()
        pthread_cond_destroy(filled)
        pthread_cond_destroy(emptied)
        pthread_mutex_destroy(mutex)
        filled.deallocate()
        emptied.deallocate()
        mutex.deallocate()
    }

    /// Queues a copy of `bytes` for the consumer (consumes them in place when there is no thread).
    /// Waits while every slot is queued.
    func submit(copyOf bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard thread != nil else {
            consumerType.consume(bytes, by: consumerObject)
            return
        }
        pthread_mutex_lock(mutex)
        while queued == depth { pthread_cond_wait(emptied, mutex) }  // bounded: the thread consumes a block per turn
        let slot = (head + queued) % depth
        pthread_mutex_unlock(mutex)
        // The slot is the producer's until queued: the thread reads only queued slots.
        if bytes.count > capacities[slot] {
            slots[slot].deallocate()
            capacities[slot] = bytes.count + bytes.count / 2
            slots[slot] = .allocate(byteCount: capacities[slot], alignment: 64)
        }
        slots[slot].copyMemory(from: base, byteCount: bytes.count)
        counts[slot] = bytes.count
        pthread_mutex_lock(mutex)
        queued += 1
        pthread_cond_signal(filled)
        pthread_mutex_unlock(mutex)
    }

    /// Returns once every block queued so far is consumed.
    func drain() {
        guard thread != nil else { return }
        pthread_mutex_lock(mutex)
        while queued > 0 { pthread_cond_wait(emptied, mutex) }  // bounded: the thread consumes a block per turn
        pthread_mutex_unlock(mutex)
    }

    /// Drains and ends the thread; later blocks are consumed in place. Repeats do nothing.
    func finish() {
        guard let running = thread else { return }
        pthread_mutex_lock(mutex)
        ending = true
        pthread_cond_signal(filled)
        pthread_mutex_unlock(mutex)
        pthread_join(running, nil)
        thread = nil
    }

    /// The thread's loop: consume queued blocks in order until told to end with none left.
    private func run() {
        pthread_mutex_lock(mutex)
        while true {  // bounded: ends when `ending` is set and nothing is queued
            while queued == 0 && !ending { pthread_cond_wait(filled, mutex) }  // bounded: woken by `submit` or `finish`
            if queued == 0 { break }
            let slot = head
            pthread_mutex_unlock(mutex)
            consumerType.consume(UnsafeRawBufferPointer(start: slots[slot], count: counts[slot]), by: consumerObject)
            pthread_mutex_lock(mutex)
            head = (head + 1) % depth
            queued -= 1
            pthread_cond_broadcast(emptied)
        }
        pthread_mutex_unlock(mutex)
    }

    /// The thread, with every signal blocked (the reactor's thread takes the stop signals), or nil
    /// if it cannot be made.
    private static func start(_ handoff: BlockHandoff) -> pthread_t? {
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t? = nil
        #endif
        // Unretained: `finish()` (from `deinit` at the latest) joins the thread before the handoff goes.
        let context = Unmanaged.passUnretained(handoff).toOpaque()
        let made = pthread_create(&thread, nil, { context in
            Unmanaged<BlockHandoff>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.run() }
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
