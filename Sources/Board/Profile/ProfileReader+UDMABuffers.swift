/// The `u-dma-buf` list: one entry per u-dma-buf node of the board's device tree (what
/// `uioemu board import` writes).
extension ProfileReader {
    static let udmaBufferKeys = ["name", "size", "sync-mode", "dma-coherent"]

    /// Each entry `{ name, size, sync-mode, dma-coherent }`: a name, a size in whole pages, sync-mode
    /// 1 to 3 (u-dma-buf's, default 1) and a bool (default false); names once each; all of them
    /// together fit in the DMA pool (`pool` is nil when that section was broken).
    func readUDMABuffers(_ value: YAMLValue, pool: BoardProfile.DMAPool?) -> [UDMABufferSpec]? {
        guard let items = value.list("a list of u-dma-buf devices", &diagnostics) else { return nil }
        var names: Set<String> = []
        var total: UInt64 = 0
        let buffers = items.compactMap { item -> UDMABufferSpec? in
            guard let mapping = item.mapping("a u-dma-buf device", keys: Self.udmaBufferKeys, &diagnostics) else { return nil }
            let name = mapping.required("name", expecting: "the device name (/dev/NAME)", &diagnostics)?.name(&diagnostics)
            if let name, !names.insert(name).inserted {
                diagnostics.error("duplicate u-dma-buf device '\(name)': expected each name once", at: mapping.keyLocation("name")!)
            }
            let sizeValue = mapping.required("size", expecting: YAMLValue.sizeExpectation, &diagnostics)
            let size = sizeValue?.size(&diagnostics)
            if let size, let sizeValue {
                if size % Self.windowAlignment != 0 {
                    diagnostics.error("u-dma-buf size \(size) is not a whole number of 4 KiB pages (buffers are mmap'ed in pages)", at: sizeValue.location)
                }
                total += size
                if let pool, total > pool.range.size {
                    diagnostics.error("the u-dma-buf devices need \(total) bytes, more than the DMA pool's \(pool.range.size)", at: sizeValue.location)
                }
            }
            let syncMode = mapping["sync-mode"].map { $0.integer("a sync-mode (1 uncached, 2 write-combine, 3 DMA-coherent)", in: 1...3, &diagnostics) } ?? 1
            let coherent = mapping["dma-coherent"].map { $0.bool(&diagnostics) } ?? false
            guard let name, let size, let syncMode, let coherent else { return nil }
            return UDMABufferSpec(name: name, sizeBytes: size, syncMode: Int(syncMode), dmaCoherent: coherent)
        }
        return buffers.count == items.count ? buffers : nil
    }
}
