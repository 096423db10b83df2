import Reactor
import Trace

extension Tracer {
    /// The usual sinks: the hash and the files by path; nil leaves that file out.
    public struct Options: Sendable {
        /// Keep the SHA-256 of the canonical lines (for `hash`).
        public var hashing: Bool
        public var jsonLinesPath: String?
        public var perfettoPath: String?
        public var vcdPath: String?

        public init(hashing: Bool = true, jsonLinesPath: String? = nil, perfettoPath: String? = nil, vcdPath: String? = nil) {
            self.hashing = hashing
            self.jsonLinesPath = jsonLinesPath
            self.perfettoPath = perfettoPath
            self.vcdPath = vcdPath
        }

        /// Nothing would be hashed or written.
        public var isEmpty: Bool { !hashing && jsonLinesPath == nil && perfettoPath == nil && vcdPath == nil }
    }

    /// A tracer keeping the hash and writing the files `options` names (JSON lines, Perfetto, VCD),
    /// and feeding `also` (the protocol checker) the same events.
    public convenience init(reactor: Reactor, options: Options, also extra: [any TraceSink] = []) throws(TraceError) {
        var sinks: [any TraceSink] = extra
        if options.hashing { sinks.append(TraceHasher()) }
        if let path = options.jsonLinesPath { sinks.append(try JSONLinesSink(path: path)) }
        if let path = options.perfettoPath { sinks.append(try PerfettoSink(path: path)) }
        if let path = options.vcdPath { sinks.append(try VCDSink(path: path)) }
        self.init(reactor: reactor, sinks: sinks)
    }
}
