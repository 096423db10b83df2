#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A RAM region backed lazily in 64 KiB pages: a 2 GiB board costs one pointer per page until the
/// pages are touched. Untouched pages read as zero without being allocated; the first write
/// allocates (zero-filled). `back(_:)` allocates a span up front (the DMA pool does this at start),
/// after which reads and writes there never allocate.
///
/// Mechanics: the page table is a raw pointer table owned by this object (no Array, so no
/// copy-on-write or exclusivity checks on the copy path); each page is one `calloc` block.
public final class RAM {
    public static let pageShift: UInt64 = 16
    public static let pageSize: UInt64 = 1 << pageShift

    public let name: String
    public let range: AddressRange
    /// Pages allocated so far.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var residentPages: Int = 0

    @usableFromInline let pageCount: Int
    @usableFromInline let pages: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Contiguous blocks allocated by `back(_:)`; their pages point into them and are not freed
    /// one by one.
    @exclusivity(unchecked) private var blocks: [(first: Int, count: Int, memory: UnsafeMutableRawPointer)] = []

    public init(name: String, range: AddressRange) {
        self.name = name
        self.range = range
        pageCount = Int((range.size + RAM.pageSize - 1) >> RAM.pageShift)
        pages = .allocate(capacity: pageCount)
        pages.initialize(repeating: nil, count: pageCount)
    }

    deinit {
        for block in blocks {
            for index in block.first..<(block.first + block.count) { pages[index] = nil }
            munmap(block.memory, block.count * Int(RAM.pageSize))
        }
        for index in 0..<pageCount { free(pages[index]) }
        pages.deallocate()
    }

    /// Allocates every page that `span` (which must lie inside the region) touches. When none of
    /// them exists yet they are allocated as one contiguous block, so `contiguousBytes` can hand out
    /// a plain pointer into the span (the DMA pool: a buffer's CPU view is the memory DMA writes).
    ///
    /// `sharedMemory`: a memory file descriptor (a memfd of size 0) to hold the block instead of
    /// anonymous memory, sized here and mapped shared, so another process (an attached driver) can
    /// map the very pages DMA writes. Its first byte is `backedBlock(containing:)`'s start.
    public func back(_ span: AddressRange, sharedMemory: Int32? = nil) {
        precondition(range.contains(span), "\(span) is not inside RAM \(name) \(range)")
        let first = Int((span.base - range.base) >> RAM.pageShift)
        let last = Int((span.last - range.base) >> RAM.pageShift)
        let count = last - first + 1
        if (first...last).allSatisfy({ pages[$0] == nil }),
           let block = RAM.mapZeroed(count * Int(RAM.pageSize), sharedMemory: sharedMemory) {
            for i in 0..<count { pages[first + i] = block + i * Int(RAM.pageSize) }
            blocks.append((first, count, block))
            residentPages += count
            return
        }
        for index in first...last { _ = page(index) }
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
        guard let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        return mapped
    }

    /// A pointer to `count` bytes at `offset`, if they lie in resident, contiguous memory (a span
    /// given to `back(_:)`); nil otherwise. Valid as long as this RAM lives.
    public func contiguousBytes(offset: UInt64, count: UInt64) -> UnsafeMutableRawPointer? {
        guard count > 0, offset < range.size, count <= range.size - offset else { return nil }
        let first = Int(offset >> RAM.pageShift)
        let last = Int((offset + count - 1) >> RAM.pageShift)
        guard let start = pages[first] else { return nil }
        for index in first...last where pages[index] != start + (index - first) * Int(RAM.pageSize) { return nil }
        return start + Int(offset & (RAM.pageSize - 1))
    }

    /// The span given to `back(_:)` as one block that holds `offset` (region offset, byte count,
    /// memory), if any. It stays put as long as this RAM lives.
    public func backedBlock(containing offset: UInt64) -> (offset: UInt64, count: UInt64, memory: UnsafeMutableRawPointer)? {
        let page = Int(offset >> RAM.pageShift)
        for i in blocks.indices where page >= blocks[i].first && page < blocks[i].first + blocks[i].count {
            let start = UInt64(blocks[i].first) << RAM.pageShift
            let end = min(UInt64(blocks[i].first + blocks[i].count) << RAM.pageShift, range.size)
            return (start, end - start, blocks[i].memory)
        }
        return nil
    }

    /// True when the page holding `offset` has been allocated.
    public func isResident(offset: UInt64) -> Bool { pages[Int(offset >> RAM.pageShift)] != nil }

    @usableFromInline func page(_ index: Int) -> UnsafeMutableRawPointer {
        if let page = pages[index] { return page }
        guard let page = calloc(1, Int(RAM.pageSize)) else { fatalError("out of memory backing RAM \(name)") }
        pages[index] = page
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
            if let page = pages[Int(offset >> RAM.pageShift)] {
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
