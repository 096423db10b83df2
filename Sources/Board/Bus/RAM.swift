#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A RAM region backed lazily in 64 KiB pages. Untouched pages read as zero without being
/// allocated; the first write allocates one (zero-filled). The page table is a radix tree
/// (`PageTable`) whose size follows the pages touched, not the size declared: a 2^62-byte region
/// costs a few KiB until written. `back(_:)` gives a span one contiguous block of address space up
/// front (the DMA pool does this at start); the kernel fills its pages on first touch, so even a
/// 900 GiB pool costs only what is used, and reads and writes there never allocate.
///
/// Mechanics: the page table and the blocks are raw memory owned by this object (no Array on the
/// copy path, so no copy-on-write or exclusivity checks); each written page is one `calloc` block.
public final class RAM {
    public static let pageShift: UInt64 = 16
    public static let pageSize: UInt64 = 1 << pageShift

    public let name: String
    public let range: AddressRange
    /// Pages backed so far: the pages written, plus every page of the spans given to `back(_:)`
    /// (which the kernel only fills when they are touched).
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var residentPages: Int = 0

    /// Nodes of the page table below its root.
    @exclusivity(unchecked) @usableFromInline var pageTableNodes: Int = 0
    /// What the page table costs: a few KiB for any declared size, plus 32 KiB per 256 MiB
    /// stretch of the region written to.
    public var pageTableBytes: Int { table.rootBytes + pageTableNodes * PageTable.nodeBytes }

    @usableFromInline let pageCount: Int
    /// Pages written outside the blocks.
    @usableFromInline let table: PageTable
    /// Contiguous blocks made by `back(_:)`, by first page; their pages are not in `table`.
    @exclusivity(unchecked) @usableFromInline var blocks: [Block] = []
    /// The first of them (the DMA pool) as plain values, so a page lookup checks it without
    /// touching the array (no retain of its storage on the copy path).
    @exclusivity(unchecked) @usableFromInline var firstBlock = Block(first: 0, count: 0, memory: nil)

    @usableFromInline struct Block {
        @usableFromInline let first: Int
        @usableFromInline let count: Int
        @usableFromInline let memory: UnsafeMutableRawPointer?
    }

    public init(name: String, range: AddressRange) {
        self.name = name
        self.range = range
        pageCount = Int((range.size - 1) >> RAM.pageShift) + 1
        table = PageTable(pageCount: pageCount)
    }

    deinit {
        for block in blocks { munmap(block.memory, block.count * Int(RAM.pageSize)) }  // bounded: the blocks
        table.release()
    }

    /// Gives `span` (which must lie inside the region and outside earlier spans) one contiguous
    /// block, so `contiguousBytes` can hand out a plain pointer into it (the DMA pool: a buffer's
    /// CPU view is the memory DMA writes). Pages already written there move into the block.
    ///
    /// `sharedMemory`: a memory file descriptor (a memfd of size 0) to hold the block instead of
    /// anonymous memory, sized here and mapped shared, so another process (an attached driver) can
    /// map the very pages DMA writes. Its first byte is `backedBlock(containing:)`'s start.
    /// Either way the block is address space only until touched (a memfd is sparse; the anonymous
    /// mapping is `MAP_NORESERVE`), so its size costs nothing by itself; the profile caps it
    /// (`BoardProfile.DMAPool.maximumBytes`) so that it fits the address space.
    public func back(_ span: AddressRange, sharedMemory: Int32? = nil) {
        precondition(range.contains(span), "\(span) is not inside RAM \(name) \(range)")
        let first = Int((span.base - range.base) >> RAM.pageShift)
        let last = Int((span.last - range.base) >> RAM.pageShift)
        let count = last - first + 1
        precondition(!blocks.contains { $0.first <= last && first < $0.first + $0.count }, "\(span) overlaps a span already backed")
        let bytes = count * Int(RAM.pageSize)
        guard let memory = RAM.mapZeroed(bytes, sharedMemory: sharedMemory) else {
            fatalError("cannot back \(span) of RAM \(name) (\(bytes) bytes): \(String(cString: strerror(errno)))")
        }
        var moved: [Int] = []
        table.forEachPage(in: first...last) { index, page in
            memcpy(memory + (index - first) * Int(RAM.pageSize), page, Int(RAM.pageSize))
            free(page)
            moved.append(index)
        }
        for index in moved { table.store(nil, at: index) }
        blocks.append(Block(first: first, count: count, memory: memory))
        if blocks.count == 1 { firstBlock = blocks[0] }
        residentPages += count - moved.count
    }

    /// A zero-filled, page-aligned block of `bytes` for `back(_:)` (an anonymous mapping: zero pages
    /// until touched, like calloc). Page alignment matters: calloc hands out 16 bytes past a page
    /// boundary, so every DMA buffer in the pool started mid cache line and each vector load and
    /// store of the S2MM fill and the consumer's check split across two lines (measured: 64 KiB
    /// written and checked in 848 ns misaligned, 529 ns aligned; 4 KiB in 41 against 31 ns).
    /// With `sharedMemory`, the file is sized to the block (a memfd reads as zeros) and mapped shared.
    private static func mapZeroed(_ bytes: Int, sharedMemory: Int32? = nil) -> UnsafeMutableRawPointer? {
        if let fd = sharedMemory {
            guard ftruncate(fd, off_t(bytes)) == 0,
                  let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
                  mapped != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
            return mapped
        }
        guard let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              mapped != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        return mapped
    }

    /// A pointer to `count` bytes at `offset`, if they lie in one span given to `back(_:)`, or in
    /// one written page; nil otherwise. Valid as long as this RAM lives.
    public func contiguousBytes(offset: UInt64, count: UInt64) -> UnsafeMutableRawPointer? {
        guard count > 0, offset < range.size, count <= range.size - offset else { return nil }
        if let block = backedBlock(containing: offset), offset + count <= block.offset + block.count {
            return block.memory + Int(offset - block.offset)
        }
        let first = Int(offset >> RAM.pageShift)
        guard first == Int((offset + count - 1) >> RAM.pageShift), let page = table.page(first) else { return nil }
        return page + Int(offset & (RAM.pageSize - 1))
    }

    /// The span given to `back(_:)` as one block that holds `offset` (region offset, byte count,
    /// memory), if any. It stays put as long as this RAM lives.
    public func backedBlock(containing offset: UInt64) -> (offset: UInt64, count: UInt64, memory: UnsafeMutableRawPointer)? {
        let page = Int(offset >> RAM.pageShift)
        for block in blocks where page >= block.first && page < block.first + block.count {  // bounded: the blocks
            let start = UInt64(block.first) << RAM.pageShift
            let end = min(UInt64(block.first + block.count) << RAM.pageShift, range.size)
            return (start, end - start, block.memory!)
        }
        return nil
    }

    /// True when the page holding `offset` has been written or lies in a backed span.
    public func isResident(offset: UInt64) -> Bool { existingPage(Int(offset >> RAM.pageShift)) != nil }

    /// The memory of page `index` if it exists (in a block, or written), without allocating.
    @inlinable @inline(__always)
    func existingPage(_ index: Int) -> UnsafeMutableRawPointer? {
        if let memory = firstBlock.memory, index >= firstBlock.first && index - firstBlock.first < firstBlock.count {
            return memory + (index - firstBlock.first) * Int(RAM.pageSize)
        }
        if blocks.count > 1 { return laterBlockPage(index) ?? table.page(index) }
        return table.page(index)
    }

    @usableFromInline func laterBlockPage(_ index: Int) -> UnsafeMutableRawPointer? {
        for block in blocks.dropFirst() where index >= block.first && index - block.first < block.count {  // bounded: the blocks
            return block.memory! + (index - block.first) * Int(RAM.pageSize)
        }
        return nil
    }

    @usableFromInline func page(_ index: Int) -> UnsafeMutableRawPointer {
        if let page = existingPage(index) { return page }
        guard let page = calloc(1, Int(RAM.pageSize)) else { fatalError("out of memory backing RAM \(name)") }
        pageTableNodes += table.store(page, at: index)
        residentPages += 1
        return page
    }

    /// Copies `bytes` into the region at `offset`; the caller has checked the bounds.
    @inlinable func copyIn(offset: UInt64, from bytes: UnsafeRawBufferPointer) {
        guard var source = bytes.baseAddress else { return }
        var offset = offset
        var remaining = bytes.count
        while remaining > 0 {
            let within = Int(offset & (RAM.pageSize - 1))
            let run = min(remaining, Int(RAM.pageSize) - within)
            memcpy(page(Int(offset >> RAM.pageShift)) + within, source, run)
            source += run
            offset += UInt64(run)
            remaining -= run
        }
    }

    /// Copies from the region at `offset` into `buffer`; untouched pages read as zero and stay
    /// unallocated. The caller has checked the bounds.
    @inlinable func copyOut(offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) {
        guard var target = buffer.baseAddress else { return }
        var offset = offset
        var remaining = buffer.count
        while remaining > 0 {
            let within = Int(offset & (RAM.pageSize - 1))
            let run = min(remaining, Int(RAM.pageSize) - within)
            if let page = existingPage(Int(offset >> RAM.pageShift)) {
                memcpy(target, page + within, run)
            } else {
                memset(target, 0, run)
            }
            target += run
            offset += UInt64(run)
            remaining -= run
        }
    }
}
