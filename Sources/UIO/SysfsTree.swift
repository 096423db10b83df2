import Board

/// The sysfs files a real board would show for its UIO devices and u-dma-buf buffers, as relative
/// paths (`class/uio/uio0/name`, ...) and contents. The Linux backend reads the same tree from
/// `/sys`, so what is written here must match the kernel's formats exactly:
/// - drivers/uio/uio.c: `name`, `version`, `event` ("%s\n", "%s\n", "%u\n"); a map's `name` ("%s\n"),
///   `addr` and `size` ("%pa\n": 0x and the full width of phys_addr_t), `offset` ("0x%llx\n").
/// - u-dma-buf: `phys_addr` ("%pad\n"), `size` ("%zu\n"), `sync_mode`, `sync_direction`,
///   `sync_owner`, `sync_for_cpu`, `sync_for_device`, `dma_coherent` ("%d\n"), `sync_offset`
///   ("0x%llx\n"), `sync_size` ("%zu\n").
public enum SysfsTree {
    public static func files(for system: UIOSystem) -> [(path: String, contents: String)] {
        // phys_addr_t and dma_addr_t are 64-bit on kernels for boards with more than 32 address bits
        // (CONFIG_PHYS_64BIT: e500 36-bit maps, 44x).
        let digits = system.board.profile.cpu.physicalAddressBits > 32 ? 16 : 8
        func pa(_ value: UInt64) -> String {
            let hex = String(value, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, digits - hex.count)) + hex + "\n"
        }
        var files: [(String, String)] = []
        for device in system.devices {
            let dir = "class/uio/uio\(device.index)"
            files.append(("\(dir)/name", device.name + "\n"))
            files.append(("\(dir)/version", device.version + "\n"))
            files.append(("\(dir)/event", "\(device.eventCount)\n"))
            for map in device.maps {
                let mapDir = "\(dir)/maps/map\(map.index)"
                files.append(("\(mapDir)/name", map.name + "\n"))
                files.append(("\(mapDir)/addr", pa(map.address.rawValue)))
                files.append(("\(mapDir)/size", pa(map.size)))
                files.append(("\(mapDir)/offset", "0x" + String(map.offset, radix: 16) + "\n"))
            }
        }
        for buffer in system.heap.liveBuffers.sorted(by: { $0.index < $1.index }) {
            let dir = "class/u-dma-buf/\(buffer.name)"
            files.append(("\(dir)/phys_addr", pa(buffer.physicalAddress.rawValue)))
            files.append(("\(dir)/size", "\(buffer.size)\n"))
            // u-dma-buf's default sync_mode is 1 (SYNC_MODE_NONCACHED when opened with O_SYNC).
            files.append(("\(dir)/sync_mode", "1\n"))
            files.append(("\(dir)/sync_offset", "0x0\n"))
            files.append(("\(dir)/sync_size", "\(buffer.size)\n"))
            files.append(("\(dir)/sync_direction", "0\n"))
            files.append(("\(dir)/sync_owner", buffer.owner == .device ? "1\n" : "0\n"))
            files.append(("\(dir)/sync_for_cpu", "0\n"))
            files.append(("\(dir)/sync_for_device", "0\n"))
            files.append(("\(dir)/dma_coherent", buffer.isCoherent ? "1\n" : "0\n"))
        }
        return files.sorted { $0.0 < $1.0 }.map { (path: $0.0, contents: $0.1) }
    }
}
