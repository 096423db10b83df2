import CAttachProtocol

/// One process's shared page: one request, one reply, the board time and the readiness flags
/// (uioemu_attach.h, "mailbox"). Only this type touches the page's layout; the futex words go
/// through the C helpers' seq_cst atomics because the child reads and writes them concurrently.
struct Mailbox {
    static let bytes: Int = (MemoryLayout<uioemu_mailbox>.size + 4095) / 4096 * 4096

    let base: UnsafeMutableRawPointer
    var page: UnsafeMutablePointer<uioemu_mailbox> { base.assumingMemoryBound(to: uioemu_mailbox.self) }

    init(base: UnsafeMutableRawPointer) {
        self.base = base
        page.pointee.magic = UIOEMU_ATTACH_MAGIC
        page.pointee.version = UIOEMU_ATTACH_VERSION
    }

    private static let requestOffset = MemoryLayout<uioemu_mailbox>.offset(of: \.request)!
    private static let replyOffset = MemoryLayout<uioemu_mailbox>.offset(of: \.reply)!
    private static let readableOffset = MemoryLayout<uioemu_mailbox>.offset(of: \.readable)!
    // The futex words' offsets, worked out once: every request reads two of them (a key path's
    // offset is looked up at run time, and the emulator's spin reads `request_seq` in a loop).
    private static let requestSequenceOffset = MemoryLayout<uioemu_mailbox>.offset(of: \.request_seq)!
    private static let replySequenceOffset = MemoryLayout<uioemu_mailbox>.offset(of: \.reply_seq)!
    private static let emulatorSleepingOffset = MemoryLayout<uioemu_mailbox>.offset(of: \.emulator_sleeping)!
    private static let childSleepingOffset = MemoryLayout<uioemu_mailbox>.offset(of: \.child_sleeping)!

    private func word(at offset: Int) -> UnsafeMutablePointer<UInt32> {
        (base + offset).assumingMemoryBound(to: UInt32.self)
    }

    // MARK: sequence words

    var requestSequence: UInt32 { uioemu_host_load(requestSequenceWord) }
    var requestSequenceWord: UnsafeMutablePointer<UInt32> { word(at: Mailbox.requestSequenceOffset) }

    func setEmulatorSleeping(_ sleeping: Bool) { uioemu_host_store(word(at: Mailbox.emulatorSleepingOffset), sleeping ? 1 : 0) }

    /// Publishes the reply to request `sequence` (with the CPU the emulator runs on, `cpu`: CPU + 1)
    /// and wakes the child if it sleeps; true when it had to wake it.
    @discardableResult
    func publishReply(_ sequence: UInt32, cpu: Int32) -> Bool {
        page.pointee.emulator_cpu = cpu
        let reply = word(at: Mailbox.replySequenceOffset)
        uioemu_host_store(reply, sequence)
        guard uioemu_host_load(word(at: Mailbox.childSleepingOffset)) != 0 else { return false }
        uioemu_host_futex_wake(reply)
        return true
    }

    /// The CPU (+ 1; 0 not known) the child ran on when it published its last request.
    var childCPU: Int32 { page.pointee.child_cpu }

    func setBoardTime(_ nanoseconds: Int64) { page.pointee.board_time_ns = nanoseconds }
    func setClockReadCost(_ nanoseconds: Int64) { page.pointee.clock_read_cost_ns = nanoseconds }

    func setReadable(_ handle: Int, _ readable: Bool) {
        guard handle >= 0 && handle < Int(UIOEMU_MAX_HANDLES) else { return }
        (base + Mailbox.readableOffset).storeBytes(of: readable ? 1 : 0, toByteOffset: handle, as: UInt8.self)
    }

    // MARK: request

    var operation: UInt32 { page.pointee.request.op }
    var debtNanoseconds: Int64 { page.pointee.request.debt_ns }

    private static let argumentsOffset = requestOffset + MemoryLayout<uioemu_request>.offset(of: \.a)!

    func argument(_ i: Int) -> Int64 {
        (base + Mailbox.argumentsOffset).load(fromByteOffset: i * 8, as: Int64.self)
    }

    /// The request's payload (at most UIOEMU_PAYLOAD_BYTES, whatever `length` claims).
    var payload: [UInt8] {
        let count = min(Int(page.pointee.request.length), Int(UIOEMU_PAYLOAD_BYTES))
        let start = base + Mailbox.requestOffset + MemoryLayout<uioemu_request>.offset(of: \.payload)!
        return Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// The payload up to its first NUL, as text (a path).
    var payloadText: String {
        String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
    }

    // MARK: reply

    struct Reply {
        var result: Int64 = 0
        var values: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0)
        var payload: [UInt8] = []
        var descriptorFollows = false

        static func error(_ errno: Int32) -> Reply { Reply(result: -Int64(errno)) }
    }

    func write(_ reply: Reply, protectionChanges: [uioemu_protection_change]) {
        page.pointee.reply.result = reply.result
        page.pointee.reply.r = reply.values
        page.pointee.reply.fd_follows = reply.descriptorFollows ? 1 : 0
        let count = min(reply.payload.count, Int(UIOEMU_PAYLOAD_BYTES))
        page.pointee.reply.length = UInt32(count)
        if count > 0 {
            let payloadStart = base + Mailbox.replyPayloadOffset
            reply.payload.withUnsafeBytes { payloadStart.copyMemory(from: $0.baseAddress!, byteCount: count) }
        }
        let changes = protectionChanges.prefix(Int(UIOEMU_MAX_PROTECTION_CHANGES))
        page.pointee.reply.protection_change_count = UInt32(changes.count)
        guard !changes.isEmpty else { return }
        let changesStart = (base + Mailbox.replyChangesOffset).assumingMemoryBound(to: uioemu_protection_change.self)
        for (i, change) in changes.enumerated() { changesStart[i] = change }  // bounded: UIOEMU_MAX_PROTECTION_CHANGES
    }

    private static let replyPayloadOffset = replyOffset + MemoryLayout<uioemu_reply>.offset(of: \.payload)!
    private static let replyChangesOffset = replyOffset + MemoryLayout<uioemu_reply>.offset(of: \.protection_changes)!
}
