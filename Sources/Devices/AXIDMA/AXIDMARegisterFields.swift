/// PG021's register detail tables (MM2S_DMACR, MM2S_DMASR, MM2S_CURDESC, MM2S_TAILDESC, MM2S_SA,
/// MM2S_LENGTH and their S2MM twins), field by field, for both modes of the core.
extension AXIDMARegisterMap {
    /// The fields of `register`. In direct register mode the scatter-gather fields read as they do
    /// on a core built without SG (C_INCLUDE_SG = 0): SGIncld 0, the SG error bits 0, the coalescing
    /// status 0.
    static func fields(of register: ChannelRegister, direction: DMADirection, lengthWidthBits: Int, scatterGather sg: Bool) -> [RegisterField] {
        switch register {
        case .DMACR: return controlFields(sg)
        case .DMASR: return statusFields(sg)
        case .CURDESC:
            return [
                RegisterField("Reserved", bit: 0, width: 6, .reserved, note: "descriptors are 16-word (0x40) aligned"),
                RegisterField("Current_Descriptor_Pointer", bit: 6, width: 26, .readWriteWhileHalted,
                              note: "written only while halted; the engine follows the chain in it and leaves the failing descriptor in it on an error"),
            ]
        case .CURDESC_MSB:
            return [RegisterField("Current_Descriptor_Pointer_MSB", bit: 0, width: 32, .readWriteWhileHalted, note: "upper 32 bits; written only while halted")]
        case .TAILDESC:
            return [
                RegisterField("Reserved", bit: 0, width: 6, .reserved),
                RegisterField("Tail_Descriptor_Pointer", bit: 6, width: 26, .readWrite,
                              note: "the pause point; a write while running starts or resumes fetching (the MSB write does, above 32 address bits)"),
            ]
        case .TAILDESC_MSB:
            return [RegisterField("Tail_Descriptor_Pointer_MSB", bit: 0, width: 32, .readWrite,
                                  note: "upper 32 bits; its write starts or resumes fetching above 32 address bits")]
        case .address:
            let name = direction == .mm2s ? "Source_Address" : "Destination_Address"
            return [RegisterField(name, bit: 0, width: 32, .readWrite,
                                  note: "low 32 bits; without DRE it must be aligned to the data width")]
        case .addressMSB:
            let name = direction == .mm2s ? "Source_Address_MSB" : "Destination_Address_MSB"
            return [RegisterField(name, bit: 0, width: 32, .readWrite, note: "high 32 bits (address width above 32)")]
        case .LENGTH:
            let note = direction == .mm2s
                ? "bytes to send; a non-zero write while running starts the transfer"
                : "buffer bytes; a non-zero write while running arms the transfer; the received count is written back at completion"
            return [
                RegisterField("Length", bit: 0, width: lengthWidthBits, .readWrite, note: note),
                RegisterField("Reserved", bit: lengthWidthBits, width: 32 - lengthWidthBits, .reserved),
            ]
        }
    }

    private static func controlFields(_ sg: Bool) -> [RegisterField] {
        [
            RegisterField("RS", bit: 0, .readWrite, note: "run/stop; cleared by the core on any error"),
            RegisterField("Reserved", bit: 1, .reserved, reset: 1, note: "always reads 1"),
            RegisterField("Reset", bit: 2, .selfClearing, note: "soft reset of the whole core, both channels"),
            RegisterField("Keyhole", bit: 3, .readWrite, note: "stored; fixed-address bursts are not modelled"),
            RegisterField("Cyclic BD Enable", bit: 4, .readWrite,
                          note: sg ? "the chain loops: Cmplt is ignored, TAILDESC only triggers" : "stored; scatter-gather only"),
            RegisterField("Reserved", bit: 5, width: 7, .reserved),
            RegisterField("IOC_IrqEn", bit: 12, .readWrite),
            RegisterField("Dly_IrqEn", bit: 13, .readWrite),
            RegisterField("Err_IrqEn", bit: 14, .readWrite),
            RegisterField("Reserved", bit: 15, .reserved),
            // PG021 (DMACR, IRQThreshold): "The minimum setting for the threshold is 0x01. A write
            // of 0x00 to this register has no effect." (QEMU's AXI CDMA model quotes the same
            // sentence; Xilinx's XAxiDma_BdRingSetCoalesce refuses a count of 0.)
            RegisterField("IRQThreshold", bit: 16, width: 8, .readWriteNonZero, reset: 1,
                          note: sg ? "packets per IOC_Irq; a write of 0 has no effect (PG021: minimum 0x01)"
                                   : "stored; scatter-gather only; a write of 0 has no effect (PG021: minimum 0x01)"),
            RegisterField("IRQDelay", bit: 24, width: 8, .readWrite,
                          note: sg ? "Dly_Irq after 125 × IRQDelay SG clock periods idle after a packet; 0 disables it"
                                   : "stored; scatter-gather only"),
        ]
    }

    private static func statusFields(_ sg: Bool) -> [RegisterField] {
        let sgOnly = "scatter-gather only: 0"
        return [
            RegisterField("Halted", bit: 0, .readOnly, reset: 1, note: "1 after reset and while RS=0 with nothing in flight"),
            RegisterField("Idle", bit: 1, .readOnly,
                          note: sg ? "1 when paused after the descriptor TAILDESC names" : "1 when the last transfer has completed"),
            RegisterField("Reserved", bit: 2, .reserved),
            RegisterField("SGIncld", bit: 3, .readOnly, reset: sg ? 1 : 0,
                          note: sg ? "1: built with scatter-gather" : "0: built without scatter-gather"),
            RegisterField("DMAIntErr", bit: 4, .readOnly,
                          note: sg ? "internal error (a descriptor of length 0, a packet longer than the buffer); halts until reset"
                                   : "internal error; halts until reset"),
            RegisterField("DMASlvErr", bit: 5, .readOnly, note: "AXI SLVERR on data; halts until reset"),
            RegisterField("DMADecErr", bit: 6, .readOnly, note: "AXI DECERR on data (no slave at the address); halts until reset"),
            RegisterField("Reserved", bit: 7, .reserved),
            RegisterField("SGIntErr", bit: 8, .readOnly, note: sg ? "a fetched descriptor had Cmplt set (stale); halts until reset" : sgOnly),
            RegisterField("SGSlvErr", bit: 9, .readOnly, note: sg ? "AXI SLVERR on a descriptor fetch or update; halts until reset" : sgOnly),
            RegisterField("SGDecErr", bit: 10, .readOnly, note: sg ? "AXI DECERR on a descriptor fetch or update; halts until reset" : sgOnly),
            RegisterField("Reserved", bit: 11, .reserved),
            RegisterField("IOC_Irq", bit: 12, .writeOneToClear,
                          note: sg ? "IRQThreshold packets completed" : "transfer complete"),
            RegisterField("Dly_Irq", bit: 13, .writeOneToClear,
                          note: sg ? "the delay timer expired" : "delay timer; only a fault sets it in direct mode"),
            RegisterField("Err_Irq", bit: 14, .writeOneToClear, note: "an error bit was set"),
            RegisterField("Reserved", bit: 15, .reserved),
            RegisterField("IRQThresholdSts", bit: 16, width: 8, .readOnly, reset: sg ? 1 : 0,
                          note: sg ? "packets left before the next IOC_Irq" : sgOnly),
            RegisterField("IRQDelaySts", bit: 24, width: 8, .readOnly,
                          note: sg ? "delay timer: periods of 125 SG clocks elapsed since the last packet" : sgOnly),
        ]
    }
}
