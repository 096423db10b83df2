import Board
import DeviceTree
import Testing

@Suite("interrupt parents")
struct InterruptParentTests {
    @Test func interruptParentIsInheritedFromTheNearestAncestorThatNamesOne() throws {
        let tree = try tree(of: board("""
            other: other-pic@fffe00000 { interrupt-controller; #interrupt-cells = <2>; reg = <0xf 0xffe00000 0 0x1000>; compatible = "test,pic"; };
            bus { #address-cells = <2>; #size-cells = <2>; ranges; interrupt-parent = <&other>;
                  inner { #address-cells = <2>; #size-cells = <2>; ranges;
                          leaf@1 { reg = <0 0x1000 0 0x100>; interrupts = <5 1>; }; }; };
        """))
        let leaf = try #require(tree.node(atPath: "/bus/inner/leaf@1"))
        #expect(try tree.interruptParent(of: leaf).path == "/other-pic@fffe00000")
        #expect(try tree.interrupts(of: leaf)?.first?.cells == [5, 1])
    }

    /// An xps-intc in the FPGA, its output on MPIC external IRQ3; the AXI DMA reports to the
    /// xps-intc through its bus's interrupt-parent.
    static let cascade = board("""
        fpga@f80000000 {
            #address-cells = <1>;
            #size-cells = <1>;
            compatible = "simple-bus";
            ranges = <0x0 0xf 0x80000000 0x100000>;
            interrupt-parent = <&intc>;
            intc: interrupt-controller@40000 {
                compatible = "xlnx,xps-intc-1.00.a";
                interrupt-controller;
                #interrupt-cells = <2>;
                reg = <0x40000 0x10000>;
                xlnx,num-intr-inputs = <4>;
                xlnx,kind-of-intr = <0x0>;
                interrupt-parent = <&mpic>;
                interrupts = <3 2 0 0>;
            };
            dma@0 {
                compatible = "xlnx,axi-dma-1.00.a";
                reg = <0x0 0x10000>;
                clock-frequency = <100000000>;
                dma-channel@30 { compatible = "xlnx,axi-dma-s2mm-channel"; interrupts = <1 2>; xlnx,datawidth = <32>; };
            };
        };
    """)

    @Test func aDeviceBehindACascadedXPSIntcGetsTheXPSIntcLineAndTheCascadeIntoTheMPICIsNoted() throws {
        let (board, profile) = try importAndLoad(Self.cascade)
        #expect(profile.interruptController.kind == .xpsIntc)
        #expect(profile.interruptController.lineCount == 4)
        #expect(profile.device(named: "dma")?.interrupt(named: "s2mm") == InterruptRoute(output: "s2mm", line: 1, sense: .levelHigh))
        #expect(board.controller.cascade == "cascaded into /pic@fffe40000 <3 2 0 0>")
        #expect(ProfileText.render(board).contains("interrupt-controller:    # /fpga@f80000000/interrupt-controller@40000 (xlnx,xps-intc-1.00.a), cascaded into /pic@fffe40000 <3 2 0 0>"))
    }

    @Test func aCycleInInterruptParentIsALocatedErrorListingTheChain() throws {
        let error = try #require(try importError(board("""
            a: a { interrupt-parent = <&b>; };
            b: b { interrupt-parent = <&a>; };
            dma@f80000000 {
                compatible = "xlnx,axi-dma-1.00.a";
                reg = <0xf 0x80000000 0 0x10000>;
                interrupt-parent = <&a>;
                dma-channel@30 { compatible = "xlnx,axi-dma-s2mm-channel"; interrupts = <3 2 0 0>; };
            };
        """)))
        #expect(error.message.hasPrefix("cycle in interrupt-parent: "))
        #expect(error.message.contains("/a -> /b -> /a"))
        #expect(error.location.property == "interrupt-parent")
    }

    @Test func controllersThatCascadeIntoEachOtherAreACycle() throws {
        let tree = try tree(of: board("""
            x: x-pic { interrupt-controller; #interrupt-cells = <1>; interrupt-parent = <&y>; interrupts = <1>; };
            y: y-pic { interrupt-controller; #interrupt-cells = <1>; interrupt-parent = <&x>; interrupts = <2>; };
        """))
        let x = try #require(tree.node(atPath: "/x-pic"))
        let error = #expect(throws: DeviceTreeError.self) { try tree.cascade(above: x) }
        #expect(error?.message.contains("cycle in interrupt-parent: the controllers cascade into each other (/x-pic -> /y-pic -> /x-pic)") == true)
    }

    @Test func interruptsCellCountsComeFromTheControllersInterruptCells() throws {
        let error = try #require(try importError(board(axiDMA().replacingOccurrences(of: "interrupts = <3 2 0 0>", with: "interrupts = <3 2 0>"))))
        #expect(error.location.node == "/dma@f80000000/dma-channel@30")
        #expect(error.message == "3 cells: expected a multiple of 4, the #interrupt-cells of its interrupt parent /pic@fffe40000")
    }

    @Test func interruptsExtendedWinsOverInterrupts() throws {
        let tree = try tree(of: board("""
            other: other-pic { interrupt-controller; #interrupt-cells = <1>; };
            leaf { interrupts = <1 2 0 0>; interrupts-extended = <&other 7>, <&mpic 4 1 0 0>; };
        """))
        let leaf = try #require(tree.node(atPath: "/leaf"))
        let specifiers = try #require(try tree.interrupts(of: leaf))
        #expect(specifiers.map(\.cells) == [[7], [4, 1, 0, 0]])
        #expect(specifiers.map { tree[$0.controller].path } == ["/other-pic", "/pic@fffe40000"])
    }

    @Test func anInterruptNexusIsAnUnsupportedConstructWithThePropertyNamed() throws {
        let error = try #require(try importError(board("""
            nexus: nexus { #interrupt-cells = <1>; #address-cells = <0>; interrupt-map = <1 &mpic 5 2 0 0>; };
    """ + axiDMA(extra: "interrupt-parent = <&nexus>;").replacingOccurrences(of: "interrupts = <3 2 0 0>", with: "interrupts = <1>"))))
        #expect(error.message.contains("an interrupt nexus (interrupt-map"))
    }
}

@Suite("interrupt sense encodings")
struct SenseEncodingTests {
    static let meanings: [(cell: Int, sense: InterruptSense)] = [(0, .risingEdge), (1, .levelLow), (2, .levelHigh), (3, .fallingEdge)]

    @Test(arguments: meanings.map(\.cell))
    func mpicSenseCellsMeanRisingLevelLowLevelHighFalling(cell: Int) throws {
        let (_, profile) = try importAndLoad(board(axiDMA(sense: cell)))
        #expect(profile.interruptController.kind == .mpic)
        #expect(profile.device(named: "dma")?.interrupt(named: "s2mm")?.sense == Self.meanings[cell].sense)
    }

    @Test(arguments: meanings.map(\.cell))
    func xpsIntcSenseCellsFollowTheEDKGeneratorsOpenPICEncoding(cell: Int) throws {
        let edge = Self.meanings[cell].sense.isEdge
        let source = InterruptParentTests.cascade
            .replacingOccurrences(of: "interrupts = <1 2>;", with: "interrupts = <1 \(cell)>;")
            .replacingOccurrences(of: "xlnx,kind-of-intr = <0x0>;", with: "xlnx,kind-of-intr = <\(edge ? 0x2 : 0x0)>;")
        let (board, profile) = try importAndLoad(source)
        #expect(profile.device(named: "dma")?.interrupt(named: "s2mm")?.sense == Self.meanings[cell].sense)
        #expect(board.warnings.isEmpty)
    }

    @Test func linuxIRQTypeNumberingOnAnMPICIsAnErrorThatSaysSo() throws {
        let error = try #require(try importError(board(axiDMA(sense: 4))))
        #expect(error.location.node == "/dma@f80000000/dma-channel@30")
        #expect(error.message.contains("sense 4 is undefined for mpic: expected 0 rising-edge, 1 level-low, 2 level-high, 3 falling-edge"))
        #expect(error.message.contains("Linux's IRQ_TYPE numbering"))
    }

    @Test func anXPSIntcCellThatDisagreesWithKindOfIntrIsAWarningNamingTheBit() throws {
        let source = InterruptParentTests.cascade.replacingOccurrences(of: "xlnx,kind-of-intr = <0x0>;", with: "xlnx,kind-of-intr = <0x2>;")
        let (board, _) = try importAndLoad(source)
        #expect(board.warnings.map(\.message) == ["interrupt <1 2> says level-high, but bit 1 of xlnx,kind-of-intr (0x2) says edge: Linux follows xlnx,kind-of-intr"])
    }

    @Test func anXPSIntcWithOneCellTakesTheSenseFromKindOfIntr() throws {
        let source = InterruptParentTests.cascade
            .replacingOccurrences(of: "#interrupt-cells = <2>;", with: "#interrupt-cells = <1>;")
            .replacingOccurrences(of: "interrupts = <1 2>;", with: "interrupts = <1>;")
            .replacingOccurrences(of: "xlnx,kind-of-intr = <0x0>;", with: "xlnx,kind-of-intr = <0x2>;")
        let (_, profile) = try importAndLoad(source)
        #expect(profile.device(named: "dma")?.interrupt(named: "s2mm")?.sense == .risingEdge)
    }

    @Test func anMPICInterruptOfAnotherTypeThanZeroIsNotADeviceLine() throws {
        let error = try #require(try importError(board(axiDMA().replacingOccurrences(of: "<3 2 0 0>", with: "<3 2 2 0>"))))
        #expect(error.message.contains("MPIC type 2 is not a device line"))
    }
}
