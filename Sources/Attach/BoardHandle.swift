import Board
import UIO

/// Something an attached process has open on the board, by the handle number the emulator gave it.
enum BoardHandle {
    /// `/dev/uioN`: the emulated file (opened non-blocking; a blocking read waits here).
    case uio(UIOFile)
    /// `/dev/NAME` of a u-dma-buf.
    case buffer(DMABuffer)
    case devmem
    /// A live sysfs attribute; `writer` is the read end of the pipe the child writes into, if it
    /// opened the attribute for writing.
    case attribute(BufferAttribute, writer: Int32?)
    case eventCount(EmulatedUIODevice)
}

/// What an mmap of a board file became: registers reached through a UIO map or the bus, and what
/// one access costs in board time.
struct RegisterTarget {
    enum Path {
        case uio(EmulatedRegisterMapping)
        /// `/dev/mem`: accesses go to the bus at `physicalBase + offset`.
        case bus
    }

    let path: Path
    let physicalBase: PhysicalAddress
    /// Bytes the mapping covers (an access beyond them is not the program's register).
    let length: UInt64
    let accessTimeNanoseconds: Int64
}

/// A u-dma-buf attribute under `/sys/class/u-dma-buf/NAME/`, and the sync state behind them
/// (u-dma-buf: `sync_offset`, `sync_size`, `sync_direction` select what `sync_for_cpu` and
/// `sync_for_device` act on).
struct BufferAttribute {
    let buffer: DMABuffer
    let name: String

    static let writable: Set<String> = ["sync_mode", "sync_offset", "sync_size", "sync_direction", "sync_for_cpu", "sync_for_device"]
    static let readable: Set<String> = writable.union(["phys_addr", "size", "sync_owner", "dma_coherent"])
}

/// The sync settings of one buffer, as its attributes were last written.
struct BufferSyncSettings {
    var mode = 1
    var offset: UInt64 = 0
    var size: UInt64
    /// 0 bidirectional, 1 to device, 2 from device (enum dma_data_direction).
    var direction = 0
}
