import Board
import Devices
import Foundation
import Reactor
import SystemPackage
import UIO
@testable import LinuxUIO

/// The repository root, found from this file's path (Tests/LinuxUIOTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// What `uioemu sysfs export --board p2020-fpga --buffers N DIR` writes, built here from the same
/// `SysfsTree.files(for:)`, under `ROOT/sys`, plus `ROOT/dev` with ordinary files standing in for the
/// device nodes: `dev/uioX` a regular file as long as the node's maps need (so mmap works on it),
/// `dev/udmabufN` a regular file of the buffer's size. Interrupts come from a socketpair or a FIFO
/// (see the interrupt tests). The directory is removed when the tree goes away.
final class ExportedTree {
    let root: URL
    let uio: UIOSystem
    var sysfsRoot: FilePath { FilePath(root.appendingPathComponent("sys").path) }
    var devRoot: FilePath { FilePath(root.appendingPathComponent("dev").path) }

    init(buffers: Int = 4, bufferBytes: UInt64 = 4096, board: String = "p2020-fpga") throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("linuxuio-\(UUID().uuidString)")
        let profile = try BoardProfile.load(path: repositoryRoot.appendingPathComponent("boards/\(board).yaml").path, registry: DeviceKinds.standard)
        uio = try UIOSystem.withBuffers(profile: profile, count: buffers, byteCount: bufferBytes).get()
        for file in SysfsTree.files(for: uio) {
            try write(file.contents, to: "sys/" + file.path)
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("dev"), withIntermediateDirectories: true)
        for device in uio.devices {
            // Map N is at mmap offset N × page size in the node.
            let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
            let bytes = device.maps.map { $0.index * pageSize + Int($0.mappableBytes) }.max() ?? 0
            try Data(count: bytes).write(to: url("dev/uio\(device.index)"))
        }
        for buffer in uio.heap.liveBuffers {
            try Data(count: Int(buffer.size)).write(to: url("dev/\(buffer.name)"))
        }
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }
    func path(_ relative: String) -> String { url(relative).path }

    func write(_ text: String, to relative: String) throws {
        let url = url(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func read(_ relative: String) throws -> String { try String(contentsOf: url(relative), encoding: .utf8) }
    func bytes(_ relative: String) throws -> [UInt8] { Array(try Data(contentsOf: url(relative))) }

    func remove(_ relative: String) throws { try FileManager.default.removeItem(at: url(relative)) }

    /// Replaces a file by a directory of the same name: reading it fails with EISDIR, an unreadable
    /// file even for root (tests may run as root, where permission bits do not stop a read).
    func makeUnreadable(_ relative: String) throws {
        try remove(relative)
        try FileManager.default.createDirectory(at: url(relative), withIntermediateDirectories: true)
    }

    func locator(_ calls: SystemCalls = .live) -> UIODeviceLocator {
        UIODeviceLocator(sysfsRoot: sysfsRoot, devRoot: devRoot, calls: calls)
    }
}

/// A `SystemCalls` that records every call (name and path or descriptor) and can fail chosen ones.
final class CallRecorder {
    struct Call: Equatable {
        var name: String
        var path: String?
    }

    private(set) var calls: [Call] = []
    /// Written bytes per path, in order, for writes to descriptors opened by path.
    private(set) var writes: [(path: String, text: String)] = []
    /// Open options per path.
    private(set) var openOptions: [String: FileDescriptor.OpenOptions] = [:]
    /// (call name, path suffix or nil for any, errno): the first matching call fails with errno.
    var failures: [(call: String, pathSuffix: String?, errno: Errno)] = []
    private var paths: [CInt: String] = [:]

    var seam: SystemCalls {
        let live = SystemCalls.live
        var calls = live
        calls.open = { path, mode, options in
            if let errno = self.failure("open", path.string) { return .failure(errno) }
            let result = live.open(path, mode, options)
            if case let .success(fd) = result { self.paths[fd.rawValue] = path.string }
            self.openOptions[path.string] = options
            return result
        }
        calls.read = { fd, buffer in
            if let errno = self.failure("read", self.paths[fd.rawValue]) { return .failure(errno) }
            return live.read(fd, buffer)
        }
        calls.write = { fd, bytes in
            let path = self.paths[fd.rawValue]
            if let errno = self.failure("write", path) { return .failure(errno) }
            if let path { self.writes.append((path, String(decoding: bytes, as: UTF8.self))) }
            return live.write(fd, bytes)
        }
        calls.close = { fd in
            let path = self.paths.removeValue(forKey: fd.rawValue)
            if let errno = self.failure("close", path) { return .failure(errno) }
            return live.close(fd)
        }
        calls.mmap = { fd, length, offset in
            if let errno = self.failure("mmap", self.paths[fd.rawValue]) { return .failure(errno) }
            return live.mmap(fd, length, offset)
        }
        calls.munmap = { address, length in
            if let errno = self.failure("munmap", nil) { return .failure(errno) }
            return live.munmap(address, length)
        }
        calls.fileStatus = { fd in
            if let errno = self.failure("fstat", self.paths[fd.rawValue]) { return .failure(errno) }
            return live.fileStatus(fd)
        }
        calls.listDirectory = { path in
            if let errno = self.failure("opendir", path.string) { return .failure(errno) }
            return live.listDirectory(path)
        }
        calls.pageSize = {
            if let errno = self.failure("sysconf", nil) { return .failure(errno) }
            return live.pageSize()
        }
        return calls
    }

    private func failure(_ name: String, _ path: String?) -> Errno? {
        calls.append(Call(name: name, path: path))
        guard let i = failures.firstIndex(where: { $0.call == name && ($0.pathSuffix == nil || path?.hasSuffix($0.pathSuffix!) == true) })
        else { return nil }
        return failures.remove(at: i).errno
    }

    func count(_ name: String) -> Int { calls.filter { $0.name == name }.count }
    func texts(writtenTo suffix: String) -> [String] { writes.filter { $0.path.hasSuffix(suffix) }.map(\.text) }
}

/// The thrown `LinuxUIOError`, or nil if `body` did not throw one.
func linuxError<T>(_ body: () throws -> T) -> LinuxUIOError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? LinuxUIOError
    }
}
