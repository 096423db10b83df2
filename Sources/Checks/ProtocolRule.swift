/// The protocol checker's rules: what the datasheet (Xilinx PG021, AXI DMA v7.1, direct register
/// and scatter-gather modes), the kernel's UIO driver (`uio_pdrv_genirq`) and the Linux DMA API promise a driver, and
/// what breaks when it does otherwise. Each rule has a stable id (the `findings:` expectation key,
/// the trace's `protocol-finding` event), one line saying what went wrong, and a fix.
public enum ProtocolRule: String, CaseIterable, Sendable, Codable, Comparable {
    case lengthWhileHalted = "LEN-HALTED"
    case lengthBeforeRunning = "LEN-BEFORE-RUNNING"
    case addressAfterLength = "LEN-BEFORE-ADDR"
    case lengthWhileBusy = "LEN-WHILE-BUSY"
    case lengthTruncated = "LEN-TRUNCATED"
    case writeDuringReset = "RESET-NOT-DONE"
    case enableWithCause = "UIO-ENABLE-CAUSE"
    case neverReenabled = "UIO-NEVER-REENABLED"
    case missedInterrupts = "UIO-MISSED-IRQ"
    case interruptStorm = "IRQ-STORM"
    case cpuReadWithoutSync = "CPU-READ-NO-SYNC"
    case sendWithoutSync = "MM2S-NO-SYNC"
    case dmaOutsideBuffers = "DMA-OUTSIDE-BUFFERS"
    case dmaFreedBuffer = "DMA-FREED-BUFFER"
    case byteOrder = "REG-BYTE-ORDER"
    case unalignedWithoutDRE = "ADDR-UNALIGNED"
    case descriptorByteOrder = "SG-DESC-BYTE-ORDER"
    case currentWhileRunning = "SG-CURDESC-RUNNING"
    case descriptorPointer = "SG-DESC-POINTER"

    /// The id as scenarios and traces write it.
    public var id: String { rawValue }

    /// What went wrong, in one line.
    public var explanation: String {
        switch self {
        case .lengthWhileHalted:
            "LENGTH written while the channel is halted (DMACR.RS = 0): PG021, \"when halted, writing to the LENGTH register has no effect\"; no transfer starts"
        case .lengthBeforeRunning:
            "LENGTH written after RS = 1 but before DMASR.Halted read 0: the channel was still halted, so the write started nothing"
        case .addressAfterLength:
            "the address register (SA/DA or its MSB) written after the LENGTH that started the transfer: the transfer already runs with the previous address"
        case .lengthWhileBusy:
            "LENGTH written while a transfer is in progress: PG021 forbids it; the core ignores it"
        case .lengthTruncated:
            "LENGTH wider than the core's length width (C_SG_LENGTH_WIDTH): the bits above it are not implemented, so the transfer is shorter than asked, or none"
        case .writeDuringReset:
            "a register written while DMACR.Reset still reads 1: the soft reset is not complete and the write is lost"
        case .enableWithCause:
            "the UIO interrupt re-enabled (write 1) while the channel's cause it reported is still set in DMASR: a level line fires again at once (a storm), an edge line never again"
        case .neverReenabled:
            "the interrupt was never re-enabled after the driver handled one: a later completion raised the line and was never delivered (only one interrupt ever)"
        case .missedInterrupts:
            "a read of /dev/uioN returned a count more than one above the previous: the kernel handled interrupts the driver never saw, and it did not account for them"
        case .interruptStorm:
            "the line fired again and again with no register write to the device in between: the cause is never cleared (a level-interrupt storm)"
        case .cpuReadWithoutSync:
            "the CPU read bytes of a DMA buffer that the device wrote, with no sync_for_cpu covering them since: a non-coherent CPU reads stale cache lines"
        case .sendWithoutSync:
            "MM2S started on buffer bytes the CPU wrote, with no sync_for_device covering them since: a non-coherent device reads memory the CPU's cache has not written back"
        case .dmaOutsideBuffers:
            "a transfer's address range lies outside every live DMA buffer: a virtual address, an offset or length past the buffer, or the wrong buffer (the IOMMU-less board lets it write anywhere)"
        case .dmaFreedBuffer:
            "a transfer's address lies in a buffer that was freed: a stale DMA address (use after free)"
        case .byteOrder:
            "a register accessed assuming the wrong byte order: on PowerPC a native big-endian access to a little-endian AXI register reads and writes byte-swapped values"
        case .unalignedWithoutDRE:
            "a transfer's buffer address is not a multiple of the memory-map data width on a core built without the Data Realignment Engine (PG021 SA/DA, BUFFER_ADDRESS): MM2S reads from the address rounded down, S2MM loses the bytes on the strobed-off lanes"
        case .descriptorByteOrder:
            "a scatter-gather descriptor stored in the CPU's big-endian order: the engine reads descriptor words little-endian (AXI), so its NXTDESC, BUFFER_ADDRESS or CONTROL came out byte-swapped"
        case .currentWhileRunning:
            "CURDESC written while the channel runs: PG021 makes it read-only unless halted (RS = 0 and Halted = 1); the write is ignored and the engine goes on from where it was"
        case .descriptorPointer:
            "CURDESC or TAILDESC written with a value that cannot name a descriptor: not 16-word (0x40) aligned (PG021: the low 6 bits are reserved and read 0), or outside every live DMA buffer"
        }
    }

    /// How to fix it.
    public var fix: String {
        switch self {
        case .lengthWhileHalted:
            "set DMACR.RS (with the interrupt enables) first, wait for DMASR.Halted to read 0, then write the address and LENGTH last"
        case .lengthBeforeRunning:
            "after setting RS, poll DMASR until Halted reads 0 (as Linux xilinx_dma_start does) before writing LENGTH"
        case .addressAfterLength:
            "write SA/DA (and the MSB) before LENGTH: writing LENGTH starts the transfer"
        case .lengthWhileBusy:
            "wait for the completion interrupt (IOC_Irq) before programming the next transfer"
        case .lengthTruncated:
            "keep each transfer below 2^width bytes (the profile's length-width-bits: 14 bits on the ML507, at most 16383 bytes) and split larger ones"
        case .writeDuringReset:
            "after writing DMACR.Reset, poll DMACR until Reset reads 0 (as Linux xilinx_dma_reset does) before programming the channel"
        case .enableWithCause:
            "clear the cause first: write the DMASR IOC_Irq/Err_Irq bits back (write 1 to clear), then write 1 to /dev/uioN"
        case .neverReenabled:
            "uio_pdrv_genirq disables the line on every interrupt: write 1 to /dev/uioN after clearing the cause, every time"
        case .missedInterrupts:
            "compare each count with the last one read; a jump of k means k - 1 interrupts went by: check the device for every cause and count them"
        case .interruptStorm:
            "write the DMASR cause bits back (W1C) in the handler before re-enabling the interrupt"
        case .cpuReadWithoutSync:
            "after the completion, sync_for_cpu (dma_sync_single_for_cpu, u-dma-buf sync_for_cpu) the bytes received before reading them"
        case .sendWithoutSync:
            "sync_for_device (dma_sync_single_for_device, u-dma-buf sync_for_device) the bytes to send after writing them and before writing LENGTH"
        case .dmaOutsideBuffers:
            "program the buffer's DMA address (u-dma-buf phys_addr), never a pointer from mmap, and keep offset + length inside the buffer"
        case .dmaFreedBuffer:
            "stop the channel (RS = 0, wait for Halted) before freeing a buffer, and never program the address of a freed one"
        case .byteOrder:
            "use in_le32/out_le32 (le32toh/htole32, lwbrx/stwbrx) for the AXI DMA's little-endian registers"
        case .unalignedWithoutDRE:
            "align buffers to the data width (the profile's data-width-bytes: u-dma-buf buffers are page-aligned, offsets into them must keep it), or use a core built with DRE (dre: true)"
        case .descriptorByteOrder:
            "store every descriptor word with cpu_to_le32 / htole32 (st_le32, stwbrx) and read STATUS back with le32_to_cpu, as the registers"
        case .currentWhileRunning:
            "write CURDESC only before setting RS (after a reset, or once DMASR.Halted reads 1 after clearing RS); while running, extend the chain with TAILDESC"
        case .descriptorPointer:
            "keep descriptors 0x40-aligned in a DMA buffer (u-dma-buf) and write their DMA addresses, never a CPU pointer or an offset into the ring"
        }
    }

    /// Catalogue order.
    public static func < (a: ProtocolRule, b: ProtocolRule) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
