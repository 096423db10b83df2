/// What `uioemu boards` shows: one row per profile. A pure function of the loaded profiles. The
/// `--json` form holds fields (the CPU's core, count and clock in Hz; the controller's kind and
/// line count; each device's name and kind), the text form renders them for people.
public struct BoardListing: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public struct CPU: Codable, Sendable, Equatable {
            public var core: String
            public var cores: Int
            public var clockHz: UInt64
        }

        public struct InterruptController: Codable, Sendable, Equatable {
            public var kind: String
            public var lines: Int
        }

        public struct Device: Codable, Sendable, Equatable {
            public var name: String
            public var kind: String
        }

        public var name: String
        public var description: String
        public var cpu: CPU
        public var interruptController: InterruptController
        public var devices: [Device]
        public var file: String
    }

    public var boards: [Entry]

    public init(profiles: [BoardProfile]) {
        boards = profiles.sorted { $0.name < $1.name }.map { profile in
            Entry(
                name: profile.name, description: profile.description,
                cpu: .init(core: profile.cpu.core, cores: profile.cpu.cores, clockHz: profile.cpu.clockHz),
                interruptController: .init(kind: profile.interruptController.kind.rawValue, lines: profile.interruptController.lineCount),
                devices: profile.devices.map { .init(name: $0.name, kind: "\($0.kind)") },
                file: profile.file)
        }
    }

    public var text: String {
        TextTable.render(
            header: ["NAME", "CPU", "INTERRUPT CONTROLLER", "DEVICES", "FILE"],
            rows: boards.map { entry in
                [entry.name, "\(entry.cpu.cores)x \(entry.cpu.core) @ \(Units.frequency(entry.cpu.clockHz))",
                 "\(entry.interruptController.kind) (\(entry.interruptController.lines) lines)",
                 entry.devices.map { "\($0.name) (\($0.kind))" }.joined(separator: ", "), entry.file]
            })
    }
}
