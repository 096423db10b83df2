#if canImport(Glibc)
import Glibc
/// write(2), by a name the class's own `write` methods do not hide.
private func writeToDescriptor(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(fd, bytes, count) }
#elseif canImport(Darwin)
import Darwin
/// write(2), by a name the class's own `write` methods do not hide.
private func writeToDescriptor(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Darwin.write(fd, bytes, count) }
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

    /// A whole block of a stream (the JSON-lines sink's 256 KiB): after whatever stdio holds,
    /// straight to the file with write(2), without stdio copying it into its buffer first (that copy
    /// was about a tenth of `play --trace`'s cost per completion over `play`).
    func writeBlock(_ bytes: UnsafeRawBufferPointer) {
        guard let file, let base = bytes.baseAddress, bytes.count > 0, failure == 0 else { return }
        if fflush(file) != 0 {
            failure = errno
            return
        }
        let descriptor = fileno(file)
        var done = 0
        while done < bytes.count {  // bounded: each turn writes at least a byte, or fails, or was interrupted
            let written = writeToDescriptor(descriptor, base + done, bytes.count - done)
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                return
            }
            done += written
        }
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

/// A JSON-lines sink's blocks are written on its writer's thread.
extension TraceFile: BlockConsumer {
    func consume(_ block: UnsafeRawBufferPointer) { writeBlock(block) }
}
