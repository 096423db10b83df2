import Foundation
import Testing

/// `uioemu sysfs export` into a directory that is not empty (issue 16: an old `uio5` survived next
/// to the new tree).
@Suite("sysfs export into an existing directory")
struct SysfsExportTests {
    func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-sysfs-\(UUID().uuidString)").path
    }

    @Test("a second export into the same directory is refused; --force replaces it, and an old uio5 is gone")
    func nonEmptyIsRefusedAndForceReplaces() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try runUIOEmu(["sysfs", "export", "--board", "p2020-fpga", root]).status == 0)
        try FileManager.default.createDirectory(atPath: root + "/class/uio/uio5", withIntermediateDirectories: true)

        let again = try runUIOEmu(["sysfs", "export", "--board", "p2020-fpga", root])
        #expect(again.status == 2)
        #expect(again.err == "\(root): error: not empty ('class'): expected a new or empty directory, or --force to replace an earlier export\n")
        #expect(FileManager.default.fileExists(atPath: root + "/class/uio/uio5"), "refused: nothing touched")

        let forced = try runUIOEmu(["sysfs", "export", "--board", "p2020-fpga", "--force", root])
        #expect(forced.status == 0, "\(forced.err)")
        #expect(!FileManager.default.fileExists(atPath: root + "/class/uio/uio5"))
        #expect(try String(contentsOfFile: root + "/class/uio/uio0/name", encoding: .utf8) == "axi-dma-s2mm\n")
    }

    @Test("--force leaves alone a directory holding more than an export")
    func forceReplacesOnlyAnExport() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/class", withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: root + "/notes.txt"))
        let r = try runUIOEmu(["sysfs", "export", "--board", "p2020-fpga", "--force", root])
        #expect(r.status == 2)
        #expect(r.err.contains("holds more than an earlier export ('class', 'notes.txt')"), "\(r.err)")
        #expect(FileManager.default.fileExists(atPath: root + "/notes.txt"))
    }

    @Test("a path that cannot be created is named with the errno in words")
    func fileSystemErrorsNameTheErrno() throws {
        let r = try runUIOEmu(["sysfs", "export", "--board", "p2020-fpga", "/proc/uioemu-no-such/sys"])
        #expect(r.status == 2)
        #expect(r.err == "/proc/uioemu-no-such: error: cannot create the directory: No such file or directory (errno 2)\n")
    }
}
