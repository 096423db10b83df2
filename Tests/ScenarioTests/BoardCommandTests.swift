import Foundation
import Testing

/// `uioemu sysfs export` and `uioemu driver` as a user runs them: the commands only parse, call the
/// library (`UIOSystem.withBuffers`, `RealBoardWorkload`) and print.
@Suite("Real-board commands")
struct BoardCommandTests {
    @Test("sysfs export writes the board's UIO nodes and the buffers asked for; driver finds them and names the missing device node")
    func exportThenDriver() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-board-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let sys = root.appendingPathComponent("sys").path
        let export = try runUIOEmu(["sysfs", "export", "--board", "p2020-fpga", "--buffers", "2", sys])
        #expect(export.status == 0, "\(export.err)")
        #expect(export.out.contains("2 u-dma-buf buffer(s)"))
        let name = try String(contentsOfFile: sys + "/class/uio/uio0/name", encoding: .utf8)
        #expect(name == "axi-dma-s2mm\n")
        #expect(FileManager.default.fileExists(atPath: sys + "/class/u-dma-buf/udmabuf1/phys_addr"))

        // The sysfs tree is there, /dev is not: exit 2, naming the device node it could not open.
        let dev = root.appendingPathComponent("dev").path
        let driver = try runUIOEmu(["driver", "--uio", "axi-dma-s2mm", "--udmabuf", "udmabuf0", "--udmabuf", "udmabuf1",
                                    "--count", "1", "--sysfs-root", sys, "--dev-root", dev])
        #expect(driver.status == 2)
        #expect(driver.err.contains(dev + "/uio0"), "\(driver.err)")
    }

    @Test("sysfs export of more buffers than the DMA pool holds exits 2 naming the first that did not fit")
    func exportTooMany() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-board-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let export = try runUIOEmu(["sysfs", "export", "--board", "p2020-fpga", "--buffers", "1024", "--buffer-size", "1 MiB", root.path])
        #expect(export.status == 2)
        #expect(export.err.contains("buffer "), "\(export.err)")
    }
}
