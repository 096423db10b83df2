import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Glibc
import Testing
import TraceFiles

/// What CI reads: `play --junit FILE`, `--artifacts DIR` and `uioemu diff`.
@Suite("CI output: JUnit, artifacts, trace diff (the executable)")
struct CIOutputTests {
    static let failing = "board: p2020-fpga\nduration: 1ms\nseed: 5\nexpect:\n  completions: \">= 999999\"\n"

    func elements(_ name: String, in document: XMLDocument) throws -> [XMLElement] {
        try document.nodes(forXPath: "//\(name)").compactMap { $0 as? XMLElement }
    }

    @Test("--junit writes one test case per scenario; a failure holds expected vs actual and the reproduce command")
    func junit() throws {
        let (directory, failing) = try temporaryScenario(Self.failing, name: "too-many.yaml")
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = directory.appendingPathComponent("out.xml").path
        let r = try runUIOEmu(["play", "--no-trace-hash", "scenarios/steady-stream.yaml", failing, "--junit", report])
        #expect(r.status == 1)
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: report))
        let suites = try elements("testsuite", in: document)
        #expect(suites.count == 1)
        #expect(suites.first?.attribute(forName: "tests")?.stringValue == "2")
        #expect(suites.first?.attribute(forName: "failures")?.stringValue == "1")
        let cases = try elements("testcase", in: document)
        #expect(cases.compactMap { $0.attribute(forName: "name")?.stringValue } == ["steady-stream", "too-many"])
        #expect(try cases[0].nodes(forXPath: "failure").isEmpty)
        let failure = try #require(try cases[1].nodes(forXPath: "failure").first as? XMLElement)
        let message = try #require(failure.attribute(forName: "message")?.stringValue)
        #expect(message.hasPrefix("\(failing):5:16: expected completions >= 999999, found "), "\(message)")
        #expect(failure.stringValue?.contains("reproduce: uioemu play \(failing) --seed 5") == true)
        #expect(cases[1].attribute(forName: "file")?.stringValue == failing)
    }

    @Test("an interrupted play's JUnit file has the error and skips what never played")
    func junitInterrupted() throws {
        let (directory, long) = try temporaryScenario("board: p2020-fpga\nduration: 1h\n", name: "long.yaml")
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = directory.appendingPathComponent("out.xml").path
        let process = try SpawnedUIOEmu(["play", long, "scenarios/steady-stream.yaml", "--junit", report])
        #expect(process.waitForStopSignalHandlers())
        kill(process.pid, SIGINT)
        #expect(process.wait().status == 130)
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: report))
        let error = try #require(try elements("error", in: document).first)
        #expect(error.attribute(forName: "message")?.stringValue?.hasPrefix("INTERRUPTED by SIGINT at board time ") == true)
        #expect(try elements("skipped", in: document).count == 1)
    }

    @Test("--artifacts keeps the trace, Perfetto and VCD files of the failed scenarios only")
    func artifacts() throws {
        let (directory, failing) = try temporaryScenario(Self.failing, name: "too-many.yaml")
        defer { try? FileManager.default.removeItem(at: directory) }
        let kept = directory.appendingPathComponent("artifacts")
        let r = try runUIOEmu(["play", "scenarios/steady-stream.yaml", failing, "--artifacts", kept.path])
        #expect(r.status == 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: kept.path).sorted()
        #expect(files == ["too-many.perfetto.json", "too-many.trace.jsonl", "too-many.vcd"])
        #expect(r.out.contains("artifacts: \(kept.path)/too-many.trace.jsonl"))
        // The kept trace is the run's: its hash is the one play printed.
        let trace = try Data(contentsOf: kept.appendingPathComponent("too-many.trace.jsonl"))
        let printed = try #require(r.out.split(separator: "\n").first { $0.contains("too-many") }?.split(separator: " ").last)
        #expect(!trace.isEmpty && r.out.contains("trace-hash \(printed)"))
    }

    @Test("diff: two runs with the same seed are the same events (exit 0); another seed differs (exit 1) at the first event that does, with context")
    func diff() throws {
        // Packet sizes drawn from the seed: another seed, other transfers.
        let (directory, scenario) = try temporaryScenario("board: p2020-fpga\nduration: 1ms\nstream: { packet-size: { min: 64 B, max: 4 KiB } }\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        func trace(_ seed: Int, _ name: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            let r = try runUIOEmu(["play", scenario, "--seed", "\(seed)", "--trace", path])
            #expect(r.status == 0, "\(r.err)")
            return path
        }
        let a = try trace(7, "a.jsonl"), b = try trace(7, "b.jsonl"), c = try trace(8, "c.jsonl")
        let same = try runUIOEmu(["diff", a, b])
        #expect(same.status == 0 && same.out == "\(a) and \(b): the same events\n")
        let other = try runUIOEmu(["diff", a, c])
        #expect(other.status == 1)
        let lines = other.out.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("\(a) and \(c) differ at event ") == true, "\(other.out)")
        #expect(lines.contains { $0.hasPrefix("- ") } && lines.contains { $0.hasPrefix("+ ") })
        #expect(lines.contains { $0.hasPrefix("  differs in: ") }, "\(other.out)")
    }

    @Test("the diff of two event lists: the first difference, the events before it, which keys differ, a trace that ends first")
    func traceDiffOfLines() {
        func reader(_ lines: [String]) -> () -> String? {
            var iterator = lines.makeIterator()
            return { iterator.next() }
        }
        let common = (1...5).map { "{\"t\":\($0),\"ev\":\"irq\",\"line\":2,\"level\":1}" }
        let a = common + ["{\"t\":9,\"ev\":\"dma-done\",\"channel\":\"s2mm\",\"bytes\":4096}", "{\"t\":10,\"ev\":\"irq\",\"line\":2,\"level\":0}"]
        let b = common + ["{\"t\":9,\"ev\":\"dma-done\",\"channel\":\"s2mm\",\"bytes\":100}"]
        let d = TraceDiff.compare(reader(a), reader(b))
        #expect(d?.event == 6)
        #expect(d?.before == Array(common.suffix(3)))
        #expect(d?.differingKeys == ["bytes: 4096 vs 100"])
        #expect(d?.afterA == [a[6]] && d?.afterB == [])
        let shorter = TraceDiff.compare(reader(common), reader(common + [a[5]]))
        #expect(shorter?.event == 6 && shorter?.a == nil && shorter?.b == a[5])
        #expect(TraceDiff.compare(reader(common), reader(common)) == nil)
    }
}
