import Board
import Devices
import Foundation
import Scenario

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func profileText(_ name: String) -> String {
    try! String(contentsOf: repositoryRoot.appendingPathComponent("boards/\(name).yaml"), encoding: .utf8)
}

func profile(_ name: String = "p2020-fpga", editing edit: (String) -> String = { $0 }) -> BoardProfile {
    do throws(Diagnostics) {
        return try BoardProfile.parse(edit(profileText(name)), file: "\(name).yaml", registry: DeviceKinds.standard)
    } catch {
        fatalError("profile does not load: \(error)")
    }
}

/// The P2020 with the S2MM line made rising-edge (MPIC cell 0), for faults that only exist on edge lines.
func edgeTriggeredP2020() -> BoardProfile {
    profile { text in
        // The first `sense: 2` after the s2mm key belongs to the S2MM channel.
        guard let block = text.range(of: "    s2mm:"),
              let sense = text.range(of: "sense: 2", range: block.upperBound..<text.endIndex)
        else { fatalError("profile layout changed") }
        return text.replacingCharacters(in: sense, with: "sense: 0")
    }
}

func workload(_ profile: BoardProfile = profile(), seed: UInt64 = 1, _ configure: (inout WorkloadConfiguration) -> Void = { _ in })
    -> ReceiveWorkload
{
    var configuration = WorkloadConfiguration()
    configure(&configuration)
    let w = try! ReceiveWorkload(profile: profile, seed: seed, configuration: configuration)
    try! w.start()
    return w
}

func sgWorkload(_ profile: BoardProfile = profile(), seed: UInt64 = 1, _ configure: (inout WorkloadConfiguration) -> Void = { _ in })
    -> SGReceiveWorkload
{
    var configuration = WorkloadConfiguration()
    configure(&configuration)
    let w = try! SGReceiveWorkload(profile: profile, seed: seed, configuration: configuration)
    try! w.start()
    return w
}
