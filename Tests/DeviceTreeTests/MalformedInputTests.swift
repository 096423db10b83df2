import DeviceTree
import Foundation
import Testing

@Suite("malformed device trees")
struct MalformedBlobTests {
    static let valid = Result { try blob(of: board()) }

    @Test func everyTruncationOfAValidBlobIsAnErrorNotACrash() throws {
        let bytes = try Self.valid.get()
        // Bounded: one parse per prefix length, stepping so the loop stays short.
        for length in stride(from: 0, to: bytes.count, by: 7) {
            guard case .failure(let error) = DeviceTree.parse(blob: Array(bytes.prefix(length)), file: "cut.dtb") else {
                Issue.record("a blob cut to \(length) of \(bytes.count) bytes was accepted")
                continue
            }
            #expect(error.location.file == "cut.dtb")
            if length >= 40 { #expect(error.message.hasPrefix("truncated"), "\(length): \(error)") }
        }
    }

    @Test func badMagicIsAnErrorShowingTheMagicFound() throws {
        var bytes = try Self.valid.get()
        bytes[0] = 0x12
        let error = #expect(throws: DeviceTreeError.self) { try DeviceTree.parse(blob: bytes, file: "x.dtb").get() }
        #expect(error?.description == "x.dtb: error: bad magic 0x120dfeed: expected 0xd00dfeed (a flattened device tree, from dtc -O dtb)")
    }

    @Test func offsetsOutsideTheBlobAreAnErrorAboutOffsets() throws {
        var bytes = try Self.valid.get()
        // off_dt_struct (header offset 8) pointed past the end.
        let past = UInt32(bytes.count + 64)
        bytes.replaceSubrange(8..<12, with: withUnsafeBytes(of: past.bigEndian, Array.init))
        let error = #expect(throws: DeviceTreeError.self) { try DeviceTree.parse(blob: bytes, file: "x.dtb").get() }
        #expect(error?.message.contains("bad offsets") == true || error?.message.contains("truncated") == true, "\(String(describing: error))")
        #expect(error?.location.property != nil)
    }

    @Test func randomCorruptionOfAValidBlobNeverCrashes() throws {
        let bytes = try Self.valid.get()
        var random = SplitMix64(state: 19)
        var accepted = 0
        // Bounded: 3000 mutated blobs, each with 1 to 8 bytes changed.
        for _ in 0..<3000 {
            var mutated = bytes
            for _ in 0...random.below(8) { mutated[random.below(mutated.count)] = UInt8(truncatingIfNeeded: random.next()) }
            if case .success(let tree) = DeviceTree.parse(blob: mutated, file: "fuzz.dtb") {
                accepted += 1
                _ = BoardImporter.importBoard(tree, options: ImportOptions(name: "fuzz", source: "fuzz.dtb"))
            }
        }
        #expect(accepted > 0, "no mutation survived libfdt's check: the importer was never fed a damaged tree")
    }

    @Test func controlCharactersInANodeNameAreEscapedInTheMessageNotSentToTheTerminal() throws {
        let uio = #"uio-rx@f80000000 { compatible = "generic-uio"; reg = <0xf 0x80000000 0 0x10000>; reg-names = "regs"; interrupts = <9 2 0 0>; };"#
        var bytes = try blob(of: board(axiDMA() + uio))
        // The node's name in the structure block, "uio-rx@...": its '-' becomes ESC, as a damaged or
        // hostile blob may have it (dtc itself would not write it).
        let name = Array("uio-rx@".utf8)
        let at = try #require((0...(bytes.count - name.count)).first { Array(bytes[$0..<($0 + name.count)]) == name })
        bytes[at + 3] = 0x1B
        let tree = try DeviceTree.parse(blob: bytes, file: "hostile.dtb").get()
        guard case .failure(let errors) = BoardImporter.importBoard(tree, options: ImportOptions(name: "t", source: "hostile.dtb")) else {
            Issue.record("a UIO node on a line that is no channel imported")
            return
        }
        let text = errors.description
        #expect(text.contains("/uio\\u{1B}rx@f80000000"), "\(text)")
        #expect(!text.unicodeScalars.contains("\u{1B}"))
        #expect(errors.all.first?.location.node == "/uio\u{1B}rx@f80000000", "the location itself keeps the name as it is")
    }

    @Test func anEmptyInputIsTruncated() {
        let error = #expect(throws: DeviceTreeError.self) { try DeviceTree.parse(blob: [], file: "empty.dtb").get() }
        #expect(error?.message.hasPrefix("truncated: 0 bytes") == true)
    }

    @Test func aHundredMegabyteFileIsRefusedAtOnceWithItsSize() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("huge.dtb").path
        // Sparse: 100 MB of nothing, so the test writes no data.
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, 100_000_000) == 0)
        let start = Date()
        guard case .failure(let errors) = DeviceTreeSource.load(path: path, includeDirectories: []) else {
            Issue.record("a 100 MB file was accepted")
            return
        }
        #expect(Date().timeIntervalSince(start) < 1)
        #expect(errors.description.contains("the file is 100000000 bytes (95.4 MiB)"), "\(errors)")
    }
}

@Suite("device tree sources")
struct DeviceTreeSourceTests {
    func load(_ files: [String: String], includes: [String] = []) throws -> Result<DeviceTreeInput, DeviceTreeErrors> {
        try withFiles(files) { directory in
            DeviceTreeSource.load(path: directory.appendingPathComponent("board.dts").path, includeDirectories: includes.map { directory.appendingPathComponent($0).path })
        }
    }

    @Test func aSyntaxErrorReportsDtcsFileAndLine() throws {
        let result = try withFiles(["board.dts": "/dts-v1/;\n/ {\n\tmodel = \"x\";\n\tbroken = <1 2\n};\n"]) { directory in
            (directory.path, DeviceTreeSource.load(path: directory.appendingPathComponent("board.dts").path, includeDirectories: []))
        }
        guard case .failure(let errors) = result.1 else { Issue.record("a broken DTS compiled"); return }
        let error = try #require(errors.all.first)
        #expect(error.location.file == result.0 + "/board.dts")
        #expect(error.location.line == 5)
        #expect(error.message == "dtc: syntax error")
    }

    @Test func aSyntaxErrorInAnIncludedFileNamesThatFile() throws {
        let result = try load(["board.dts": "/dts-v1/;\n/include/ \"soc.dtsi\"\n/ { };\n", "soc.dtsi": "/ {\n\tx = <1>\n};\n"])
        guard case .failure(let errors) = result else { Issue.record("a broken DTS compiled"); return }
        #expect(errors.all.first?.location.file.hasSuffix("soc.dtsi") == true, "\(errors)")
        #expect(errors.all.first?.location.line == 3)
    }

    @Test func aMissingIncludeNamesTheLineAndWhereDtcLooked() throws {
        let result = try load(["board.dts": "/dts-v1/;\n/include/ \"missing.dtsi\"\n/ { };\n"])
        guard case .failure(let errors) = result else { Issue.record("a DTS with a missing include compiled"); return }
        let error = try #require(errors.all.first)
        #expect(error.location.line == 2)
        #expect(error.message.contains("cannot open \"missing.dtsi\""))
        #expect(error.message.contains("each --include DIR"))
    }

    @Test func hashIncludeWithoutIncludeDirectoriesExplainsTheFix() throws {
        let result = try load(["board.dts": "/dts-v1/;\n#include <dt-bindings/interrupt-controller/irq.h>\n/ { };\n"])
        guard case .failure(let errors) = result else { Issue.record("#include compiled without cpp"); return }
        #expect(errors.all.first?.location.line == 2)
        #expect(errors.all.first?.message.contains("give --include DIR") == true)
    }

    @Test func hashIncludeWithAnIncludeDirectoryRunsThePreprocessorLikeTheKernel() throws {
        let files = [
            "board.dts": board(axiDMA(line: 99).replacingOccurrences(of: "99", with: "FPGA_DMA_IRQ")).replacingOccurrences(
                of: "/dts-v1/;", with: "/dts-v1/;\n#include <dt-bindings/fpga.h>"),
            "include/dt-bindings/fpga.h": "#define FPGA_DMA_IRQ 7\n",
        ]
        let input = try load(files, includes: ["include"]).get()
        let tree = try DeviceTree.parse(blob: input.blob, file: "board.dtb").get()
        let channel = try #require(tree.node(atPath: "/dma@f80000000/dma-channel@30"))
        #expect(try tree.interrupts(of: channel)?.first?.cells == [7, 2, 0, 0])
    }

    @Test func aMissingHeaderNamesTheFileTheLineAndTheFix() throws {
        let result = try load(["board.dts": "/dts-v1/;\n#include <dt-bindings/nowhere.h>\n/ { };\n", "include/.keep": ""], includes: ["include"])
        guard case .failure(let errors) = result else { Issue.record("a missing header compiled"); return }
        let error = try #require(errors.all.first)
        #expect(error.location.line == 2)
        #expect(error.message.hasPrefix("cpp: "))
        #expect(error.message.contains("add --include DIR"))
    }

    @Test func theLeadingCommentBecomesTheHeader() {
        #expect(DeviceTreeSource.leadingComment(of: "// one\n//\n// two\n\n// not this\n/dts-v1/;") == ["one", "", "two"])
        #expect(DeviceTreeSource.leadingComment(of: "/*\n * one\n * two\n */\n/dts-v1/;") == ["one", "two"])
        #expect(DeviceTreeSource.leadingComment(of: "/dts-v1/;\n// late") == [])
    }
}
