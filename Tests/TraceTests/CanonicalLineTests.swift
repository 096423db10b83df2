import Foundation
import Reactor
import Testing
@testable import Trace

@Suite struct CanonicalLineTests {
    @Test func `a line is one JSON object with t and ev first and integers only`() throws {
        let line = CanonicalLine()
        line.encode(.register(device: "axi-dma0", register: "S2MM_DMASR", offset: 0x34, value: 0x1002, access: .read), at: 1250)
        let text = String(decoding: line.bytes, as: UTF8.self)
        #expect(text == #"{"t":1250,"ev":"register","device":"axi-dma0","register":"S2MM_DMASR","offset":52,"value":4098,"access":"read"}"# + "\n")
    }

    @Test func `strings are escaped as JSON requires`() throws {
        let line = CanonicalLine()
        line.encode(.finding(kind: "k", severity: "violation", detail: "a \"quoted\" \\ back\nslash\u{1}"), at: 0)
        let object = try JSONSerialization.jsonObject(with: Data(line.bytes)) as? [String: Any]
        #expect(object?["detail"] as? String == "a \"quoted\" \\ back\nslash\u{1}")
    }
}
