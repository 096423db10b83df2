/// The AXI DMA register layout as the driver knows it (Xilinx PG021, direct register and
/// scatter-gather modes; bit names from Xilinx embeddedsw xaxidma_hw.h). The
/// driver keeps its own copy, as a C driver keeps a header: it must not depend on the device model
/// it is tested against.
public enum AXIDMAHeader {
    /// Offsets of a channel's registers from the channel base.
    public enum ChannelOffset: UInt32 {
        case DMACR = 0x00
        case DMASR = 0x04
        /// S2MM_DA / MM2S_SA.
        case address = 0x18
        /// S2MM_DA_MSB / MM2S_SA_MSB.
        case addressMSB = 0x1C
        case LENGTH = 0x28
        /// Scatter-gather: the descriptor pointers (SA/DA and LENGTH do not exist then).
        case CURDESC = 0x08
        case CURDESC_MSB = 0x0C
        case TAILDESC = 0x10
        case TAILDESC_MSB = 0x14
    }

    /// Channel bases: MM2S at 0x00, S2MM at 0x30.
    public static let mm2sBase: UInt32 = 0x00
    public static let s2mmBase: UInt32 = 0x30

    // DMACR
    public static let RS: UInt32 = 1 << 0
    public static let Reset: UInt32 = 1 << 2
    /// Scatter-gather: cyclic BD mode (the chain loops; Cmplt is ignored on fetch).
    public static let CyclicBDEnable: UInt32 = 1 << 4
    /// Scatter-gather: IRQThreshold DMACR[23:16] and IRQDelay DMACR[31:24].
    public static let IRQThresholdShift: UInt32 = 16
    public static let IRQDelayShift: UInt32 = 24
    public static let IOC_IrqEn: UInt32 = 1 << 12
    public static let Dly_IrqEn: UInt32 = 1 << 13
    public static let Err_IrqEn: UInt32 = 1 << 14

    // DMASR
    public static let Halted: UInt32 = 1 << 0
    public static let Idle: UInt32 = 1 << 1
    public static let DMAIntErr: UInt32 = 1 << 4
    public static let DMASlvErr: UInt32 = 1 << 5
    public static let DMADecErr: UInt32 = 1 << 6
    /// Scatter-gather: a stale descriptor (Cmplt already set), a descriptor fetch/update SLVERR, DECERR.
    public static let SGIntErr: UInt32 = 1 << 8
    public static let SGSlvErr: UInt32 = 1 << 9
    public static let SGDecErr: UInt32 = 1 << 10
    public static let IOC_Irq: UInt32 = 1 << 12
    public static let Dly_Irq: UInt32 = 1 << 13
    public static let Err_Irq: UInt32 = 1 << 14
    public static let causes: UInt32 = IOC_Irq | Dly_Irq | Err_Irq
    public static let errors: UInt32 = DMAIntErr | DMASlvErr | DMADecErr | SGIntErr | SGSlvErr | SGDecErr

    /// A scatter-gather buffer descriptor (PG021 "Scatter Gather Descriptor"): 0x40-aligned, its
    /// words little-endian in memory whatever the CPU's byte order (the AXI side reads them so).
    public enum Descriptor {
        /// Bytes from one descriptor to the next in the driver's ring (PG021: 16-word aligned).
        public static let stride = 0x40
        public static let NXTDESC = 0x00
        public static let NXTDESC_MSB = 0x04
        public static let BUFFER_ADDRESS = 0x08
        public static let BUFFER_ADDRESS_MSB = 0x0C
        public static let CONTROL = 0x18
        public static let STATUS = 0x1C
        // STATUS
        public static let Cmplt: UInt32 = 1 << 31
        public static let DMADecErr: UInt32 = 1 << 30
        public static let DMASlvErr: UInt32 = 1 << 29
        public static let DMAIntErr: UInt32 = 1 << 28
        public static let RXSOF: UInt32 = 1 << 27
        public static let RXEOF: UInt32 = 1 << 26
        public static let errors: UInt32 = DMADecErr | DMASlvErr | DMAIntErr
        /// Transferred bytes: the low bits, at most 26 (C_SG_LENGTH_WIDTH); the bits above the core's
        /// width read 0.
        public static let lengthMask: UInt32 = (1 << 26) - 1
    }
}
