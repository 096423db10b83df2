import Board

/// One memory map of a UIO device, as `/sys/class/uio/uioN/maps/mapM/{name,addr,size,offset}` shows it.
public struct UIOMap: Sendable {
    /// PowerPC e500 and 440 kernels use 4 KiB pages; map N is selected by mmap offset N × this.
    public static let pageSize: UInt64 = 4096

    public let index: Int
    public let name: String
    /// The profile region (device window, RAM or pool) the map comes from.
    public let region: String
    public let address: PhysicalAddress
    public let size: UInt64
    /// Where the map starts within its first page (`offs` in struct uio_mem).
    public var offset: UInt64 { address.rawValue & (UIOMap.pageSize - 1) }

    /// How many bytes an mmap of this map may cover: whole pages from the page holding `address`
    /// (uio_mmap_physical refuses more pages than `offs + size` spans).
    public var mappableBytes: UInt64 {
        (offset + size + UIOMap.pageSize - 1) / UIOMap.pageSize * UIOMap.pageSize
    }

    init(index: Int, spec: UIONodeSpec.Map) {
        self.index = index
        name = spec.name
        region = spec.region
        address = spec.range.base
        size = spec.range.size
    }
}
