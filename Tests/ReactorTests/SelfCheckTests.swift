import Testing
@testable import Reactor

@Suite("uioemu self-check (the first thing make run does)", .serialized)
struct SelfCheckTests {
    @Test("every step of the reactor self-check passes, and says what it saw")
    func everyStepPasses() {
        let steps = ReactorSelfCheck.run()
        #expect(steps.count == 7)
        for step in steps {
            #expect(step.ok, "\(step.name): \(step.detail)")
            #expect(!step.detail.isEmpty)
        }
    }
}
