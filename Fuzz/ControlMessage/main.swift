import Attach
import CFuzzer
import Glibc

/// The attach control-socket decoder under libFuzzer (`make fuzz`, Fuzz/README.md): any bytes as
/// one packet from a child. It must decode or name what is wrong, never trap; what it decodes must
/// encode into a packet that decodes again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    do throws(ControlMessage.DecodeError) {
        let message = try ControlMessage.decode(bytes)
        let again = try ControlMessage.decode(message.encoded())
        switch message {
        case .welcome, .descriptor: precondition(again == message, "\(message) does not survive encoding")
        case .hello, .refused: break  // names are cut to their field and end at a NUL on the way
        }
    } catch {
        precondition(!error.message.isEmpty)
    }
    return 0
}

/// With UIOEMU_FUZZ_SEEDS=DIR, writes one encoded packet of each message type into DIR and exits:
/// the seed corpus comes from the encoder itself, so it follows the protocol's version.
func writeSeeds(into directory: String) -> Int32 {
    let seeds: [(String, ControlMessage)] = [
        ("hello", .hello(.init(pid: 4242, parentPid: 1, threadID: 4242, hostIsX86_64: true, name: "axidma-rx"))),
        ("welcome", .welcome(flags: 1, mailboxBytes: 4096, poolPhysicalBase: 0x3c00_0000, poolBytes: 64 << 20, pageBytes: 4096)),
        ("descriptor", .descriptor(handle: 3, purpose: 1)),
        ("refused", .refused("the preload library and uioemu come from different builds")),
    ]
    for (name, message) in seeds {
        let packet = message.encoded()
        guard let file = fopen("\(directory)/\(name).bin", "w") else {
            perror("\(directory)/\(name).bin")
            return 2
        }
        _ = packet.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    return 0
}

if let directory = getenv("UIOEMU_FUZZ_SEEDS") {
    exit(writeSeeds(into: String(cString: directory)))
}
// SwiftPM links an executable target's top-level code as main (`--defsym main=<module>_main`),
// which takes the place of libFuzzer's; so this does what libFuzzer's main does.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
