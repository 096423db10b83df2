import CAttachProtocol

/// One packet on the control socket (uioemu_attach.h, "control socket messages"), decoded and
/// checked. The decoder takes any bytes a child may send: a malformed or truncated packet is an
/// error naming what was wrong, never a trap (it is one of the fuzzed parsers).
public enum ControlMessage: Equatable, Sendable {
    public struct Hello: Equatable, Sendable {
        public var pid: Int32
        public var parentPid: Int32
        public var threadID: Int32
        public var hostIsX86_64: Bool
        /// The process name (`comm`), as the child reported it.
        public var name: String

        public init(pid: Int32, parentPid: Int32, threadID: Int32, hostIsX86_64: Bool, name: String) {
            self.pid = pid
            self.parentPid = parentPid
            self.threadID = threadID
            self.hostIsX86_64 = hostIsX86_64
            self.name = name
        }
    }

    case hello(Hello)
    case welcome(flags: UInt32, mailboxBytes: UInt32, poolPhysicalBase: UInt64, poolBytes: UInt64, pageBytes: UInt64)
    case descriptor(handle: UInt32, purpose: UInt32)
    case refused(String)

    static let headerBytes = MemoryLayout<uioemu_msg_header>.size

    public struct DecodeError: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Decodes one packet.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> ControlMessage {
        guard bytes.count >= headerBytes else {
            throw DecodeError(message: "a control message of \(bytes.count) bytes is shorter than its \(headerBytes)-byte header")
        }
        let magic = load(UInt32.self, bytes, 0)
        guard magic == UIOEMU_ATTACH_MAGIC else {
            throw DecodeError(message: "bad magic 0x\(String(magic, radix: 16)) (expected 0x\(String(UIOEMU_ATTACH_MAGIC, radix: 16)))")
        }
        let version = load(UInt16.self, bytes, 4)
        guard UInt32(version) == UIOEMU_ATTACH_VERSION else {
            throw DecodeError(message: "protocol version \(version), this uioemu speaks \(UIOEMU_ATTACH_VERSION): the preload library and uioemu come from different builds")
        }
        let type = load(UInt16.self, bytes, 6)
        let length = Int(load(UInt32.self, bytes, 8))
        guard length == bytes.count - headerBytes else {
            throw DecodeError(message: "message type \(type) says \(length) bytes of body, the packet has \(bytes.count - headerBytes)")
        }
        let body = Array(bytes[headerBytes...])
        switch UInt32(type) {
        case UIOEMU_MSG_HELLO.rawValue:
            try expect(body, MemoryLayout<uioemu_hello>.size, "HELLO")
            let nameBytes = body[16..<32].prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            return .hello(Hello(pid: load(Int32.self, body, 0), parentPid: load(Int32.self, body, 4), threadID: load(Int32.self, body, 8),
                                hostIsX86_64: load(UInt32.self, body, 12) == 1, name: name))
        case UIOEMU_MSG_WELCOME.rawValue:
            try expect(body, MemoryLayout<uioemu_welcome>.size, "WELCOME")
            return .welcome(flags: load(UInt32.self, body, 0), mailboxBytes: load(UInt32.self, body, 4),
                            poolPhysicalBase: load(UInt64.self, body, 8), poolBytes: load(UInt64.self, body, 16),
                            pageBytes: load(UInt64.self, body, 24))
        case UIOEMU_MSG_FD.rawValue:
            try expect(body, MemoryLayout<uioemu_fd_message>.size, "FD")
            return .descriptor(handle: load(UInt32.self, body, 0), purpose: load(UInt32.self, body, 4))
        case UIOEMU_MSG_REFUSED.rawValue:
            return .refused(String(decoding: body.prefix { $0 != 0 }, as: UTF8.self))
        default:
            throw DecodeError(message: "unknown message type \(type)")
        }
    }

    /// The packet for this message.
    public func encoded() -> [UInt8] {
        var body: [UInt8] = []
        let type: UInt32
        switch self {
        case let .hello(h):
            type = UIOEMU_MSG_HELLO.rawValue
            append(h.pid, &body); append(h.parentPid, &body); append(h.threadID, &body)
            append(UInt32(h.hostIsX86_64 ? 1 : 0), &body)
            var name = Array(h.name.utf8.prefix(15))
            name += [UInt8](repeating: 0, count: 16 - name.count)
            body += name
        case let .welcome(flags, mailboxBytes, poolPhysicalBase, poolBytes, pageBytes):
            type = UIOEMU_MSG_WELCOME.rawValue
            append(flags, &body); append(mailboxBytes, &body); append(poolPhysicalBase, &body)
            append(poolBytes, &body); append(pageBytes, &body)
        case let .descriptor(handle, purpose):
            type = UIOEMU_MSG_FD.rawValue
            append(handle, &body); append(purpose, &body)
        case let .refused(reason):
            type = UIOEMU_MSG_REFUSED.rawValue
            body = Array(reason.utf8) + [0]
        }
        var packet: [UInt8] = []
        append(UIOEMU_ATTACH_MAGIC, &packet)
        append(UInt16(UIOEMU_ATTACH_VERSION), &packet)
        append(UInt16(type), &packet)
        append(UInt32(body.count), &packet)
        append(UInt32(0), &packet)
        return packet + body
    }

    private static func expect(_ body: [UInt8], _ size: Int, _ name: String) throws(DecodeError) {
        guard body.count == size else {
            throw DecodeError(message: "\(name) needs a \(size)-byte body, the packet has \(body.count)")
        }
    }

    private static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    private func append<T: FixedWidthInteger>(_ value: T, _ bytes: inout [UInt8]) {
        withUnsafeBytes(of: value) { bytes += $0 }
    }
}
