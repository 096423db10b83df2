/// The AXI DMA register layout as the driver knows it (Xilinx PG021, direct register mode). The
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
    }

    /// Channel bases: MM2S at 0x00, S2MM at 0x30.
    public static let mm2sBase: UInt32 = 0x00
    public static let s2mmBase: UInt32 = 0x30

    // DMACR
    public static let RS: UInt32 = 1 << 0
    public static let Reset: UInt32 = 1 << 2
    public static let IOC_IrqEn: UInt32 = 1 << 12
    public static let Dly_IrqEn: UInt32 = 1 << 13
    public static let Err_IrqEn: UInt32 = 1 << 14

    // DMASR
    public static let Halted: UInt32 = 1 << 0
    public static let Idle: UInt32 = 1 << 1
    public static let DMAIntErr: UInt32 = 1 << 4
    public static let DMASlvErr: UInt32 = 1 << 5
    public static let DMADecErr: UInt32 = 1 << 6
    public static let IOC_Irq: UInt32 = 1 << 12
    public static let Dly_Irq: UInt32 = 1 << 13
    public static let Err_Irq: UInt32 = 1 << 14
    public static let causes: UInt32 = IOC_Irq | Dly_Irq | Err_Irq
    public static let errors: UInt32 = DMAIntErr | DMASlvErr | DMADecErr
}
