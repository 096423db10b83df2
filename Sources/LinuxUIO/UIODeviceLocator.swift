import SystemPackage

/// One memory map of a UIO device as `/sys/class/uio/uioX/maps/mapN/{name,addr,size,offset}` shows
/// it (drivers/uio/uio.c: `name` "%s\n", `addr` and `size` "%pa\n", `offset` "0x%llx\n").
public struct LinuxUIOMap: Equatable, Sendable {
    /// N in `mapN`: the map is selected by mmap offset N × page size (uio_mmap).
    public let index: Int
    public let name: String
    /// The physical address of the map (`addr`).
    public let address: UInt64
    public let size: UInt64
    /// Where the map starts within its first page (`offs` of struct uio_mem).
    public let offset: UInt64

    public init(index: Int, name: String, address: UInt64, size: UInt64, offset: UInt64) {
        self.index = index
        self.name = name
        self.address = address
        self.size = size
        self.offset = offset
    }

    /// What to pass to mmap for this map on a system with `pageSize`-byte pages, checked before any
    /// mmap: the file offset (N × page size, how uio_mmap picks the map) and the length (whole pages
    /// covering `offset + size`, as uio_pdrv_genirq rounds a map). A size of 0 is no map at all
    /// (uio.c stops listing maps at the first zero size); an offset of a page or more is not an offset
    /// within the first page; sizes that overflow are refused. `path` locates the error.
    func mmapRange(pageSize: Int, path: FilePath) throws(LinuxUIOError) -> (fileOffset: Int64, length: Int) {
        let page = UInt64(pageSize)
        guard pageSize > 0, page & (page - 1) == 0 else {
            throw .invalidMap(path: path.string, reason: "expected a power-of-two page size from sysconf(_SC_PAGESIZE), found \(pageSize)")
        }
        guard size > 0 else {
            throw .invalidMap(path: path.appending("size").string, reason: "expected a positive size, found 0 (the kernel lists no map of size 0)")
        }
        guard offset < page else {
            throw .invalidMap(path: path.appending("offset").string,
                              reason: "expected an offset within the first page (below 0x\(String(page, radix: 16))), found 0x\(String(offset, radix: 16))")
        }
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow, end <= UInt64(Int.max) - page, UInt64(index) < UInt64(Int64.max) / page else {
            throw .invalidMap(path: path.appending("size").string, reason: "expected a size that fits the address space, found 0x\(String(size, radix: 16))")
        }
        let length = (end + page - 1) / page * page
        return (Int64(index) * Int64(page), Int(length))
    }
}

/// A UIO device found in sysfs: its `uioX` directory, its device node and its maps.
public struct LinuxUIODevice {
    public let name: String
    /// X in `uioX`.
    public let number: Int
    /// `SYSFS/class/uio/uioX`.
    public let sysfsPath: FilePath
    /// `DEV/uioX`.
    public let devicePath: FilePath
    public let maps: [LinuxUIOMap]
    let calls: SystemCalls

    /// mmaps map `index` of the device node read/write and shared, after checking the map's values
    /// against the page size; when the node is a regular file (a stand-in in tests) it must be long
    /// enough to hold the map. The descriptor is closed once mapped (the mapping outlives it).
    public func mapRegisters(map index: Int = 0) throws(LinuxUIOError) -> LinuxRegisterMapping {
        guard let map = maps.first(where: { $0.index == index }) else {
            throw .noSuchMap(path: sysfsPath.appending("maps").string, index: index, available: maps.map(\.index))
        }
        let mapPath = sysfsPath.appending("maps").appending("map\(index)")
        let pageSize = try calls.pageSize().get(orThrow: "sysconf(_SC_PAGESIZE)", mapPath)
        let range = try map.mmapRange(pageSize: pageSize, path: mapPath)
        let fd = try calls.open(devicePath, .readWrite, [.closeOnExec]).get(orThrow: "open", devicePath)
        defer { _ = calls.close(fd) }
        let status = try calls.fileStatus(fd).get(orThrow: "fstat", devicePath)
        if status.isRegularFile, status.byteCount < range.fileOffset + Int64(range.length) {
            throw .shortFile(path: devicePath.string, fileBytes: status.byteCount, neededBytes: range.fileOffset + Int64(range.length),
                             purpose: "map\(index) (\(range.length) bytes at mmap offset \(range.fileOffset) = \(index) × page size \(pageSize))")
        }
        let base = try calls.mmap(fd, range.length, range.fileOffset).get(orThrow: "mmap", devicePath)
        return LinuxRegisterMapping(map: map, devicePath: devicePath, base: base, byteCount: range.length, calls: calls)
    }

    /// Opens the device node for its interrupt: O_RDWR | O_NONBLOCK | O_CLOEXEC, so a read with no
    /// new interrupt fails with EAGAIN instead of blocking the reactor. This is a second open of
    /// the node besides the one `mapRegisters` uses; each open file of a UIO device keeps its own
    /// last-seen event count (uio_open), so this descriptor sees every interrupt after it is opened.
    public func openInterrupts() throws(LinuxUIOError) -> UIOInterruptSource {
        let fd = try calls.open(devicePath, .readWrite, [.nonBlocking, .closeOnExec]).get(orThrow: "open", devicePath)
        return UIOInterruptSource(adopting: fd, path: devicePath, calls: calls)
    }
}

/// Finds a UIO device by the name its driver gave it (`/sys/class/uio/uioX/name`, the device-tree
/// node name for uio_pdrv_genirq) under a configurable sysfs root, and its node under a dev root.
public struct UIODeviceLocator {
    public let sysfsRoot: FilePath
    public let devRoot: FilePath
    let calls: SystemCalls

    public init(sysfsRoot: FilePath = "/sys", devRoot: FilePath = "/dev") {
        self.init(sysfsRoot: sysfsRoot, devRoot: devRoot, calls: .live)
    }

    init(sysfsRoot: FilePath, devRoot: FilePath, calls: SystemCalls) {
        self.sysfsRoot = sysfsRoot
        self.devRoot = devRoot
        self.calls = calls
    }

    /// The device whose `name` is `name`, with its maps parsed. Devices are tried in number order;
    /// the first match wins (names are not unique in the kernel, but a board's device tree gives
    /// each UIO node its own).
    public func locate(name: String) throws(LinuxUIOError) -> LinuxUIODevice {
        let classDirectory = sysfsRoot.appending("class").appending("uio")
        let entries = try calls.listDirectory(classDirectory).get(orThrow: "opendir", classDirectory)
        let devices = entries.compactMap { entry -> (Int, String)? in
            guard entry.hasPrefix("uio"), let number = Int(entry.dropFirst(3)), number >= 0 else { return nil }
            return (number, entry)
        }.sorted { $0.0 < $1.0 }
        var seen: [String] = []
        for (number, entry) in devices {
            let directory = classDirectory.appending(entry)
            let namePath = directory.appending("name")
            let deviceName = try SysfsFormat.name(try calls.readAttribute(namePath), path: namePath)
            guard deviceName == name else {
                seen.append("\(entry) '\(SysfsFormat.shown(deviceName))'")
                continue
            }
            return LinuxUIODevice(name: name, number: number, sysfsPath: directory, devicePath: devRoot.appending(entry),
                                 maps: try readMaps(directory.appending("maps")), calls: calls)
        }
        throw .deviceNotFound(name: name, directory: classDirectory.string, available: seen)
    }

    /// `maps/mapN` for every N present; a device without a `maps` directory has no maps.
    private func readMaps(_ directory: FilePath) throws(LinuxUIOError) -> [LinuxUIOMap] {
        let entries: [String]
        switch calls.listDirectory(directory) {
        case let .success(names): entries = names
        case .failure(.noSuchFileOrDirectory): return []
        case let .failure(errno): throw .systemCall("opendir", path: directory.string, errno)
        }
        let indices = entries.compactMap { entry -> Int? in
            guard entry.hasPrefix("map"), let index = Int(entry.dropFirst(3)), index >= 0 else { return nil }
            return index
        }.sorted()
        var maps: [LinuxUIOMap] = []
        for index in indices {
            let map = directory.appending("map\(index)")
            func attribute(_ name: String) throws(LinuxUIOError) -> (String, FilePath) {
                let path = map.appending(name)
                return (try calls.readAttribute(path), path)
            }
            let (nameText, namePath) = try attribute("name")
            let (addrText, addrPath) = try attribute("addr")
            let (sizeText, sizePath) = try attribute("size")
            let (offsetText, offsetPath) = try attribute("offset")
            maps.append(LinuxUIOMap(
                index: index,
                name: try SysfsFormat.name(nameText, path: namePath, allowEmpty: true),
                address: try SysfsFormat.hex(addrText, path: addrPath, expected: "a hex address like 0x00000000fffb0000"),
                size: try SysfsFormat.hex(sizeText, path: sizePath, expected: "a hex size like 0x10000"),
                offset: try SysfsFormat.hex(offsetText, path: offsetPath, expected: "a hex offset like 0x0")))
        }
        return maps
    }
}
