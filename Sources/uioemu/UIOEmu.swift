import ArgumentParser
import Glibc

@main
struct UIOEmu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uioemu",
        abstract: "Run a userspace UIO DMA driver against an emulated PowerPC board with an FPGA AXI DMA block.",
        version: "0.1.0",
        subcommands: [SelfCheck.self, BoardsCommand.self, BoardCommand.self, ValidateCommand.self, SysfsCommand.self, RunCommand.self, PlayCommand.self, AttachCommand.self, DriverCommand.self]
    )

    /// Parses and runs like `ParsableCommand.main()`, except that every bad-input error exits with 2
    /// (the project's convention for "your input is wrong"), not ArgumentParser's 64.
    /// Commands that want another status throw an `ExitCode`.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            if exitCode(for: error) == .success {
                exit(withError: error)  // --help, --version
            }
            var stderr = StandardError()
            print(fullMessage(for: error), to: &stderr)
            Glibc.exit(2)
        }
    }
}

/// `print(..., to: &stderr)`.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        _ = Glibc.write(2, &bytes, bytes.count)
    }
}
