// libyaml, as Yams bundles it: its scanner looks at the tokens before Yams builds the node tree.
import CYaml

/// What a board profile or a scenario may be, checked before the YAML is composed into nodes, so a
/// hostile file is refused in milliseconds with its location instead of being parsed for minutes:
/// - at most `maximumInputBytes` (a profile or scenario is a few KiB);
/// - no anchors (`&name`) and no aliases (`*name`): neither format needs them, and Yams composes
///   an alias used as a mapping key by hashing the whole node it names, so keys that alias
///   mappings of aliases cost about 9× more per level (eight levels took 16 s, more never ended);
/// - nesting at most `maximumDepth` levels deep (Yams composes nodes recursively, so a file of
///   100,000 `[` would overflow the stack).
extension YAMLDocument {
    public static let maximumInputBytes = 16 << 20
    public static let maximumDepth = 64

    /// Why `text` is refused before composing, with where; nil when it may be composed.
    /// Syntax errors are left to the composer, which reports them with their context.
    static func refusal(of text: String, file: String) -> Diagnostic? {
        let byteCount = text.utf8.count
        guard byteCount <= maximumInputBytes else {
            return Diagnostic(
                "the file is \(Units.size(UInt64(byteCount))) (\(byteCount) bytes): expected at most \(Units.size(UInt64(maximumInputBytes))) (a board profile or scenario is a few KiB)",
                at: SourceLocation(file: file, line: 1, column: 1))
        }
        var copy = text
        return copy.withUTF8 { bytes in scan(bytes, file: file) }
    }

    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>, file: String) -> Diagnostic? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
        var depth = 0
        var token = yaml_token_t()
        // Bounded: every token but the zero-width ones (block starts and ends, keys, values) consumes
        // input, and each of those pairs with one that does.
        for _ in 0..<(8 * bytes.count + 16) {
            guard yaml_parser_scan(&parser, &token) == 1 else { return nil }
            defer { yaml_token_delete(&token) }
            let location = SourceLocation(file: file, line: Int(token.start_mark.line) + 1, column: Int(token.start_mark.column) + 1)
            switch token.type {
            case YAML_STREAM_END_TOKEN:
                return nil
            case YAML_ANCHOR_TOKEN:
                return Diagnostic(
                    "anchor '&\(name(token.data.anchor.value))': expected every value written out (anchors and aliases are not accepted in board profiles and scenarios)",
                    at: location)
            case YAML_ALIAS_TOKEN:
                return Diagnostic(
                    "alias '*\(name(token.data.alias.value))': expected every value written out (anchors and aliases are not accepted in board profiles and scenarios)",
                    at: location)
            case YAML_FLOW_SEQUENCE_START_TOKEN, YAML_FLOW_MAPPING_START_TOKEN, YAML_BLOCK_SEQUENCE_START_TOKEN,
                YAML_BLOCK_MAPPING_START_TOKEN:
                depth += 1
                if depth > maximumDepth {
                    return Diagnostic("lists and mappings nest deeper than \(maximumDepth) levels: expected a flatter file", at: location)
                }
            case YAML_FLOW_SEQUENCE_END_TOKEN, YAML_FLOW_MAPPING_END_TOKEN, YAML_BLOCK_END_TOKEN:
                depth -= 1
            default:
                break
            }
        }
        return nil
    }

    private static func name(_ value: UnsafeMutablePointer<yaml_char_t>?) -> String {
        guard let value else { return "" }
        return Excerpt.of(String(cString: value))
    }
}
