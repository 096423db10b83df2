import Board
import Devices
import Testing

/// Each error class of issue 4, with its exact file:line:column.
@Suite struct ProfileErrorTests {
    /// Asserts exactly one diagnostic, at `line`:`column`, whose message contains `fragment`.
    func expectOne(_ text: String, at line: Int, _ column: Int, _ fragment: String, suggestion: String? = nil,
                   sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let found = diagnostics(of: text)
        #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
        guard let first = found.first else { return }
        #expect(first.location.description == "test.yaml:\(line):\(column)", "\(first)", sourceLocation: sourceLocation)
        #expect(first.message.contains(fragment), "\(first)", sourceLocation: sourceLocation)
        #expect(first.suggestion == suggestion, "\(first)", sourceLocation: sourceLocation)
    }

    @Test func theBaseProfileIsValid() {
        #expect(diagnostics(of: profile()).isEmpty)
    }

    @Test func theUDMABufListReadsEachEntryAndLocatesABadOne() throws {
        let good = profile(appending: ["u-dma-buf:", "  - name: udmabuf0", "    size: 4 MiB", "    sync-mode: 3", "    dma-coherent: true"])
        let buffers = try BoardProfile.parse(good, file: "test.yaml", registry: DeviceKinds.standard).udmaBuffers
        #expect(buffers == [UDMABufferSpec(name: "udmabuf0", sizeBytes: 4 << 20, syncMode: 3, dmaCoherent: true)])
        expectOne(profile(appending: ["u-dma-buf:", "  - name: udmabuf0", "    size: 4 MiB", "    sync-mode: 9"]), at: 41, 16, "expected a sync-mode")
        expectOne(profile(appending: ["u-dma-buf:", "  - name: udmabuf0", "    size: 4 MiB", "    minor: 0"]), at: 41, 5, "unknown key 'minor'")
    }

    @Test func aYAMLSyntaxErrorIsLocated() {
        expectOne(profile(replacing: [5: "  clock: [1 GHz"]), at: 6, 24, "YAML syntax")
    }

    @Test func anUnknownKeyIsLocatedAndGetsASuggestion() {
        expectOne(profile(replacing: [4: "  core: e500v2\n  coers: 2"]), at: 5, 3, "unknown key 'coers'", suggestion: "cores")
    }

    @Test func aMissingKeyIsReportedAtItsMapping() {
        expectOne(profile(replacing: [5: nil]), at: 4, 3, "missing key 'clock' in the cpu section")
    }

    @Test func aWrongTypeSaysWhatWasExpected() {
        expectOne(profile(replacing: [10: "    size: [1, 2]"]), at: 10, 11, "expected a size")
    }

    @Test func overlappingRegionsNameBoth() {
        let text = profile(appending: ["reserved:", "  - name: rom", "    base: 0x0800_0000", "    size: 1 MiB"])
        expectOne(text, at: 40, 11, "reserved region 'rom'")
        #expect(diagnostics(of: text).first?.message.contains("memory region 'ddr'") == true)
    }

    @Test func aZeroSizeIsAnError() {
        expectOne(profile(replacing: [22: "    size: 0"]), at: 22, 11, "zero size")
    }

    @Test func aMisalignedWindowIsAnError() {
        expectOne(profile(replacing: [21: "    base: 0x8000_0100"]), at: 21, 11, "misaligned window")
    }

    @Test func anAddressBeyondThePhysicalWidthIsAnError() {
        expectOne(profile(replacing: [21: "    base: 0x10_0000_0000"]), at: 21, 11, "beyond the 36-bit physical space")
    }

    @Test func anInterruptLineOutOfRangeIsAnError() {
        expectOne(profile(replacing: [29: "      interrupt: 16"]), at: 29, 18, "out of range: expected 0 to 15")
    }

    @Test func anUnknownSenseCellIsAnError() {
        expectOne(profile(replacing: [30: "      sense: 7"]), at: 30, 14, "unknown sense 7 for mpic")
    }

    @Test func anUnknownSenseNameGetsASuggestion() {
        expectOne(profile(replacing: [30: "      sense: level-hihg"]), at: 30, 14, "expected an interrupt sense", suggestion: "level-high")
    }

    @Test func anUnknownDeviceKindGetsASuggestion() {
        expectOne(profile(replacing: [20: "    kind: axi-dam"]), at: 20, 11, "expected a device kind", suggestion: "axi-dma")
    }

    @Test func aUIONodePointingAtAMissingDeviceIsAnError() {
        expectOne(profile(replacing: [33: "    device: dmx"]), at: 33, 13, "missing device 'dmx'", suggestion: "dma")
    }

    @Test func moreThanFiveUIOMapsIsAnError() {
        let extra = (1...5).flatMap { ["      - name: alias\($0)", "        region: dma"] }
        expectOne(profile(appending: extra), at: 46, 9, "too many maps")
    }

    @Test func aDMAPoolOutsideRAMIsAnError() {
        expectOne(profile(replacing: [12: "  base: 0x2000_0000"]), at: 12, 9, "outside RAM")
    }

    @Test func everyErrorInAFileIsReported() {
        let text = profile(replacing: [
            5: "  clock: fast", 10: "    size: 0", 20: "    kind: axi-dam", 33: "    device: dmx",
        ])
        let lines = diagnostics(of: text).map(\.location.line)
        #expect(lines.sorted() == [5, 10, 20, 33])
    }

    @Test func aDuplicateKeyIsReportedWhereItFirstAppears() {
        let found = diagnostics(of: profile(replacing: [5: "  clock: 1 GHz\n  clock: 2 GHz"]))
        #expect(found.count == 1)
        #expect(found.first?.message.contains("duplicate key 'clock'") == true)
        #expect(found.first?.location.line == 5)
    }

    @Test func sizesAndClocksAcceptTheirUnits() throws {
        let text = profile(replacing: [10: "    size: 0x1000_0000", 24: "    clock: 62.5 MHz", 26: "    fifo-depth: 8192"])
        let board = try BoardProfile.parse(text, file: "test.yaml", registry: DeviceKinds.standard)
        #expect(board.memory[0].range.size == 256 << 20)
        let dma = try #require(board.devices[0].parameters(as: AXIDMAParameters.self))
        #expect(dma.clockHz == 62_500_000)
        #expect(dma.fifoDepthBytes == 8 << 10)
    }

    @Test func aSizeUnitTypoGetsASuggestion() {
        expectOne(profile(replacing: [13: "  size: 16 MB"]), at: 13, 9, "expected a size", suggestion: "MiB")
    }
}

@Suite struct DiagnosticTests {
    @Test func aSwapOfNeighboursIsOneEdit() {
        #expect(Suggestion.editDistance("coers", "cores") == 1)
        #expect(Suggestion.closest(to: "coers", among: ["core", "cores", "clock"]) == "cores")
        #expect(Suggestion.closest(to: "zzzz", among: ["core", "cores"]) == nil)
    }

    @Test func aNullValueIsReportedAsNothing() {
        let found = diagnostics(of: profile(replacing: [22: "    size: ~"]))
        #expect(found.map(\.description) == ["test.yaml:22:11: error: expected a size (bytes, or a number with B, KiB, MiB or GiB, such as 64 KiB), found nothing"])
    }
}
