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

    private func word(_ path: KeyPath<uioemu_mailbox, UInt32>) -> UnsafeMutablePointer<UInt32> {
        (base + MemoryLayout<uioemu_mailbox>.offset(of: path)!).assumingMemoryBound(to: UInt32.self)
    }

    // MARK: sequence words

    var requestSequence: UInt32 { uioemu_host_load(word(\.request_seq)) }
    var requestSequenceWord: UnsafeMutablePointer<UInt32> { word(\.request_seq) }

    func setEmulatorSleeping(_ sleeping: Bool) { uioemu_host_store(word(\.emulator_sleeping), sleeping ? 1 : 0) }

    /// Publishes the reply to request `sequence` and wakes the child if it sleeps.
    func publishReply(_ sequence: UInt32) {
        uioemu_host_store(word(\.reply_seq), sequence)
        if uioemu_host_load(word(\.child_sleeping)) != 0 { uioemu_host_futex_wake(word(\.reply_seq)) }
    }

    func setBoardTime(_ nanoseconds: Int64) { page.pointee.board_time_ns = nanoseconds }
    func setClockReadCost(_ nanoseconds: Int64) { page.pointee.clock_read_cost_ns = nanoseconds }

    func setReadable(_ handle: Int, _ readable: Bool) {
        guard handle >= 0 && handle < Int(UIOEMU_MAX_HANDLES) else { return }
        (base + Mailbox.readableOffset).storeBytes(of: readable ? 1 : 0, toByteOffset: handle, as: UInt8.self)
    }

    // MARK: request

    var operation: UInt32 { page.pointee.request.op }
    var debtNanoseconds: Int64 { page.pointee.request.debt_ns }

    func argument(_ i: Int) -> Int64 {
        (base + Mailbox.requestOffset + MemoryLayout<uioemu_request>.offset(of: \.a)!)
            .load(fromByteOffset: i * 8, as: Int64.self)
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
        let payloadStart = base + Mailbox.replyOffset + MemoryLayout<uioemu_reply>.offset(of: \.payload)!
        if count > 0 { reply.payload.withUnsafeBytes { payloadStart.copyMemory(from: $0.baseAddress!, byteCount: count) } }
        let changes = protectionChanges.prefix(Int(UIOEMU_MAX_PROTECTION_CHANGES))
        page.pointee.reply.protection_change_count = UInt32(changes.count)
        let changesStart = (base + Mailbox.replyOffset + MemoryLayout<uioemu_reply>.offset(of: \.protection_changes)!)
            .assumingMemoryBound(to: uioemu_protection_change.self)
        for (i, change) in changes.enumerated() { changesStart[i] = change }
    }
}
