import Foundation
import Testing
@testable import UIO

@Suite("sysfs export")
struct SysfsTreeTests {
    /// One line per file: `path: contents` (contents without the trailing newline).
    func render(_ boardName: String) throws -> String {
        let rig = Rig(boardName)
        for _ in 0..<2 { _ = try rig.uio.heap.allocate(size: 4096).get() }
        _ = try rig.uio.heap.allocate(size: 65536).get()
        return SysfsTree.files(for: rig.uio).map { "\($0.path): \($0.contents.dropLast())" }.joined(separator: "\n") + "\n"
    }

    @Test("the exported tree matches the golden tree, in the kernel's formats", arguments: ["p2020-fpga", "ml507-ppc440"])
    func matchesGolden(board: String) throws {
        let golden = repositoryRoot.appendingPathComponent("Tests/UIOTests/Golden/sysfs-\(board).txt")
        let actual = try render(board)
        if ProcessInfo.processInfo.environment["UIOEMU_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: golden, atomically: true, encoding: .utf8)
        }
        #expect(actual == (try String(contentsOf: golden, encoding: .utf8)))
    }

    @Test("every file ends in a newline, as sysfs attributes do")
    func newlines() throws {
        let rig = Rig()
        _ = try rig.uio.heap.allocate(size: 4096).get()
        #expect(SysfsTree.files(for: rig.uio).allSatisfy { $0.contents.hasSuffix("\n") })
    }
}
