import Board
import Testing

/// A kind with one key, standing in for a device kind the board has never heard of.
struct ScratchKind: DeviceKind {
    struct Parameters: DeviceParameters {
        var words: UInt64
        var summary: String { "\(words) words" }
    }

    var name: String { "scratch-ram" }
    var keys: [String] { ["words"] }

    func parse(_ mapping: YAMLMapping, context: DeviceParseContext, _ diagnostics: inout Diagnostics) -> ParsedDevice? {
        guard let words = mapping.required("words", expecting: "a word count", &diagnostics)?.integer("a word count", in: 1...1024, &diagnostics)
        else { return nil }
        return ParsedDevice(parameters: Parameters(words: words), interrupts: [])
    }
}

@Suite("device kinds come from the registry the loader is given")
struct DeviceKindRegistryTests {
    func load(_ text: String, kinds: [any DeviceKind]) -> Result<BoardProfile, Diagnostics> {
        do throws(Diagnostics) {
            return .success(try BoardProfile.parse(text, file: "test.yaml", registry: DeviceKindRegistry(kinds)))
        } catch {
            return .failure(error)
        }
    }

    @Test("the board knows no kind of its own: without axi-dma in the registry, kind axi-dma is refused where it is named")
    func noBuiltInKinds() throws {
        guard case .failure(let diagnostics) = load(profile(), kinds: [ScratchKind()]) else {
            Issue.record("axi-dma loaded without being registered")
            return
        }
        let atKind = diagnostics.all.first { $0.location.description == "test.yaml:20:11" }
        #expect(atKind?.message.contains("expected a device kind: 'scratch-ram'") == true, "\(diagnostics)")
    }

    @Test("a registered kind reads its own keys into its own parameters")
    func registeredKindParses() throws {
        // The DMA becomes a scratch RAM: its kind, its one key, no interrupt for the UIO node.
        var replacements: [Int: String?] = [20: "    kind: scratch-ram", 24: "    words: 4", 34: nil]
        for line in 25...30 { replacements[line] = .some(nil) }
        let board = try load(profile(replacing: replacements), kinds: [ScratchKind()]).get()
        #expect(board.devices[0].kind == "scratch-ram")
        #expect(board.devices[0].parameters(as: ScratchKind.Parameters.self)?.words == 4)
        #expect(board.devices[0].parameters.summary == "4 words")
    }
}
