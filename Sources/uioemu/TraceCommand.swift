import ArgumentParser
import TraceFiles

/// `uioemu trace hash FILE`: the trace hash of a `--trace` file, recomputed from its JSON lines (each
/// read back into its event and re-encoded in the hashed binary form, README "Traces"); equal to
/// the hash the run that wrote it printed. Exit 0 with the hash; 2 when the file cannot be read or
/// a line is not a canonical event (FILE:LINE:COLUMN and what was expected).
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace", abstract: "Work with canonical trace files (--trace).", subcommands: [Hash.self])

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash", abstract: "Print the trace hash of a JSON-lines trace file, as the run that wrote it printed it.")

        @Argument(help: "A canonical trace (JSON lines, as --trace writes).")
        var file: String

        func run() throws {
            do throws(TraceHasher.FileFailure) {
                print("\(try TraceHasher.hash(ofJSONLines: file))  \(file)")
            } catch {
                switch error {
                case let .cannotRead(error): throw OutputFiles.writeError(error)
                case let .badLine(path, line, failure): throw InputError(failure.message, path: "\(path):\(line):\(failure.column)")
                }
            }
        }
    }
}
