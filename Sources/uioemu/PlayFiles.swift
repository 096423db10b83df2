import Foundation
import Scenario
import Trace

/// Which files `play` writes for each scenario: the trace files asked for (with several scenarios,
/// the scenario's name goes before the extension), and with `--artifacts DIR` the trace, Perfetto
/// and VCD files of each scenario that fails, kept in DIR (written for every scenario, removed
/// again when it passes; copied there when the user asked for the same files elsewhere).
struct PlayFiles {
    let traceOptions: TraceOptions
    let artifacts: String?
    let junit: String?
    let scenarioCount: Int

    /// The file kinds, their `TraceOptions` field and their name in the artifacts directory.
    enum Kind: CaseIterable {
        case trace, perfetto, vcd

        var suffix: String {
            switch self {
            case .trace: "trace.jsonl"
            case .perfetto: "perfetto.json"
            case .vcd: "vcd"
            }
        }

        var option: String {
            switch self {
            case .trace: "--trace"
            case .perfetto: "--perfetto"
            case .vcd: "--vcd"
            }
        }
    }

    func userPath(_ kind: Kind, for spec: ScenarioSpec) -> String? {
        let given: String?
        switch kind {
        case .trace: given = traceOptions.trace
        case .perfetto: given = traceOptions.perfetto
        case .vcd: given = traceOptions.vcd
        }
        return given.map { rename($0, spec) }
    }

    func artifactPath(_ kind: Kind, for spec: ScenarioSpec) -> String? {
        artifacts.map { URL(fileURLWithPath: $0).appendingPathComponent("\(spec.name).\(kind.suffix)").path }
    }

    /// `out/trace.jsonl` → `out/trace.NAME.jsonl` when several scenarios play.
    private func rename(_ file: String, _ spec: ScenarioSpec) -> String {
        guard scenarioCount > 1 else { return file }
        let url = URL(fileURLWithPath: file)
        let ext = url.pathExtension
        let base = url.deletingPathExtension().path
        return ext.isEmpty ? "\(base).\(spec.name)" : "\(base).\(spec.name).\(ext)"
    }

    /// Every file this scenario may write, for the checks before anything runs.
    func outputs(for spec: ScenarioSpec) -> [OutputFiles.Output] {
        Kind.allCases.flatMap { kind in
            [userPath(kind, for: spec).map { OutputFiles.Output(option: kind.option, path: $0) },
             artifactPath(kind, for: spec).map { OutputFiles.Output(option: "--artifacts (\(kind.suffix))", path: $0) }].compactMap { $0 }
        }
    }

    /// What the tracer records: the hash unless `--no-trace-hash`, and each file at the user's path,
    /// else (with `--artifacts`) at its artifact path.
    func tracerOptions(for spec: ScenarioSpec) -> Tracer.Options? {
        func path(_ kind: Kind) -> String? { userPath(kind, for: spec) ?? artifactPath(kind, for: spec) }
        let options = Tracer.Options(hashing: traceOptions.traceHash ?? true, jsonLinesPath: path(.trace), perfettoPath: path(.perfetto),
                                     vcdPath: path(.vcd))
        return options.isEmpty ? nil : options
    }

    func prepareArtifactsDirectory() throws {
        guard let artifacts else { return }
        do {
            try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        } catch {
            throw InputError("cannot create the artifacts directory: \((error as NSError).localizedDescription)", path: artifacts)
        }
    }

    /// After a scenario: a failed one's files end up in the artifacts directory (returned), a
    /// passed one's artifact files are removed.
    func keepArtifacts(for spec: ScenarioSpec, failed: Bool) -> [String] {
        var kept: [String] = []
        for kind in Kind.allCases {
            guard let artifact = artifactPath(kind, for: spec) else { continue }
            let user = userPath(kind, for: spec)
            if !failed {
                if user == nil { try? FileManager.default.removeItem(atPath: artifact) }
                continue
            }
            if let user {
                try? FileManager.default.removeItem(atPath: artifact)
                guard (try? FileManager.default.copyItem(atPath: user, toPath: artifact)) != nil else { continue }
            }
            if FileManager.default.fileExists(atPath: artifact) { kept.append(artifact) }
        }
        return kept
    }
}
