import ArgumentParser

// Placeholders, replaced by the Board layer's commands.
struct BoardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "boards", abstract: "List the shipped boards.")
}
struct BoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "board", abstract: "Inspect a board profile.")
}
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check profiles for errors.")
}
