/// What `uioemu boards` shows: one row per profile. A pure function of the loaded profiles.
public struct BoardListing: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var description: String
        public var cpu: String
        public var interruptController: String
        public var devices: [String]
        public var file: String
    }

    public var boards: [Entry]

    public init(profiles: [BoardProfile]) {
        boards = profiles.sorted { $0.name < $1.name }.map { profile in
            Entry(
                name: profile.name, description: profile.description,
                cpu: "\(profile.cpu.cores)x \(profile.cpu.core) @ \(Units.frequency(profile.cpu.clockHz))",
                interruptController: "\(profile.interruptController.kind.rawValue) (\(profile.interruptController.lineCount) lines)",
                devices: profile.devices.map { "\($0.name) (\($0.kind))" },
                file: profile.file)
        }
    }

    public var text: String {
        TextTable.render(
            header: ["NAME", "CPU", "INTERRUPT CONTROLLER", "DEVICES", "FILE"],
            rows: boards.map { [$0.name, $0.cpu, $0.interruptController, $0.devices.joined(separator: ", "), $0.file] })
    }
}
