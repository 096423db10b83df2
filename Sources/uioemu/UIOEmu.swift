import ArgumentParser
import Glibc

@main
struct UIOEmu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uioemu",
        abstract: "Run a userspace UIO DMA driver against an emulated PowerPC board with an FPGA AXI DMA block.",
        version: "0.1.0",
        subcommands: [SelfCheck.self, BoardsCommand.self, BoardCommand.self, ValidateCommand.self, SysfsCommand.self, RunCommand.self,
                      PlayCommand.self, ExploreCommand.self, AttachCommand.self, DriverCommand.self, DiffCommand.self, TraceCommand.self]
    )

    /// Parses and runs like `ParsableCommand.main()`, except that every bad-input error exits with 2
    /// (the project's convention for "your input is wrong"), not ArgumentParser's 64; a usage error
    /// is followed by the usage line, an `InputError` (a board nobody has, a file that cannot be
    /// written) is not. Commands that want another status throw an `ExitCode`.
    static func main() {
        do {
            var command = try parseAsRoot(joinNegativeValues(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch let error as InputError {
            var stderr = StandardError()
            print(error.description, to: &stderr)
            Glibc.exit(2)
        } catch {
            if exitCode(for: error) == .success {
                exit(withError: error)  // --help, --version
            }
            var stderr = StandardError()
            print(fullMessage(for: error), to: &stderr)
            Glibc.exit(2)
        }
    }

    /// `--seed -1` as `--seed=-1`: ArgumentParser reads a value that starts with a dash as another
    /// option (and reports a missing value); joined, the option's own check says "must be ≥ 0".
    /// Nothing after `--` (an attached program's arguments) is touched.
    static func joinNegativeValues(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {  // bounded: each turn consumes one or two arguments
            let argument = arguments[index]
            if argument == "--" {
                result += arguments[index...]
                break
            }
            let next = index + 1 < arguments.count ? arguments[index + 1] : ""
            if argument.hasPrefix("--"), !argument.contains("="), next.count > 1, next.hasPrefix("-"),
               next.dropFirst().first.map({ $0.isNumber || $0 == "." }) == true {
                result.append("\(argument)=\(next)")
                index += 2
            } else {
                result.append(argument)
                index += 1
            }
        }
        return result
    }
}

/// `print(..., to: &stderr)`.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        _ = Glibc.write(2, &bytes, bytes.count)
    }
}
