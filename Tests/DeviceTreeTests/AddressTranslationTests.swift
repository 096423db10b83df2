import Board
import DeviceTree
import Testing

@Suite("ranges translation")
struct AddressTranslationTests {
    /// Root (two cells, 36-bit) → a bus with one cell → a chip-select bus with two cells.
    static let nested = board("""
        soc@fe0000000 {
            #address-cells = <1>;
            #size-cells = <1>;
            compatible = "simple-bus";
            ranges = <0x0 0xf 0xe0000000 0x1000000>;
            localbus@100000 {
                #address-cells = <2>;
                #size-cells = <1>;
                compatible = "simple-bus";
                ranges = <0 0 0x100000 0x20000
                          2 0 0x800000 0x20000>;
                dma@2,0 {
                    compatible = "xlnx,axi-dma-1.00.a";
                    reg = <2 0x10000 0x10000>;
                    clock-frequency = <100000000>;
                    dma-channel@30 { compatible = "xlnx,axi-dma-s2mm-channel"; interrupts = <3 2 0 0>; xlnx,datawidth = <32>; };
                };
            };
        };
    """)

    @Test func aDeviceTwoBusesDeepGetsItsPhysicalAddressThroughBothRanges() throws {
        let tree = try tree(of: Self.nested)
        let dma = try #require(tree.node(atPath: "/soc@fe0000000/localbus@100000/dma@2,0"))
        // <2 0x10000> → CS2 at 0x80_0000 of the soc → 0xf_e000_0000 + 0x81_0000.
        #expect(try tree.registers(dma) == [PhysicalWindow(base: 0xF_E081_0000, size: 0x10000)])
        let (_, profile) = try importAndLoad(Self.nested)
        #expect(profile.device(named: "dma")?.range.base == PhysicalAddress(0xF_E081_0000))
        #expect(profile.cpu.physicalAddressBits == 36)
    }

    @Test func anEmptyRangesMapsOneToOne() throws {
        let tree = try tree(of: board("""
            bus { #address-cells = <2>; #size-cells = <2>; compatible = "simple-bus"; ranges;
                  uart@fffe04500 { reg = <0xf 0xffe04500 0 0x100>; }; };
        """))
        let uart = try #require(tree.node(atPath: "/bus/uart@fffe04500"))
        #expect(try tree.registers(uart) == [PhysicalWindow(base: 0xF_FFE0_4500, size: 0x100)])
    }

    @Test func aBusWithoutRangesIsAnUntranslatableErrorNamingTheBusTheNodeAndReg() throws {
        let error = try #require(try importError(board("""
            bus { #address-cells = <1>; #size-cells = <1>; compatible = "simple-bus";
                  dma@1000 { compatible = "xlnx,axi-dma-1.00.a"; reg = <0x1000 0x10000>;
                             dma-channel@30 { compatible = "xlnx,axi-dma-s2mm-channel"; interrupts = <3 2 0 0>; }; }; };
        """)))
        #expect(error.location.node == "/bus/dma@1000")
        #expect(error.location.property == "reg")
        #expect(error.message.contains("untranslatable: /bus has no ranges"))
    }

    @Test func anAddressInNoRangesEntryIsAnErrorListingTheEntries() throws {
        let error = try #require(try importError(board("""
            bus { #address-cells = <1>; #size-cells = <1>; compatible = "simple-bus"; ranges = <0x0 0x0 0x80000000 0x10000>;
                  dma@20000 { compatible = "xlnx,axi-dma-1.00.a"; reg = <0x20000 0x10000>;
                              dma-channel@30 { compatible = "xlnx,axi-dma-s2mm-channel"; interrupts = <3 2 0 0>; }; }; };
        """)))
        #expect(error.description.contains("board.dtb: /bus/dma@20000: reg: error: untranslatable: 0x20000 (0x10000 bytes) lies in no ranges entry of /bus (0x0..+0x10000 -> 0x80000000)"))
    }

    @Test func aWindowThatStraddlesTheEndOfARangesEntryIsUntranslatable() throws {
        let tree = try tree(of: board("""
            bus { #address-cells = <1>; #size-cells = <1>; ranges = <0x0 0x0 0x80000000 0x10000>;
                  regs@8000 { reg = <0x8000 0x10000>; }; };
        """))
        let node = try #require(tree.node(atPath: "/bus/regs@8000"))
        #expect(throws: DeviceTreeError.self) { try tree.registers(node) }
    }

    @Test func aRegWithTheWrongNumberOfCellsNamesTheCellsItExpected() throws {
        let tree = try tree(of: board("regs@1 { reg = <0 1 0x100>; };"))
        let node = try #require(tree.node(atPath: "/regs@1"))
        let error = #expect(throws: DeviceTreeError.self) { try tree.registers(node) }
        #expect(error?.message.contains("expected entries of 2 address and 2 size cells") == true)
    }
}
