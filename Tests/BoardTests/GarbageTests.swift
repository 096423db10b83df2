import Board
import Testing

@Suite struct GarbageTests {
    /// 10,000 lines of random printable ASCII and YAML punctuation from a fixed seed.
    static func garbage(seed: UInt64) -> String {
        var random = SplitMix64(state: seed)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789 :-[]{}#&*!|>'\"%@`,?.\t")
        var lines: [String] = []
        for _ in 0..<10_000 {
            let length = random.below(60)
            lines.append(String((0..<length).map { _ in alphabet[random.below(alphabet.count)] }))
        }
        return lines.joined(separator: "\n")
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func theLoaderRejectsA10000LineGarbageFileWithAnError(seed: UInt64) {
        let found = diagnostics(of: Self.garbage(seed: seed), file: "garbage.yaml")
        #expect(!found.isEmpty)
        #expect(found.allSatisfy { $0.location.file == "garbage.yaml" && (1...10_001).contains($0.location.line) })
    }

    @Test func wellFormedYAMLWithGarbageKeysGetsOneErrorPerKey() {
        var random = SplitMix64(state: 42)
        let lines = (0..<10_000).map { index in "k\(index)x\(random.below(1000)): \(random.next())" }
        let found = diagnostics(of: lines.joined(separator: "\n"), file: "keys.yaml")
        #expect(found.filter { $0.message.hasPrefix("unknown key") }.count == 10_000)
        #expect(found.contains { $0.message.contains("missing key 'name'") })
    }
}
