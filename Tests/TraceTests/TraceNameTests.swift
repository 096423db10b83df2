import Testing
@testable import Trace

/// `TraceName`: the names hot events carry as numbers (no reference counting per event). A name is
/// its string's UTF-8 bytes, numbered once per process; the encoders write the same bytes for a name
/// as for a `String` of those bytes.
@Suite("Trace names")
struct TraceNameTests {
    @Test func `a name is its bytes: a string built anew gets the same number, canonically equal Unicode does not`() {
        let built = String(repeating: "n", count: 3) + "-device-\(7 * 6)"
        #expect(TraceName(built) == TraceName("nnn-device-42"))
        #expect(TraceName(built).string == "nnn-device-42")
        let composed = "caf\u{E9}-name", decomposed = "cafe\u{301}-name"
        #expect(composed == decomposed, "Swift equates them")
        #expect(TraceName(composed) != TraceName(decomposed))
        #expect(Array(TraceName(decomposed).string.utf8) == Array(decomposed.utf8))
    }

    @Test func `the names numbered in advance spell the labels they stand for`() {
        #expect(TraceName.read.string == "read")
        #expect(TraceName.write.string == "write")
        #expect(TraceName.device.string == "device")
        #expect(TraceName.cpu.string == "cpu")
        #expect(TraceName.driver.string == "driver")
        #expect(TraceName.consumer.string == "consumer")
        #expect(TraceName.producer.string == "producer")
        #expect(TraceName.queued.string == "queued")
        #expect(TraceName.stopped.string == "stopped")
        #expect(TraceName.runningNone.string == "running(none)")
        for slot in 0..<16 {  // bounded: the 16 slots numbered in advance
            #expect(TraceName.running(slot).string == "running(\(slot))")
            #expect(TraceName("running(\(slot))") == .running(slot), "looking the text up finds the same name")
        }
    }

    @Test func `a name and a String of the same bytes are one string of the trace, in the records and in the JSON line`() {
        let records = CanonicalRecords()
        // `fault`: the channel is a name, the fault a String; both "x-same".
        records.encode(.fault(channel: TraceName("x-same"), fault: "x-same"), at: 0)
        let x = Array("x-same".utf8)
        // kind 19, +0, new string (0) of 6 bytes -> string 1, then string 1 again (not a new one).
        #expect(Array(records.bytes) == [19, 0, 0, UInt8(x.count)] + x + [1])

        let line = CanonicalLine()
        line.encode(.fault(channel: TraceName("q\"uote"), fault: "q\"uote"), at: 5)
        #expect(String(decoding: line.bytes, as: UTF8.self) == "{\"t\":5,\"ev\":\"fault\",\"channel\":\"q\\\"uote\",\"fault\":\"q\\\"uote\"}\n")
    }
}
