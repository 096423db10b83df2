import Board
import CFuzzer
import Glibc
import Scenario

/// The scenario loader under libFuzzer (`make fuzz`, Fuzz/README.md): any bytes as a scenario
/// file. It must give a scenario or diagnostics located inside the input, never trap, never take
/// seconds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    do throws(Diagnostics) {
        _ = try ScenarioParser.parse(text, file: "fuzz.yaml")
    } catch {
        precondition(!error.isEmpty, "a refusal without a diagnostic")
        // libyaml breaks lines at LF, CR, CRLF, NEL, LS and PS: at most one line per such character.
    let lines = text.unicodeScalars.count(where: { ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains($0) }) + 2
        for diagnostic in error.all {
            precondition(diagnostic.location.file == "fuzz.yaml" && (1...lines).contains(diagnostic.location.line)
                         && diagnostic.location.column >= 1, "a diagnostic outside the input: \(diagnostic)")
        }
    }
    return 0
}

// SwiftPM links an executable target's top-level code as main (`--defsym main=<module>_main`),
// which takes the place of libFuzzer's; so this does what libFuzzer's main does.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
