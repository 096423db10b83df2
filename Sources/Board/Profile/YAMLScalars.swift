/// Typed readers for scalars. Each reports "expected ..., found ..." at the value and returns nil on
/// a mismatch. Numbers are decimal or `0x` hex, with optional `_` separators (`0xf_ffe0_0000`).
extension YAMLValue {
    public static let sizeExpectation = "a size (bytes, or a number with B, KiB, MiB or GiB, such as 64 KiB)"
    public static let frequencyExpectation = "a frequency (Hz, or a number with Hz, kHz, MHz or GHz, such as 100 MHz)"

    public func string(_ diagnostics: inout Diagnostics, expected: String = "a string") -> String? {
        guard node.scalar != nil, let text = scalarText, !text.isEmpty else { return mismatch(expected, &diagnostics) }
        return text
    }

    /// A name: letters, digits, `-`, `_` and `.`, starting with a letter or digit.
    public func name(_ diagnostics: inout Diagnostics) -> String? {
        let expected = "a name (letters, digits, '-', '_' or '.')"
        guard let text = string(&diagnostics, expected: expected) else { return nil }
        let allowed = text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
        }
        guard allowed, text.first?.isLetter == true || text.first?.isNumber == true else {
            return mismatch(expected, &diagnostics)
        }
        return text
    }

    public func bool(_ diagnostics: inout Diagnostics) -> Bool? {
        switch scalarText {
        case "true"?, "True"?, "yes"?: return true
        case "false"?, "False"?, "no"?: return false
        default: return mismatch("true or false", &diagnostics)
        }
    }

    /// An unsigned integer within `range`.
    public func integer(_ expected: String, in range: ClosedRange<UInt64>, _ diagnostics: inout Diagnostics) -> UInt64? {
        guard let text = scalarText, let value = Self.parseInteger(text) else {
            return mismatch(expected, &diagnostics)
        }
        guard range.contains(value) else {
            diagnostics.error("expected \(expected) from \(range.lowerBound) to \(range.upperBound), found \(value)", at: location)
            return nil
        }
        return value
    }

    /// One of `choices`, with a suggestion for a near miss.
    public func choice(_ what: String, among choices: [String], _ diagnostics: inout Diagnostics) -> String? {
        let expected = "\(what): " + choices.map { "'\($0)'" }.joined(separator: ", ")
        guard let text = scalarText, node.scalar != nil else { return mismatch(expected, &diagnostics) }
        guard choices.contains(text) else {
            return mismatch(expected, &diagnostics, suggestion: Suggestion.closest(to: text, among: choices))
        }
        return text
    }

    /// A physical address (a plain number).
    public func address(_ diagnostics: inout Diagnostics) -> PhysicalAddress? {
        integer("an address (decimal or 0x hex)", in: 0...UInt64.max, &diagnostics).map { PhysicalAddress($0) }
    }

    /// A byte count: a number, or a number and a unit from `Units.sizeUnits`. Zero is reported as such.
    public func size(_ diagnostics: inout Diagnostics) -> UInt64? {
        guard let bytes = quantity(Self.sizeExpectation, units: Units.sizeUnits.map { ($0.name, $0.bytes) }, &diagnostics) else {
            return nil
        }
        guard bytes > 0 else {
            diagnostics.error("zero size: expected a size greater than 0", at: location)
            return nil
        }
        return bytes
    }

    /// A frequency in hertz: a number, or a number and a unit from `Units.frequencyUnits`.
    public func frequency(_ diagnostics: inout Diagnostics) -> UInt64? {
        guard let hertz = quantity(Self.frequencyExpectation, units: Units.frequencyUnits.map { ($0.name, $0.hertz) }, &diagnostics) else {
            return nil
        }
        guard hertz > 0 else { return mismatch("a frequency greater than 0 Hz", &diagnostics) }
        return hertz
    }

    public static let durationExpectation = "a duration (a number with ns, us, µs, ms or s, such as 35 us)"

    /// A duration in nanoseconds: a number and a unit from `Units.durationUnits` (0 is allowed).
    public func duration(_ diagnostics: inout Diagnostics) -> Int64? {
        guard let text = scalarText, text.contains(where: \.isLetter) || text == "0" else {
            return mismatch(Self.durationExpectation, &diagnostics)
        }
        guard let nanoseconds = quantity(Self.durationExpectation, units: Units.durationUnits.map { ($0.name, $0.nanoseconds) }, &diagnostics) else {
            return nil
        }
        guard nanoseconds <= UInt64(Int64.max) else { return mismatch("a duration below 2^63 ns", &diagnostics) }
        return Int64(nanoseconds)
    }

    /// `number [unit]`, where the number may have a decimal fraction as long as the result is whole.
    private func quantity(_ expected: String, units: [(String, UInt64)], _ diagnostics: inout Diagnostics) -> UInt64? {
        guard let text = scalarText else { return mismatch(expected, &diagnostics) }
        let isHex = text.hasPrefix("0x") || text.hasPrefix("0X")
        let body = text.dropFirst(isHex ? 2 : 0)
        let digits = body.prefix { (isHex ? $0.isHexDigit : $0.isNumber) || $0 == "_" || (!isHex && $0 == ".") }
        let number = text[..<digits.endIndex]
        let unitText = String(text[digits.endIndex...].drop { $0 == " " })
        var multiplier: UInt64 = 1
        if !unitText.isEmpty {
            guard let unit = units.first(where: { $0.0 == unitText }) else {
                return mismatch(expected, &diagnostics, suggestion: Suggestion.closest(to: unitText, among: units.map(\.0)))
            }
            multiplier = unit.1
        }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Self.parseInteger(String(parts[0])) else { return mismatch(expected, &diagnostics) }
        var (total, overflow) = whole.multipliedReportingOverflow(by: multiplier)
        if parts.count == 2 {
            // A decimal fraction: digits only, and the product must come out whole.
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isNumber), let fraction = UInt64(digits) else {
                return mismatch(expected, &diagnostics)
            }
            var scale: UInt64 = 1
            for _ in digits { scale *= 10 }
            let (scaled, fractionOverflow) = fraction.multipliedReportingOverflow(by: multiplier)
            guard !fractionOverflow, scaled % scale == 0 else {
                diagnostics.error("expected a whole number of \(units.last!.0), found \(text)", at: location)
                return nil
            }
            let sum = total.addingReportingOverflow(scaled / scale)
            total = sum.partialValue
            overflow = overflow || sum.overflow
        }
        guard !overflow else {
            diagnostics.error("\(text) is too large: expected at most 2^64 - 1", at: location)
            return nil
        }
        return total
    }

    /// Decimal or `0x` hex digits with optional `_` between them; nil for anything else.
    public static func parseInteger(_ text: String) -> UInt64? {
        var digits = Substring(text)
        var radix = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            digits = digits.dropFirst(2)
            radix = 16
        }
        guard !digits.isEmpty, digits.first != "_", digits.last != "_" else { return nil }
        return UInt64(digits.filter { $0 != "_" }, radix: radix)
    }
}
