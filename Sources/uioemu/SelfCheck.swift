import ArgumentParser
import Reactor

struct SelfCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-check",
        abstract: "Exercise the reactor in virtual and real time and print what happened."
    )

    func run() throws {
        let steps = ReactorSelfCheck.run()
        let width = steps.map(\.name.count).max() ?? 0
        for step in steps {
            let name = step.name.padding(toLength: width, withPad: " ", startingAt: 0)
            print("\(step.ok ? "ok  " : "FAIL") \(name)  \(step.detail)")
        }
        let failed = steps.filter { !$0.ok }.count
        print(failed == 0 ? "reactor self-check: all \(steps.count) steps ok" : "reactor self-check: \(failed) of \(steps.count) steps FAILED")
        if failed > 0 { throw ExitCode.failure }
    }
}
