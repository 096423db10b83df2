import CAttachProtocol
import Reactor
import Testing

@testable import Attach

@Suite("Control socket messages")
struct ControlMessageTests {
    let hello = ControlMessage.hello(.init(pid: 41, parentPid: 40, threadID: 41, hostIsX86_64: true, name: "axidma-rx"))

    @Test("every message decodes to what was encoded")
    func roundTrip() throws {
        let messages: [ControlMessage] = [
            hello,
            .welcome(flags: UIOEMU_WELCOME_REALTIME.rawValue, mailboxBytes: 16384, poolPhysicalBase: 0x3c00_0000, poolBytes: 64 << 20, pageBytes: 4096),
            .descriptor(handle: 3, purpose: UIOEMU_FD_UIO_READINESS.rawValue),
            .refused("no"),
        ]
        for message in messages {
            #expect(try ControlMessage.decode(message.encoded()) == message)
        }
    }

    @Test("a packet shorter than the header is refused with its size")
    func truncatedHeader() {
        #expect { try ControlMessage.decode([0x65, 0x6f, 0x69]) } throws: { error in
            (error as? ControlMessage.DecodeError)?.message.contains("3 bytes is shorter than its 16-byte header") == true
        }
    }

    @Test("a HELLO cut short names the size it needs")
    func truncatedBody() {
        var bytes = hello.encoded()
        bytes.removeLast(4)
        // Keep the header's length consistent with what arrived: the body itself is too short.
        let bodyBytes = UInt32(bytes.count - 16)
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: bodyBytes, toByteOffset: 8, as: UInt32.self) }
        #expect { try ControlMessage.decode(bytes) } throws: { error in
            (error as? ControlMessage.DecodeError)?.message == "HELLO needs a 32-byte body, the packet has 28"
        }
    }

    @Test("a length field that disagrees with the packet is refused")
    func lengthMismatch() {
        var bytes = hello.encoded()
        bytes.append(0)
        #expect { try ControlMessage.decode(bytes) } throws: { error in
            (error as? ControlMessage.DecodeError)?.message.contains("says 32 bytes of body, the packet has 33") == true
        }
    }

    @Test("bad magic, another protocol version and an unknown type are each refused by name")
    func badHeaders() {
        var magic = hello.encoded()
        magic[0] ^= 0xFF
        #expect(throws: ControlMessage.DecodeError.self) { try ControlMessage.decode(magic) }
        var version = hello.encoded()
        version[4] = 9
        #expect { try ControlMessage.decode(version) } throws: { error in
            (error as? ControlMessage.DecodeError)?.message.contains("protocol version 9") == true
        }
        var type = hello.encoded()
        type[6] = 77
        #expect { try ControlMessage.decode(type) } throws: { error in
            (error as? ControlMessage.DecodeError)?.message == "unknown message type 77"
        }
    }

    @Test("random bytes never trap the decoder (seed 7)")
    func garbage() {
        var generator = SplitMix64(seed: 7)
        for length in 0..<200 {
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if length >= 8 && Bool.random(using: &generator) {
                bytes.withUnsafeMutableBytes { $0.storeBytes(of: UIOEMU_ATTACH_MAGIC, toByteOffset: 0, as: UInt32.self) }
            }
            _ = try? ControlMessage.decode(bytes)
        }
    }
}
