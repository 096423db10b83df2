import ArgumentParser
import Reactor

struct SelfCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-check",
        abstract: "Exercise the reactor in both clocks and print what happened."
    )
    func run() throws {
        let r = Reactor(clock: .virtual)
        r.schedule(after: .seconds(3600)) { print("fired at \(r.now)") }
        r.run()
    }
}
