import Board
import CFuzzer
import Devices
import Glibc

/// The board profile loader under libFuzzer (`make fuzz`, Fuzz/README.md): any bytes as a profile.
/// It must give a profile or diagnostics located inside the input, never trap, never take seconds;
/// a profile it accepts must build into a board and render as `board show` does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    do throws(Diagnostics) {
        let profile = try BoardProfile.parse(text, file: "fuzz.yaml", registry: DeviceKinds.standard)
        let board = Board(profile: profile)
        _ = BoardReport(profile: board.profile).text
    } catch {
        expectLocated(error, in: text)
    }
    return 0
}

/// Every refusal has a diagnostic, each inside the input.
func expectLocated(_ diagnostics: Diagnostics, in text: String) {
    precondition(!diagnostics.isEmpty, "a refusal without a diagnostic")
    // libyaml breaks lines at LF, CR, CRLF, NEL, LS and PS: at most one line per such character.
    let lines = text.unicodeScalars.count(where: { ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains($0) }) + 2
    for diagnostic in diagnostics.all {
        precondition(diagnostic.location.file == "fuzz.yaml" && (1...lines).contains(diagnostic.location.line)
                     && diagnostic.location.column >= 1, "a diagnostic outside the input: \(diagnostic)")
    }
}

// SwiftPM links an executable target's top-level code as main (`--defsym main=<module>_main`),
// which takes the place of libFuzzer's; so this does what libFuzzer's main does.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
