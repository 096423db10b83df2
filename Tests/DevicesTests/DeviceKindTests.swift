import Board
import Devices
import Reactor
import Testing

/// A second device kind, declared entirely outside Devices: one read-only identification register.
struct IDRegisterKind: DeviceModelKind {
    struct Parameters: DeviceParameters {
        var value: UInt64
        var summary: String { "reads \(value)" }
    }

    final class Model: RegisterWindow {
        let value: UInt32
        init(value: UInt32) { self.value = value }
        override func read32(offset: UInt32) -> UInt32 { offset == 0 ? value : 0 }
    }

    var name: String { "id-register" }
    var keys: [String] { ["value"] }

    func parse(_ mapping: YAMLMapping, context: DeviceParseContext, _ diagnostics: inout Diagnostics) -> ParsedDevice? {
        guard let value = mapping.required("value", expecting: "a 32-bit value", &diagnostics)?.integer("a 32-bit value", in: 0...0xFFFF_FFFF, &diagnostics)
        else { return nil }
        return ParsedDevice(parameters: Parameters(value: value), interrupts: [])
    }

    func makeModel(
        spec: DeviceSpec, index: Int, board: Board, reactor: Reactor, random: inout SplitMix64, accessPolicy: DMAAccessPolicy
    ) -> RegisterWindow {
        Model(value: UInt32(spec.parameters(as: Parameters.self)!.value))
    }
}

@Suite("device kinds are registered in Devices, one place per device")
struct DeviceKindTests {
    @Test("every standard kind builds its own model")
    func standardKindsModel() {
        #expect(DeviceKinds.standard.names == ["axi-dma"])
        #expect(DeviceKinds.standard.kinds.values.allSatisfy { $0 is any DeviceModelKind })
    }

    @Test("a kind registered beside axi-dma is parsed, built and attached to its window with no change to Board or DeviceSet")
    func secondKind() throws {
        let text = testProfileText() + """
              - name: id
                kind: id-register
                base: 0x8010_0000
                size: 4 KiB
                bus-endianness: little
                value: 0x1234_5678

            """
        let kinds = DeviceKindRegistry([AXIDMAKind(), IDRegisterKind()])
        let board = Board(profile: try BoardProfile.parse(text, file: "two-kinds.yaml", registry: kinds))
        let reactor = Reactor(clock: .virtual)
        let devices = DeviceSet(board: board, reactor: reactor, seed: 1, kinds: kinds)
        #expect(devices.models.count == 2)
        #expect(devices.models[1] is IDRegisterKind.Model)
        #expect(devices.axiDMA(named: "dma") != nil)
        #expect(try board.bus.read32(at: PhysicalAddress(0x8010_0000), assuming: .little).get() == 0x1234_5678)
    }

    @Test("a device whose kind has no model in the set's registry stays unattached: its window faults as unmodelled")
    func unmodelledKind() throws {
        let board = Board(profile: try BoardProfile.parse(testProfileText(), file: "device-test.yaml", registry: DeviceKinds.standard))
        let devices = DeviceSet(board: board, reactor: Reactor(clock: .virtual), seed: 1, kinds: DeviceKindRegistry())
        #expect(devices.models.isEmpty)
        #expect(devices.axiDMA(named: "dma") == nil)
        guard case .failure = board.bus.read32(at: Bench.base, assuming: .little) else {
            Issue.record("an unmodelled window answered")
            return
        }
    }
}
