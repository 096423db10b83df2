import ArgumentParser
import Trace
import TraceFiles

/// `uioemu diff A.jsonl B.jsonl`: the first event where two canonical traces differ, with a few
/// events of context and the keys that differ. Exit 0: the same events; 1: they differ; 2: a file
/// cannot be read.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Show the first event where two canonical traces (--trace files) differ.")

    @Argument(help: "The first trace (JSON lines, as --trace writes).")
    var a: String

    @Argument(help: "The second trace.")
    var b: String

    func run() throws {
        let readerA: LineReader, readerB: LineReader
        do throws(TraceError) {
            readerA = try LineReader(path: a)
            readerB = try LineReader(path: b)
        } catch {
            throw OutputFiles.writeError(error)
        }
        let difference = TraceDiff.compare(readerA.next, readerB.next)
        for reader in [readerA, readerB] where reader.failure != 0 {
            throw OutputFiles.writeError(.cannotRead(path: reader.path, errno: reader.failure))
        }
        guard let d = difference else {
            print("\(a) and \(b): the same events")
            return
        }
        let when = d.boardTimeNanoseconds.map { ", board time \($0) ns" } ?? ""
        print("\(a) and \(b) differ at event \(d.event) (line \(d.event)\(when)):")
        for (offset, line) in d.before.enumerated() { print("  \(d.event - d.before.count + offset)  \(line)") }
        print("- \(d.event)  \(d.a ?? "(\(a) ends here)")")
        print("+ \(d.event)  \(d.b ?? "(\(b) ends here)")")
        if !d.differingKeys.isEmpty { print("  differs in: \(d.differingKeys.joined(separator: "; "))") }
        for (offset, line) in d.afterA.enumerated() { print("- \(d.event + 1 + offset)  \(line)") }
        for (offset, line) in d.afterB.enumerated() { print("+ \(d.event + 1 + offset)  \(line)") }
        throw ExitCode.failure
    }
}
