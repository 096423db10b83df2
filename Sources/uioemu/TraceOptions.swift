import ArgumentParser
import Foundation
import Trace
import TraceFiles

/// The trace options `run`, `play` and `attach` share, spelt and meaning the same on each: the
/// three files, and the hash on or off (its default is each command's: on for `play`, whose
/// scenarios can pin a hash; off for `run` and `attach`, where tracing costs the hot path).
struct TraceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write the canonical event trace (JSON lines, board time in ns) to FILE.", valueName: "FILE"))
    var trace: String?

    @Option(help: ArgumentHelp("Write a Chrome/Perfetto trace-event JSON file (open it in ui.perfetto.dev).", valueName: "FILE"))
    var perfetto: String?

    @Option(help: ArgumentHelp("Write a VCD waveform of the interrupt lines, DMA status bits and driver states (GTKWave).", valueName: "FILE"))
    var vcd: String?

    @Flag(inversion: .prefixedNo, help: "Compute and print the SHA-256 of the canonical trace (default: on for play, off for run and attach).")
    var traceHash: Bool?

    var wantsFiles: Bool { trace != nil || perfetto != nil || vcd != nil }

    /// What to record, nil for nothing; `rename` maps each file path (play inserts the scenario's name).
    func tracerOptions(hashByDefault: Bool, rename: (String) -> String = { $0 }) -> Tracer.Options? {
        let options = Tracer.Options(hashing: traceHash ?? hashByDefault, jsonLinesPath: trace.map(rename),
                                     perfettoPath: perfetto.map(rename), vcdPath: vcd.map(rename))
        return options.isEmpty ? nil : options
    }

    /// The files these options write, with the option that names each.
    func outputs(rename: (String) -> String = { $0 }) -> [OutputFiles.Output] {
        [("--trace", trace), ("--perfetto", perfetto), ("--vcd", vcd)].compactMap { option, path in
            path.map { OutputFiles.Output(option: option, path: rename($0)) }
        }
    }
}

/// The files a command writes, checked before anything runs: none may be one of its inputs (a
/// scenario, a board profile), and no two may be the same file (exit 2, naming both).
enum OutputFiles {
    struct Output {
        let option: String
        let path: String
    }

    static func check(_ outputs: [Output], inputs: [String]) throws {
        var seen: [(output: Output, identity: String)] = []
        let inputIdentities = inputs.map { (path: $0, identity: identity(of: $0)) }
        for output in outputs {
            let id = identity(of: output.path)
            if let input = inputIdentities.first(where: { $0.identity == id }) {
                throw InputError("\(output.option) would overwrite the input \(input.path): expected a path that is not one of the inputs",
                                 path: output.path)
            }
            if id != "/dev/null", let earlier = seen.first(where: { $0.identity == id }) {
                throw InputError("\(output.option) and \(earlier.output.option) name the same file: expected a path for each",
                                 path: output.path)
            }
            seen.append((output, id))
        }
    }

    /// The file a path names: its real path (symlinks resolved) when it exists, else its parent's
    /// real path and its name.
    static func identity(of path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if let real = realPath(url.path) { return real }
        let parent = realPath(url.deletingLastPathComponent().path) ?? url.deletingLastPathComponent().path
        return (parent as NSString).appendingPathComponent(url.lastPathComponent)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A trace file that could not be written, as the command reports it (exit 2).
    static func writeError(_ error: TraceError) -> InputError {
        switch error {
        case let .cannotOpen(path, errno): InputError("cannot open for writing: \(String(cString: strerror(errno)))", path: path)
        case let .writeFailed(path, errno): InputError("I/O error writing the trace: \(String(cString: strerror(errno)))", path: path)
        case let .cannotRead(path, errno): InputError("cannot read: \(String(cString: strerror(errno)))", path: path)
        }
    }
}
