import Board
import DeviceTree
import Devices
import Foundation
import Glibc

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-dt-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `files` (name to text) into a fresh directory and runs `body` with its path.
func withFiles<T>(_ files: [String: String], _ body: (URL) throws -> T) throws -> T {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    for (name, text) in files {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
    return try body(directory)
}

/// The blob dtc makes of `source`.
func blob(of source: String) throws -> [UInt8] {
    try withFiles(["board.dts": source]) { directory in
        try DeviceTreeSource.load(path: directory.appendingPathComponent("board.dts").path, includeDirectories: []).get().blob
    }
}

/// The tree of `source`, compiled by dtc and read by libfdt.
func tree(of source: String) throws -> DeviceTree {
    try DeviceTree.parse(blob: try blob(of: source), file: "board.dtb").get()
}

/// `source` imported (not loaded back: see `importAndLoad`).
func importBoard(_ source: String) throws -> Result<ImportedBoard, DeviceTreeErrors> {
    BoardImporter.importBoard(try tree(of: source), options: ImportOptions(name: "test", source: "board.dts"))
}

/// The first error of importing `source` (nil when it imported).
func importError(_ source: String) throws -> DeviceTreeError? {
    if case .failure(let errors) = try importBoard(source) { return errors.all.first }
    return nil
}

/// `source` imported, written and loaded with the standard device kinds: what `board show` shows.
func importAndLoad(_ source: String) throws -> (board: ImportedBoard, profile: BoardProfile) {
    let board = try importBoard(source).get()
    let text = ProfileText.render(board)
    do throws(Diagnostics) {
        return (board, try BoardProfile.parse(text, file: "test.yaml", registry: DeviceKinds.standard))
    } catch {
        throw error
    }
}

/// A small board: an e500 with 36-bit addresses, 256 MiB of RAM, a 16 MiB pool, an MPIC, and
/// `body` inside the root node (an AXI DMA at 0xf_8000_0000 unless `body` replaces it).
func board(_ body: String = axiDMA(), mpicCells: Int = 4) -> String {
    """
    /dts-v1/;
    / {
        #address-cells = <2>;
        #size-cells = <2>;
        model = "test,board";
        interrupt-parent = <&mpic>;
        cpus {
            #address-cells = <1>;
            #size-cells = <0>;
            PowerPC,P2020@0 { device_type = "cpu"; reg = <0>; clock-frequency = <1000000000>; };
        };
        memory@0 { device_type = "memory"; reg = <0 0 0 0x10000000>; };
        reserved-memory {
            #address-cells = <2>;
            #size-cells = <2>;
            ranges;
            dma_pool: pool@f000000 { compatible = "shared-dma-pool"; reg = <0 0x0f000000 0 0x01000000>; no-map; };
        };
        mpic: pic@fffe40000 {
            interrupt-controller;
            #address-cells = <0>;
            #interrupt-cells = <\(mpicCells)>;
            reg = <0xf 0xffe40000 0 0x40000>;
            compatible = "fsl,mpic";
        };
    \(body)
    };
    """
}

/// An AXI DMA node at the root (two address cells) with one s2mm channel on MPIC line `line`.
func axiDMA(line: Int = 3, sense: Int = 2, extra: String = "", channelExtra: String = "") -> String {
    """
        dma@f80000000 {
            compatible = "xlnx,axi-dma-1.00.a";
            reg = <0xf 0x80000000 0 0x10000>;
            clock-frequency = <100000000>;
            \(extra)
            dma-channel@30 {
                compatible = "xlnx,axi-dma-s2mm-channel";
                interrupts = <\(line) \(sense) 0 0>;
                xlnx,datawidth = <32>;
                \(channelExtra)
            };
        };
    """
}

/// The built `uioemu` executable, next to the test bundle.
var uioemuExecutable: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("uioemu")
}

/// Runs `uioemu` with `arguments` from the repository root: exit status, stdout and stderr.
/// Through `posix_spawn` with the output in files, not `Process` and `Pipe` (see
/// Tests/ScenarioTests/Support.swift for why).
func runUIOEmu(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let stamp = "\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-dt-out-\(stamp)").path
    let err = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-dt-err-\(stamp)").path
    defer {
        unlink(out)
        unlink(err)
    }
    let command = "cd \(quote(repositoryRoot.path)) && " + ([uioemuExecutable.path] + arguments).map(quote).joined(separator: " ")
        + " >\(quote(out)) 2>\(quote(err))"
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return ((status >> 8) & 0xFF, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}

/// SplitMix64: the one small seeded generator the tests use.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
