import Foundation
import SystemPackage
import Testing
@testable import LinuxUIO

@Suite("UIO device discovery in an exported sysfs tree")
struct UIODeviceLocatorTests {
    @Test("a device is found by its name file, with its sysfs and dev paths")
    func findsByName() throws {
        let tree = try ExportedTree()
        let s2mm = try tree.locator().locate(name: "axi-dma-s2mm")
        #expect(s2mm.number == 0)
        #expect(s2mm.sysfsPath == tree.sysfsRoot.appending("class/uio/uio0"))
        #expect(s2mm.devicePath == tree.devRoot.appending("uio0"))
        let mm2s = try tree.locator().locate(name: "axi-dma-mm2s")
        #expect(mm2s.number == 1)
        #expect(mm2s.devicePath == tree.devRoot.appending("uio1"))
    }

    @Test("map values are parsed exactly as the UIO layer exported them")
    func mapValues() throws {
        let tree = try ExportedTree()
        let node = try tree.locator().locate(name: "axi-dma-s2mm")
        let exported = tree.uio.device(named: "axi-dma-s2mm")!.maps
        #expect(node.maps.count == exported.count)
        for (parsed, map) in zip(node.maps, exported) {
            #expect(parsed == LinuxUIOMap(index: map.index, name: map.name, address: map.address.rawValue, size: map.size, offset: map.offset))
        }
        #expect(node.maps.first == LinuxUIOMap(index: 0, name: "registers", address: 0xf_ffb0_0000, size: 0x10000, offset: 0))
    }

    @Test("devices are tried in number order, uio10 after uio2")
    func numberOrder() throws {
        let tree = try ExportedTree()
        for number in [2, 10] {
            try tree.write("other-\(number)\n", to: "sys/class/uio/uio\(number)/name")
        }
        try tree.write("axi-dma-s2mm\n", to: "sys/class/uio/uio10/name")
        try tree.write("axi-dma-s2mm\n", to: "sys/class/uio/uio2/name")
        #expect(try tree.locator().locate(name: "axi-dma-s2mm").number == 0)
        try tree.write("renamed\n", to: "sys/class/uio/uio0/name")
        #expect(try tree.locator().locate(name: "axi-dma-s2mm").number == 2)
    }

    @Test("a name that no device has is an error listing what is there")
    func nameNotFound() throws {
        let tree = try ExportedTree()
        let error = linuxError { try tree.locator().locate(name: "axi-dma-s2mn") }
        #expect(error == .deviceNotFound(name: "axi-dma-s2mn", directory: tree.sysfsRoot.appending("class/uio").string,
                                         available: ["uio0 'axi-dma-s2mm'", "uio1 'axi-dma-mm2s'"]))
        #expect(error?.description == "\(tree.path("sys/class/uio")): expected a uioX whose name is 'axi-dma-s2mn', found uio0 'axi-dma-s2mm', uio1 'axi-dma-mm2s'")
    }

    @Test("a missing class/uio directory (no uio module) is an opendir ENOENT on that path")
    func missingClassDirectory() throws {
        let tree = try ExportedTree()
        try tree.remove("sys/class/uio")
        let error = linuxError { try tree.locator().locate(name: "axi-dma-s2mm") }
        #expect(error == .systemCall("opendir", path: tree.path("sys/class/uio"), .noSuchFileOrDirectory))
        #expect(error?.description.hasPrefix("\(tree.path("sys/class/uio")): opendir failed: ") == true)
    }

    @Test("an unreadable name file is an error naming it")
    func unreadableName() throws {
        let tree = try ExportedTree()
        try tree.makeUnreadable("sys/class/uio/uio0/name")
        #expect(linuxError { try tree.locator().locate(name: "axi-dma-mm2s") }
            == .systemCall("read", path: tree.path("sys/class/uio/uio0/name"), .isDirectory))
    }

    @Test("a forced EACCES on a map attribute names that attribute")
    func forcedAccessError() throws {
        let tree = try ExportedTree()
        let recorder = CallRecorder()
        recorder.failures = [("open", "uio0/maps/map0/offset", .permissionDenied)]
        #expect(linuxError { try tree.locator(recorder.seam).locate(name: "axi-dma-s2mm") }
            == .systemCall("open", path: tree.path("sys/class/uio/uio0/maps/map0/offset"), .permissionDenied))
        // Every descriptor opened was closed again.
        #expect(recorder.count("open") - 1 == recorder.count("close"))
    }

    @Test("wrong formats name the file, the expected format and what was found",
          arguments: [
              ("size", "banana\n", "a hex size like 0x10000", "banana"),
              ("size", "65536\n", "a hex size like 0x10000", "65536"),
              ("addr", "fffb0000\n", "a hex address like 0x00000000fffb0000", "fffb0000"),
              ("addr", "0x\n", "a hex address like 0x00000000fffb0000", "0x"),
              ("addr", "0x10000000000000000\n", "a hex address like 0x00000000fffb0000", "0x10000000000000000"),
              ("offset", "0x0\n0x1\n", "a hex offset like 0x0", "0x0\\n0x1"),
              ("offset", "", "a hex offset like 0x0", ""),
          ])
    func wrongFormat(file: String, contents: String, expected: String, found: String) throws {
        let tree = try ExportedTree()
        try tree.write(contents, to: "sys/class/uio/uio0/maps/map0/\(file)")
        let path = tree.path("sys/class/uio/uio0/maps/map0/\(file)")
        let error = linuxError { try tree.locator().locate(name: "axi-dma-s2mm") }
        #expect(error == .format(path: path, expected: expected, found: found))
        #expect(error?.description == "\(path): expected \(expected), found '\(found)'")
    }

    @Test("a garbage attribute is echoed as a short escaped excerpt: no raw escape sequence or byte reaches the terminal")
    func garbageIsEscaped() throws {
        let tree = try ExportedTree()
        let garbage = "\u{1B}[2J\u{1B}]0;owned\u{07}" + String(repeating: "x", count: 5000) + "\n"
        try tree.write(garbage, to: "sys/class/uio/uio0/maps/map0/size")
        let error = linuxError { try tree.locator().locate(name: "axi-dma-s2mm") }
        let description = error?.description ?? ""
        #expect(description.hasSuffix("found '\\u{1B}[2J\\u{1B}]0;owned\\u{7}" + String(repeating: "x", count: 46) + "... (5014 characters)'"),
                "\(description)")
        #expect(!description.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        try tree.write("\u{1B}[31mred\n", to: "sys/class/uio/uio0/name")
        let missing = linuxError { try tree.locator().locate(name: "nothing") }?.description ?? ""
        #expect(missing.contains("uio0 '\\u{1B}[31mred'"), "\(missing)")
    }

    @Test("an empty device name is a format error; an empty map name is what uio.c prints for none")
    func emptyNames() throws {
        let tree = try ExportedTree()
        try tree.write("\n", to: "sys/class/uio/uio1/maps/map0/name")
        #expect(try tree.locator().locate(name: "axi-dma-mm2s").maps.first?.name == "")
        try tree.write("\n", to: "sys/class/uio/uio0/name")
        #expect(linuxError { try tree.locator().locate(name: "axi-dma-mm2s") }
            == .format(path: tree.path("sys/class/uio/uio0/name"), expected: "a name on one line", found: ""))
    }

    @Test("a device without a maps directory has no maps, and mapping one says which exist")
    func noMaps() throws {
        let tree = try ExportedTree()
        try tree.remove("sys/class/uio/uio0/maps")
        let node = try tree.locator().locate(name: "axi-dma-s2mm")
        #expect(node.maps.isEmpty)
        #expect(linuxError { try node.mapRegisters() } == .noSuchMap(path: tree.path("sys/class/uio/uio0/maps"), index: 0, available: []))
    }

    @Test("map N is at mmap offset N × page size, whole pages covering offset + size")
    func mmapRange() throws {
        let path = FilePath("/sys/class/uio/uio0/maps/map3")
        let map = LinuxUIOMap(index: 3, name: "r", address: 0x1_0000_0100, size: 0x1000, offset: 0x100)
        let range = try map.mmapRange(pageSize: 4096, path: path)
        #expect(range.fileOffset == 3 * 4096)
        #expect(range.length == 8192)
        #expect(try LinuxUIOMap(index: 0, name: "r", address: 0, size: 1, offset: 0).mmapRange(pageSize: 65536, path: path).length == 65536)
    }

    @Test("map values that cannot be mapped are refused before mmap")
    func invalidMaps() {
        let path = FilePath("/sys/class/uio/uio0/maps/map0")
        func error(_ map: LinuxUIOMap, pageSize: Int = 4096) -> LinuxUIOError? {
            linuxError { try map.mmapRange(pageSize: pageSize, path: path) }
        }
        #expect(error(LinuxUIOMap(index: 0, name: "", address: 0, size: 0, offset: 0))
            == .invalidMap(path: path.string + "/size", reason: "expected a positive size, found 0 (the kernel lists no map of size 0)"))
        #expect(error(LinuxUIOMap(index: 0, name: "", address: 0, size: 16, offset: 0x1000))
            == .invalidMap(path: path.string + "/offset", reason: "expected an offset within the first page (below 0x1000), found 0x1000"))
        #expect(error(LinuxUIOMap(index: 0, name: "", address: 0, size: .max, offset: 1))
            == .invalidMap(path: path.string + "/size", reason: "expected a size that fits the address space, found 0xffffffffffffffff"))
        #expect(error(LinuxUIOMap(index: 0, name: "", address: 0, size: 16, offset: 0), pageSize: 3000)
            == .invalidMap(path: path.string, reason: "expected a power-of-two page size from sysconf(_SC_PAGESIZE), found 3000"))
    }
}
