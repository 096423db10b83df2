/// dtc's and cpp's error messages as located errors: their own file and line (a preprocessed file's
/// line markers already point back at the original files), the node path when dtc names one, and a
/// way out for the common mistakes (an `#include` without the preprocessor, a missing include file).
enum ToolMessages {
    /// `Error: file.dts:5.1-2 syntax error` (dtc's parser).
    nonisolated(unsafe) static let dtcError = #/^Error: (.+?):(\d+)\.(\d+)(?:-[\d.]+)? (.*)$/#
    /// `file.dts:2.3-23: ERROR (phandle_references): /node: message` (dtc's checks).
    nonisolated(unsafe) static let dtcCheck = #/^(.+?):(\d+)\.(\d+)(?:-[\d.]+)?: ERROR \(([^)]*)\): (?:(/\S*): )?(.*)$/#
    /// `FATAL ERROR: Couldn't open "x.dtsi": No such file or directory`.
    nonisolated(unsafe) static let dtcOpen = #/^FATAL ERROR: Couldn't open "(.*)": (.*)$/#
    /// `file.dts:2:27: fatal error: x.h: No such file or directory` (cpp).
    nonisolated(unsafe) static let cppError = #/^(.+?):(\d+):(\d+): (?:fatal )?error: (.*)$/#

    static func errors(_ output: String, tool: String, input: String, text: String) -> [DeviceTreeError] {
        var errors: [DeviceTreeError] = []
        let lines = output.split(separator: "\n").map(String.init)
        for line in lines {
            if let match = line.wholeMatch(of: dtcError) {
                let location = DeviceTreeLocation(file: String(match.1), line: Int(match.2), column: Int(match.3))
                errors.append(DeviceTreeError("dtc: \(match.4)\(hint(at: location, input: input, text: text))", at: location))
            } else if let match = line.wholeMatch(of: dtcCheck) {
                let location = DeviceTreeLocation(file: String(match.1), node: match.5.map(String.init), line: Int(match.2), column: Int(match.3))
                errors.append(DeviceTreeError("dtc (\(match.4)): \(match.6)", at: location))
            } else if let match = line.wholeMatch(of: dtcOpen) {
                let name = String(match.1)
                let number = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("\"\(name)\"") }.map { $0 + 1 }
                errors.append(DeviceTreeError(
                    "dtc: cannot open \"\(name)\" (\(match.2)): /include/ searches the DTS's directory and each --include DIR; add the directory that holds it",
                    at: DeviceTreeLocation(file: input, line: number, column: number.map { _ in 1 })))
            } else if tool == "cpp", let match = line.wholeMatch(of: cppError) {
                let message = String(match.4)
                let missing = message.contains("No such file") || message.contains("no include path")
                let fix = missing ? ": add --include DIR for the directory that holds it (for <dt-bindings/...>, the kernel's include/ or scripts/dtc/include-prefixes)" : ""
                errors.append(DeviceTreeError(
                    "cpp: \(message)\(fix)", at: DeviceTreeLocation(file: String(match.1), line: Int(match.2), column: Int(match.3))))
            }
        }
        if errors.isEmpty {
            let shown = lines.filter { !$0.isEmpty }.prefix(5).joined(separator: "; ")
            errors.append(DeviceTreeError("\(tool) failed: \(shown.isEmpty ? "no message" : shown)", at: DeviceTreeLocation(file: input)))
        }
        return errors
    }

    /// For a syntax error on an `#include` line: the preprocessor was not run.
    static func hint(at location: DeviceTreeLocation, input: String, text: String) -> String {
        guard location.file == input, let line = location.line else { return "" }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count, lines[line - 1].trimmingSpaces.hasPrefix("#include") else { return "" }
        return " (#include needs the C preprocessor: give --include DIR)"
    }
}
