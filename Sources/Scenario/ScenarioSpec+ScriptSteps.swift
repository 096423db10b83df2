import Board
import Devices
import SystemPackage

// The script steps' values: everything the datasheet (PG021) and the kernel's UIO driver promise,
// poked and checked one step at a time (`mode: script`).

extension ScenarioSpec {
    /// A 32-bit register of the scripted AXI DMA by its offset in the device window: one of PG021's
    /// registers, or a reserved offset (reads 0, writes ignored: what the model does with them).
    public struct RegisterTarget: Sendable, Hashable {
        public let offset: UInt32
        /// The register at `offset`, or nil for a reserved offset.
        public let description: RegisterDescription?
        /// The byte order the access assumes (`byte-order:`): little, as `in_le32`/`out_le32` do on
        /// PowerPC for the little-endian AXI IP; big is the native-access mistake.
        public var byteOrder: Endianness = .little

        public init(offset: UInt32, description: RegisterDescription?) {
            self.offset = offset
            self.description = description
        }

        /// `S2MM_DMACR`, or `offset 0x8` for a reserved offset.
        public var name: String { description?.name ?? "offset 0x" + String(offset, radix: 16) }

        /// Field by field (`RS=1 Reset=0 ...`) for a register; the value alone for a reserved offset.
        public func decode(_ value: UInt32) -> String { description?.decode(value) ?? "reserved" }
    }

    /// `read-memory`: `bytes` bytes of RAM at `address`, as the CPU would see them after the sync,
    /// compared with a stream pattern or with given bytes.
    public struct MemoryCheck: Sendable {
        public enum Expected: Sendable {
            /// The pattern from `streamOffset` (nil: the stream offset of the packet the scripted
            /// DMA's S2MM channel completed last).
            case pattern(StreamPattern, streamOffset: UInt64?)
            case bytes([UInt8])
        }

        public let address: UInt64
        public let bytes: Int
        public let expected: Expected
    }

    /// What a UIO step expects: the count a read returns, or the errno it fails with.
    public enum UIOOutcome: Sendable, Equatable, CustomStringConvertible {
        case count(Int32)
        case error(Errno)

        public var description: String {
            switch self {
            case let .count(n): "count \(n)"
            case let .error(errno): UIOOutcome.name(of: errno)
            }
        }

        /// The errnos a UIO file answers with (drivers/uio/uio.c), by name.
        public static let errnos: [(name: String, errno: Errno)] = [
            ("EAGAIN", .resourceTemporarilyUnavailable), ("EINVAL", .invalidArgument), ("EIO", .ioError),
            ("EDEADLK", .deadlock), ("EBADF", .badFileDescriptor),
        ]

        static func name(of errno: Errno) -> String { errnos.first { $0.errno == errno }?.name ?? "\(errno)" }
    }

    /// `uio-read`: a read of `bytes` bytes from open file `file` of the script's UIO node.
    public struct UIORead: Sendable {
        public let file: Int
        public let bytes: Int
        /// O_NONBLOCK for this read: EAGAIN instead of waiting for the next interrupt.
        public let nonBlocking: Bool
        public let expected: UIOOutcome?
    }

    /// `uio-write`: `value` (1 enables the interrupt, 0 disables it) written as `bytes` bytes to file
    /// `file` of the script's UIO node.
    public struct UIOWrite: Sendable {
        public let file: Int
        public let value: UInt32
        public let bytes: Int
        /// The errno the write must fail with; nil: it must succeed.
        public let expectedError: Errno?
        /// The same write this many times in a row (`repeat:`, 1 to 100000): a driver that keeps
        /// re-enabling without clearing the cause, for the storm detection.
        public let times: Int
    }
}
