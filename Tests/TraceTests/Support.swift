import Board
import Devices
import Foundation
import Crypto
import Scenario
import Trace
import TraceFiles

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func profile(_ name: String = "p2020-fpga") -> BoardProfile {
    let text = try! String(contentsOf: repositoryRoot.appendingPathComponent("boards/\(name).yaml"), encoding: .utf8)
    do throws(Diagnostics) {
        return try BoardProfile.parse(text, file: "\(name).yaml", registry: DeviceKinds.standard)
    } catch {
        fatalError("profile does not load: \(error)")
    }
}

/// A receive workload that is not started yet (attach a tracer first).
func receiveWorkload(seed: UInt64 = 1, _ configure: (inout WorkloadConfiguration) -> Void = { _ in }) -> ReceiveWorkload {
    var configuration = WorkloadConfiguration()
    configure(&configuration)
    return try! ReceiveWorkload(profile: profile(), seed: seed, configuration: configuration)
}

/// PRBS data in packets of random length: every seed gives a different packet sequence.
func randomPackets(_ c: inout WorkloadConfiguration) {
    c.pattern = .prbs31()
    c.source.packetSize = .range(64...4096)
}

/// A fresh directory for one test's files, removed by the caller.
func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-trace-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs `completions` of a traced receive workload and returns the workload and its finished tracer.
func tracedRun(seed: UInt64 = 1, completions: Int, options: Tracer.Options = Tracer.Options(),
               _ configure: (inout WorkloadConfiguration) -> Void = { _ in }) throws -> (ReceiveWorkload, Tracer) {
    let w = receiveWorkload(seed: seed, configure)
    let tracer = try Tracer(reactor: w.reactor, options: options)
    w.attach(tracer)
    try w.start()
    try w.run(completions: completions)
    try tracer.finish()
    return (w, tracer)
}

/// Every line of a JSON lines file, parsed.
func jsonLines(_ path: String) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try text.split(separator: "\n").map { line in
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw TraceTestError("not a JSON object: \(line)")
        }
        return object
    }
}

struct TraceTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}
