import Board
import DeviceTree
import Devices
import Testing

@Suite("AXI DMA nodes")
struct AXIDMANodeTests {
    @Test func scatterGatherAddressWidthAndDREAreWrittenOnlyWhenNotTheDefault() throws {
        let plain = ProfileText.render(try importBoard(board()).get())
        for key in ["scatter-gather", "address-width-bits", "dre:"] { #expect(!plain.contains(key), "\(key) written for a default core") }
        let full = try importBoard(board(axiDMA(extra: "xlnx,include-sg; xlnx,addrwidth = <40>;", channelExtra: "xlnx,include-dre;"))).get()
        let text = ProfileText.render(full)
        #expect(text.contains("    scatter-gather: true  # xlnx,include-sg\n"))
        #expect(text.contains("    address-width-bits: 40  # xlnx,addrwidth\n"))
        #expect(text.contains("    dre: true            # xlnx,include-dre\n"))
    }

    @Test func irqDelayAsA32BitCellIsAWarningNamingTheNodeWithWhatLinuxSees() throws {
        let imported = try importBoard(board(axiDMA(channelExtra: "xlnx,irq-delay = <5>;"))).get()
        let warning = try #require(imported.warnings.first)
        #expect(warning.location.node == "/dma@f80000000/dma-channel@30")
        #expect(warning.location.property == "xlnx,irq-delay")
        #expect(warning.message == "4 bytes, but xilinx_dma reads one (of_property_read_u8): Linux sees 0, not 5; write /bits/ 8 <5>")
        #expect(ProfileText.render(imported).contains("\n    # xlnx,irq-delay (s2mm): 0 as Linux reads it"))
    }

    @Test func irqDelayAsOneByteIsReadWithoutAWarning() throws {
        let imported = try importBoard(board(axiDMA(channelExtra: "xlnx,irq-delay = /bits/ 8 <5>;"))).get()
        #expect(imported.warnings.isEmpty)
        #expect(imported.devices.first?.irqDelay == ["s2mm": 5])
    }

    @Test func aZeroCellOnAFlagStillMeansTrueWithAWarning() throws {
        let imported = try importBoard(board(axiDMA(extra: "xlnx,include-sg = <0>;"))).get()
        #expect(imported.devices.first?.scatterGather == true)
        #expect(imported.warnings.first?.message.hasPrefix("<0> still means true") == true)
    }

    @Test func interruptNamesOnTheDMANodeStandInForChannelChildren() throws {
        let (_, profile) = try importAndLoad(board("""
            dma@f80000000 {
                compatible = "xlnx,axi-dma-7.1";
                reg = <0xf 0x80000000 0 0x10000>;
                clock-frequency = <100000000>;
                interrupts = <5 2 0 0>, <6 1 0 0>;
                interrupt-names = "mm2s_introut", "s2mm_introut";
            };
        """))
        let dma = try #require(profile.device(named: "dma"))
        #expect(dma.interrupts == [InterruptRoute(output: "mm2s", line: 5, sense: .levelHigh), InterruptRoute(output: "s2mm", line: 6, sense: .levelLow)])
    }

    @Test func aDMANodeWithNoChannelIsAnErrorSayingWhatWasExpected() throws {
        let error = try #require(try importError(board("""
            dma@f80000000 { compatible = "xlnx,axi-dma"; reg = <0xf 0x80000000 0 0x10000>; };
        """)))
        #expect(error.location.node == "/dma@f80000000")
        #expect(error.message.hasPrefix("no channel: expected xlnx,axi-dma-mm2s-channel"))
    }

    @Test func theClockComesFromTheMemoryMapClockOfClockNames() throws {
        let source = board("""
            lite: lite-clock { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <50000000>; };
            mm: mm-clock { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <150000000>; };
        """ + axiDMA(extra: "clocks = <&lite>, <&mm>; clock-names = \"s_axi_lite_aclk\", \"m_axi_s2mm_aclk\";")
            .replacingOccurrences(of: "clock-frequency = <100000000>;", with: ""))
        let (_, profile) = try importAndLoad(source)
        #expect(profile.device(named: "dma")?.parameters(as: AXIDMAParameters.self)?.clockHz == 150_000_000)
    }

    @Test func dmaCoherentOnEveryDMANodeMakesThePoolCoherentEvenOnAPPC440() throws {
        let source = board(axiDMA(extra: "dma-coherent;")).replacingOccurrences(of: "PowerPC,P2020@0", with: "PowerPC,440@0")
        let (_, profile) = try importAndLoad(source)
        #expect(profile.dmaPool.coherent)
        let (_, without) = try importAndLoad(board().replacingOccurrences(of: "PowerPC,P2020@0", with: "PowerPC,440@0"))
        #expect(!without.dmaPool.coherent)
    }

    @Test func aMisalignedDeviceWindowIsAnErrorNotARoundedGuess() throws {
        let error = try #require(try importError(board(axiDMA().replacingOccurrences(of: "0x80000000 0 0x10000", with: "0x80000100 0 0x10000"))))
        #expect(error.location.property == "reg")
        #expect(error.message.contains("is not whole 4 KiB pages"))
    }
}

@Suite("UIO and u-dma-buf nodes")
struct UIOAndBufferNodeTests {
    static let uio = """
        uio-rx@f80000000 { compatible = "generic-uio"; reg = <0xf 0x80000000 0 0x10000>; reg-names = "regs"; interrupts = <3 2 0 0>; };
    """

    @Test func aGenericUIONodeExposesTheDeviceHoldingItsRegAndTheChannelOfItsInterrupt() throws {
        let (_, profile) = try importAndLoad(board(axiDMA() + Self.uio))
        let node = try #require(profile.uioNodes.first)
        #expect(node.name == "uio-rx")
        #expect(node.device == "dma")
        #expect(node.interrupt?.output == "s2mm")
        #expect(node.maps.map(\.name) == ["regs"])
    }

    @Test func aUIOInterruptThatIsNoChannelOfTheDeviceIsAnError() throws {
        let error = try #require(try importError(board(axiDMA() + Self.uio.replacingOccurrences(of: "<3 2 0 0>", with: "<9 2 0 0>"))))
        #expect(error.location.node == "/uio-rx@f80000000")
        #expect(error.message == "interrupt <9 2 0 0> is none of dma's outputs (s2mm line 3): expected the line of the channel this node reports")
    }

    @Test func aDisabledUIONodeIsSkippedWithTheReason() throws {
        let imported = try importBoard(board(axiDMA() + Self.uio.replacingOccurrences(of: "reg-names", with: "status = \"disabled\"; reg-names"))).get()
        #expect(imported.uio.isEmpty)
        #expect(imported.skipped.contains { $0.path == "/uio-rx@f80000000" && $0.reason.contains("uio_pdrv_genirq does not bind it") })
    }

    static let buffers = """
        udmabuf@0 { compatible = "ikwzm,u-dma-buf"; device-name = "rx-buffers"; size = <0x400000>; memory-region = <&dma_pool>; };
        udmabuf@1 { compatible = "ikwzm,u-dma-buf"; minor-number = <3>; size = <0x100000>; sync-mode = <2>; dma-coherent; memory-region = <&dma_pool>; };
    """

    @Test func uDMABufNodesBecomeTheListNamedAsTheDriverNamesThem() throws {
        let (_, profile) = try importAndLoad(board(axiDMA() + Self.buffers))
        #expect(profile.udmaBuffers == [
            UDMABufferSpec(name: "rx-buffers", sizeBytes: 4 << 20, syncMode: 1, dmaCoherent: false),
            UDMABufferSpec(name: "udmabuf3", sizeBytes: 1 << 20, syncMode: 2, dmaCoherent: true),
        ])
    }

    @Test func uDMABufBuffersLargerThanThePoolAreAnError() throws {
        let error = try #require(try importError(board(axiDMA() + Self.buffers.replacingOccurrences(of: "<0x400000>", with: "<0x1000000>"))))
        #expect(error.location.node == "/udmabuf@1")
        #expect(error.message.contains("the DMA pool /reserved-memory/pool@f000000 has 16777216"))
    }

    @Test func aUDMABufSyncModeOutOfRangeIsAnErrorAtTheProperty() throws {
        let error = try #require(try importError(board(axiDMA() + Self.buffers.replacingOccurrences(of: "sync-mode = <2>", with: "sync-mode = <7>"))))
        #expect(error.location.property == "sync-mode")
    }

    @Test func withoutReservedMemoryTheErrorShowsWhatToAdd() throws {
        let source = board().replacingOccurrences(of: "dma_pool: pool@f000000 { compatible = \"shared-dma-pool\"; reg = <0 0x0f000000 0 0x01000000>; no-map; };", with: "")
        let error = try #require(try importError(source))
        #expect(error.location.node == "/reserved-memory")
        #expect(error.message.contains("such as reserved-memory {"))
    }
}
