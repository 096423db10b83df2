import CAttachProtocol
import Glibc

/// Every system call the attach layer makes, in one place (as `LinuxUIO/SystemCalls.swift` does for
/// the real board): the run directory, the control socket, the child process, shared memory. Each
/// returns the errno instead of throwing, so callers build located messages.
enum AttachSystemCalls {
    /// A failed call's errno.
    struct Failure: Error, Equatable { let code: Int32 }

    static func errno() -> Int32 { Glibc.errno }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    // MARK: run directory

    /// A private (0700) directory under `TMPDIR` or /tmp.
    static func makeRunDirectory() -> Result<String, Failure> {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/uioemu-attach.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { return .failure(Failure(code: errno())) }
        return .success(String(cString: template))
    }

    static func makeDirectory(_ path: String) -> Int32? {
        mkdir(path, 0o755) == 0 || errno() == EEXIST ? nil : errno()
    }

    static func writeFile(_ path: String, _ contents: String, mode: mode_t = 0o644) -> Int32? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { return errno() }
        defer { close(fd) }
        var bytes = Array(contents.utf8)
        var done = 0
        while done < bytes.count {  // bounded: each pass writes at least one byte or returns
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 { if errno() == EINTR { continue }; return errno() }
            done += n
        }
        return nil
    }

    /// Removes `path` and everything below it (the run directory at exit). Never follows symlinks.
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            if let dir = opendir(path) {
                var names: [String] = []
                while let entry = readdir(dir) {  // bounded: a directory's entries
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(dir)
                for name in names { removeTree(path + "/" + name) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    // MARK: control socket

    /// A listening SOCK_SEQPACKET socket at `path` (non-blocking, close-on-exec).
    static func listen(at path: String) -> Result<Int32, Failure> {
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .failure(Failure(code: errno())) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { close(fd); return .failure(Failure(code: ENAMETOOLONG)) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            let e = errno()
            close(fd)
            return .failure(Failure(code: e))
        }
        return .success(fd)
    }

    /// A pending connection, or nil when none is waiting.
    static func accept(_ listener: Int32) -> Int32? {
        let fd = uioemu_host_accept(listener)
        return fd >= 0 ? fd : nil
    }

    static func send(_ socket: Int32, _ bytes: [UInt8], descriptors: [Int32] = []) -> Int32? {
        let n = bytes.withUnsafeBytes { raw in
            descriptors.withUnsafeBufferPointer { fds in
                uioemu_host_send(socket, raw.baseAddress, raw.count, fds.baseAddress, Int32(fds.count))
            }
        }
        return n == bytes.count ? nil : (n < 0 ? errno() : EMSGSIZE)
    }

    enum Received {
        case packet([UInt8], descriptors: [Int32], truncated: Bool)
        case nothing
        case endOfFile
        case failed(Int32)
    }

    /// One packet, without blocking.
    static func receive(_ socket: Int32, capacity: Int = 4096) -> Received {
        var bytes = [UInt8](repeating: 0, count: capacity)
        var fds = [Int32](repeating: -1, count: 4)
        var count: Int32 = 0
        var truncated: Int32 = 0
        let n = bytes.withUnsafeMutableBytes { raw in
            fds.withUnsafeMutableBufferPointer { uioemu_host_receive(socket, raw.baseAddress, raw.count, $0.baseAddress, 4, &count, &truncated) }
        }
        if n < 0 { return errno() == EAGAIN || errno() == EWOULDBLOCK ? .nothing : .failed(errno()) }
        if n == 0 && count == 0 { return .endOfFile }
        return .packet(Array(bytes[0..<n]), descriptors: Array(fds[0..<Int(count)]), truncated: truncated != 0)
    }

    /// Whether the peer of `socket` has closed it (without consuming anything).
    static func peerClosed(_ socket: Int32) -> Bool {
        var p = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&p, 1, 0) == 1 else { return false }
        if p.revents & Int16(POLLHUP | POLLERR) != 0 { return true }
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    /// Waits up to `milliseconds` for any of `fds` to become readable (or hang up).
    static func waitReadable(_ fds: [Int32], milliseconds: Int32) {
        var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = polls.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), milliseconds) }
    }

    // MARK: shared memory and descriptors

    static func memfd(_ name: String, bytes: UInt64) -> Result<Int32, Failure> {
        let fd = uioemu_host_memfd(name, bytes)
        return fd >= 0 ? .success(fd) : .failure(Failure(code: errno()))
    }

    static func mapShared(_ fd: Int32, bytes: Int) -> UnsafeMutableRawPointer? {
        guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else { return nil }
        return p
    }

    static func unmap(_ pointer: UnsafeMutableRawPointer, bytes: Int) { munmap(pointer, bytes) }

    static func eventFD() -> Int32 { uioemu_host_eventfd() }

    static func signalEventFD(_ fd: Int32) {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    static func drainEventFD(_ fd: Int32) {
        var n: UInt64 = 0
        _ = read(fd, &n, 8)
    }

    /// A pipe: (read end non-blocking, write end), both close-on-exec.
    static func pipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        guard uioemu_host_pipe(&fds) == 0 else { return nil }
        return (fds[0], fds[1])
    }

    /// Whatever is waiting in a non-blocking pipe.
    static func drainPipe(_ fd: Int32) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<64 {  // bounded: at most 256 KiB per look
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            result += chunk[0..<n]
        }
        return result
    }

    static func close(_ fd: Int32) { if fd >= 0 { _ = Glibc.close(fd) } }

    // MARK: the child

    static func spawn(_ arguments: [String], environment: [String]) -> Result<pid_t, Failure> {
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        var execErrno: Int32 = 0
        let r = uioemu_host_spawn(&argv, &envp, &pid, &execErrno)
        if r != 0 {
            if pid > 0 { var status: Int32 = 0; waitpid(pid, &status, 0) }
            return .failure(Failure(code: execErrno))
        }
        return .success(pid)
    }

    enum ChildStatus: Equatable {
        case running
        case exited(Int32)
        case signalled(Int32)
    }

    static func poll(child pid: pid_t, blocking: Bool = false) -> ChildStatus {
        var status: Int32 = 0
        let r = waitpid(pid, &status, blocking ? 0 : WNOHANG)
        guard r == pid else { return r < 0 && errno() == ECHILD ? .exited(-1) : .running }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros: decode the status word as glibc does.
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signalled(status & 0x7f)
    }

    static func signal(group pid: pid_t, _ signal: Int32) { _ = kill(-pid, signal) }

    /// Whether process `pid` exists and has not exited (a zombie has: /proc/PID/stat says Z or X).
    static func isAlive(_ pid: pid_t) -> Bool {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: 512)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return false }
        // "PID (comm) S ...": the state follows the last ')'.
        guard let close = bytes[0..<n].lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { return false }
        let state = bytes[close + 2]
        return state != UInt8(ascii: "Z") && state != UInt8(ascii: "X")
    }

    static func monotonicNanoseconds() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }
}
