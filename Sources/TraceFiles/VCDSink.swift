import Trace

/// A value change dump (IEEE 1364 §18, "VCD") for GTKWave and other waveform viewers: each
/// interrupt line, the DMACR/DMASR bits of each channel that matter when reading a waveform, a
/// `busy` wire per channel (a transfer is moving) and each driver's state as a small integer.
///
/// The header must declare every signal before the first value change, so the sink writes it when
/// the first event arrives: tracks declared by then (through `Tracer.declare`, or seen in that first
/// event) are in the dump; a signal first seen later is left out. Times are nanoseconds
/// (`$timescale 1ns $end`), written only when they advance, and a value is written only when it
/// changes. This file is for people and is not hashed.
public final class VCDSink: TraceSink {
    /// One 1-bit or n-bit variable of the dump.
    private struct Signal {
        let identifier: String
        let width: Int
        var value: UInt64
    }

    /// The channel bits shown, by name, register and bit (PG021 DMACR/DMASR).
    private static let channelBits: [(name: String, inControl: Bool, bit: Int)] = [
        ("RS", true, 0), ("Halted", false, 0), ("Idle", false, 1),
        ("IOC_Irq", false, 12), ("Dly_Irq", false, 13), ("Err_Irq", false, 14),
    ]
    static let stateWidth = 4

    private let file: TraceFile
    private var lines: [(line: Int, initialHigh: Bool)] = []
    private var channels: [String] = []
    private var drivers: [String] = []
    private var signals: [String: Signal] = [:]
    private var headerWritten = false
    private var time: Int64 = -1

    public init(path: String) throws(TraceError) { file = try TraceFile(path: path) }

    /// Reads the typed event only: no canonical line is made for this sink.
    public var needsCanonicalLine: Bool { false }

    public func declare(_ track: TraceTrack) {
        guard !headerWritten else { return }
        switch track {
        case let .interruptLine(line, initialHigh):
            if !lines.contains(where: { $0.line == line }) { lines.append((line, initialHigh)) }
        case let .channel(name): if !channels.contains(name) { channels.append(name) }
        case let .driver(name): if !drivers.contains(name) { drivers.append(name) }
        }
    }

    public func write(_ event: TraceEvent, at ns: Int64, line: UnsafeRawBufferPointer) {
        if !headerWritten {
            switch event {
            case let .interruptLine(line, high): declare(.interruptLine(line, initialHigh: !high))
            case let .dmaStart(channel, _, _), let .dmaDone(channel, _), let .dmaError(channel, _),
                 let .channelStatus(channel, _, _):
                declare(.channel(channel.string))
            case let .driverState(driver, _, _, _): declare(.driver(driver.string))
            default: break
            }
            writeHeader()
        }
        switch event {
        case let .interruptLine(line, high): change("irq\(line)", high ? 1 : 0, at: ns)
        case let .dmaStart(channel, _, _): change("\(channel).busy", 1, at: ns)
        case let .dmaDone(channel, _), let .dmaError(channel, _): change("\(channel).busy", 0, at: ns)
        case let .channelStatus(channel, control, status):
            for bit in Self.channelBits {
                let register = bit.inControl ? control : status
                change("\(channel).\(bit.name)", UInt64(register >> UInt32(bit.bit) & 1), at: ns)
            }
        case let .driverState(driver, _, _, code):
            change("\(driver).state", UInt64(min(max(code, 0), (1 << Self.stateWidth) - 1)), at: ns)
        default: break
        }
    }

    public func close() throws(TraceError) {
        if !headerWritten { writeHeader() }
        try file.close()
    }

    // MARK: header

    private func writeHeader() {
        headerWritten = true
        var text = "$date uioemu trace $end\n$version uioemu $end\n$timescale 1ns $end\n$scope module board $end\n"
        if !lines.isEmpty {
            text += "$scope module interrupts $end\n"
            for (line, initialHigh) in lines {
                text += variable("irq\(line)", name: "irq\(line)", width: 1, initial: initialHigh ? 1 : 0)
            }
            text += "$upscope $end\n"
        }
        for channel in channels {
            text += "$scope module \(Self.scopeName(channel)) $end\n"
            text += variable("\(channel).busy", name: "busy", width: 1, initial: 0)
            for bit in Self.channelBits {
                text += variable("\(channel).\(bit.name)", name: bit.name, width: 1, initial: bit.name == "Halted" ? 1 : 0)
            }
            text += "$upscope $end\n"
        }
        for driver in drivers {
            text += "$scope module \(Self.scopeName(driver)) $end\n"
            text += variable("\(driver).state", name: "state", width: Self.stateWidth, initial: 0)
            text += "$upscope $end\n"
        }
        text += "$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n"
        for key in signals.keys.sorted() { text += valueText(signals[key]!) }
        text += "$end\n"
        time = 0
        file.write(text)
    }

    private func variable(_ key: String, name: String, width: Int, initial: UInt64) -> String {
        let signal = Signal(identifier: Self.identifier(signals.count), width: width, value: initial)
        signals[key] = signal
        return "$var \(width == 1 ? "wire" : "reg") \(width) \(signal.identifier) \(name) $end\n"
    }

    // MARK: value changes

    private func change(_ key: String, _ value: UInt64, at ns: Int64) {
        guard var signal = signals[key], signal.value != value else { return }
        signal.value = value
        signals[key] = signal
        if ns > time {
            time = ns
            file.write("#\(ns)\n")
        }
        file.write(valueText(signal))
    }

    private func valueText(_ signal: Signal) -> String {
        guard signal.width > 1 else { return "\(signal.value)\(signal.identifier)\n" }
        let digits = String(signal.value, radix: 2)
        return "b\(String(repeating: "0", count: max(signal.width - digits.count, 0)))\(digits) \(signal.identifier)\n"
    }

    /// VCD identifiers are printable ASCII (`!` to `~`): signal n in base 94.
    static func identifier(_ n: Int) -> String {
        var n = n
        var scalars: [UInt8] = []
        repeat {
            scalars.append(UInt8(33 + n % 94))
            n = n / 94 - 1
        } while n >= 0
        return String(decoding: scalars, as: UTF8.self)
    }

    /// A scope name viewers accept: letters, digits and `_` (`axi-dma0.s2mm` → `axi_dma0_s2mm`).
    static func scopeName(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    }
}
