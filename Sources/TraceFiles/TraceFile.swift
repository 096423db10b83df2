#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Trace

/// A file written through stdio with a large buffer: the sinks write many small pieces.
/// The first write error is remembered and reported by `close()`.
final class TraceFile {
    let path: String
    private var file: UnsafeMutablePointer<FILE>?
    private var failure: Int32 = 0

    init(path: String) throws(TraceError) {
        guard let file = fopen(path, "w") else { throw .cannotOpen(path: path, errno: errno) }
        setvbuf(file, nil, _IOFBF, 1 << 20)
        self.path = path
        self.file = file
    }

    deinit { if let file { fclose(file) } }

    func write(_ bytes: UnsafeRawBufferPointer) {
        guard let file, bytes.count > 0, failure == 0 else { return }
        if fwrite(bytes.baseAddress, 1, bytes.count, file) != bytes.count { failure = errno }
    }

    func write(_ bytes: [UInt8]) { bytes.withUnsafeBytes { write($0) } }

    func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    func close() throws(TraceError) {
        guard let file else { return }
        self.file = nil
        if fclose(file) != 0 && failure == 0 { failure = errno }
        if failure != 0 { throw .writeFailed(path: path, errno: failure) }
    }
}
