import Board
import CFuzzer
import DeviceTree
import Devices
import Glibc

/// The device-tree reader under libFuzzer (`make fuzz`, Fuzz/README.md): any bytes as a DTB. It
/// must give a tree or one error, never trap; a tree it reads goes through the importer, and the
/// profile text that renders through the profile loader, as `uioemu board import` does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let blob = Array(UnsafeBufferPointer(start: data, count: count))
    guard case .success(let tree) = DeviceTree.parse(blob: blob, file: "fuzz.dtb") else { return 0 }
    guard case .success(let board) = BoardImporter.importBoard(tree, options: ImportOptions(name: "fuzz", source: "fuzz.dtb"))
    else { return 0 }
    do throws(Diagnostics) {
        _ = try BoardProfile.parse(ProfileText.render(board), file: "fuzz.yaml", registry: DeviceKinds.standard)
    } catch {
        // A rendered profile that does not load is the importer's own located error (DeviceTreeImport).
    }
    return 0
}

// SwiftPM links an executable target's top-level code as main (`--defsym main=<module>_main`),
// which takes the place of libFuzzer's; so this does what libFuzzer's main does.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
