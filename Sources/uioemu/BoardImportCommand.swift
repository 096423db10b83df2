import ArgumentParser
import DeviceTree
import Foundation

/// `uioemu board import <file.dts|file.dtb> [-o boards/NAME.yaml] [--include DIR]...`: a board
/// profile from a device tree. The profile goes to the file (or stdout), the summary and any
/// warnings to stderr; an input the importer cannot use exits 2 with located errors.
struct BoardImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Make a board profile from a device tree (.dts through dtc, or .dtb).")

    @Argument(help: "A device tree source (.dts) or blob (.dtb).")
    var file: String

    @Option(name: .shortAndLong, help: "Write the profile here (boards/NAME.yaml; NAME becomes its name). Default: stdout.")
    var output: String?

    @Option(name: .customLong("include"), help: "A directory for /include/ and #include (runs the C preprocessor first, as the kernel does). Repeatable.")
    var includeDirectories: [String] = []

    func run() throws {
        let name = DeviceTreeImport.profileName(forPath: output ?? file)
        var stderr = StandardError()
        let outcome: DeviceTreeImport.Outcome
        switch DeviceTreeImport.run(path: file, includeDirectories: includeDirectories, name: name) {
        case .success(let imported): outcome = imported
        case .failure(let errors):
            print(errors.description, to: &stderr)
            throw ExitCode(2)
        }
        for warning in outcome.board.warnings { print(warning.description, to: &stderr) }
        if let output {
            do throws(OutputFileError) {
                try FileTree.write(outcome.profileText, to: output)
            } catch {
                print(error.description, to: &stderr)
                throw ExitCode(2)
            }
            print("\(output): \(outcome.board.summary)", to: &stderr)
        } else {
            print(outcome.profileText, terminator: "")
            print(outcome.board.summary, to: &stderr)
        }
    }
}
