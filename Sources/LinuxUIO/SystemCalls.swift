import Glibc
import SystemPackage

/// The one seam every system call of the Linux backend goes through, so tests can record calls and
/// force errnos. `live` is the real thing (swift-system where it has the call, Glibc where it does
/// not); a test copies `live` and replaces the members it wants to watch or break.
///
/// Memory accesses through a mapping are not system calls and do not go through here.
struct SystemCalls {
    /// open(2).
    var open: (_ path: FilePath, _ mode: FileDescriptor.AccessMode, _ options: FileDescriptor.OpenOptions) -> Result<FileDescriptor, Errno>
    /// read(2) into the buffer: the byte count (0 at end of file).
    var read: (_ fd: FileDescriptor, _ buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno>
    /// write(2) of the buffer: the byte count written.
    var write: (_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno>
    /// close(2).
    var close: (_ fd: FileDescriptor) -> Result<Void, Errno>
    /// mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset).
    var mmap: (_ fd: FileDescriptor, _ length: Int, _ offset: Int64) -> Result<UnsafeMutableRawPointer, Errno>
    /// munmap(2).
    var munmap: (_ address: UnsafeMutableRawPointer, _ length: Int) -> Result<Void, Errno>
    /// fstat(2), reduced to what the backend checks.
    var fileStatus: (_ fd: FileDescriptor) -> Result<FileStatus, Errno>
    /// opendir(3)/readdir(3)/closedir(3): the entry names other than `.` and `..`.
    var listDirectory: (_ path: FilePath) -> Result<[String], Errno>
    /// sysconf(_SC_PAGESIZE).
    var pageSize: () -> Result<Int, Errno>

    /// What `fstat` says about a descriptor.
    struct FileStatus: Equatable {
        /// A regular file (standing in for a device node in tests), not a character device.
        var isRegularFile: Bool
        var byteCount: Int64
    }

    static var live: SystemCalls {
        SystemCalls(
            open: { path, mode, options in
                catching { try FileDescriptor.open(path, mode, options: options, retryOnInterrupt: true) }
            },
            read: { fd, buffer in catching { try fd.read(into: buffer, retryOnInterrupt: true) } },
            write: { fd, bytes in catching { try fd.write(bytes, retryOnInterrupt: true) } },
            close: { fd in catching { try fd.close() } },
            mmap: { fd, length, offset in
                let address = Glibc.mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd.rawValue, off_t(offset))
                // MAP_FAILED is ((void *) -1), a macro Swift does not import.
                guard let address, UInt(bitPattern: address) != UInt.max else { return .failure(Errno(rawValue: errno)) }
                return .success(address)
            },
            munmap: { address, length in
                Glibc.munmap(address, length) == 0 ? .success(()) : .failure(Errno(rawValue: errno))
            },
            fileStatus: { fd in
                var status = stat()
                guard Glibc.fstat(fd.rawValue, &status) == 0 else { return .failure(Errno(rawValue: errno)) }
                return .success(FileStatus(isRegularFile: status.st_mode & S_IFMT == S_IFREG, byteCount: Int64(status.st_size)))
            },
            listDirectory: { path in
                guard let directory = path.withPlatformString({ opendir($0) }) else { return .failure(Errno(rawValue: errno)) }
                defer { closedir(directory) }
                var names: [String] = []
                while let entry = readdir(directory) {
                    let name = withUnsafePointer(to: entry.pointee.d_name) {
                        $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                            String(cString: $0)
                        }
                    }
                    if name != "." && name != ".." { names.append(name) }
                }
                return .success(names)
            },
            pageSize: {
                let size = sysconf(Int32(_SC_PAGESIZE))
                return size > 0 ? .success(size) : .failure(Errno(rawValue: errno == 0 ? EINVAL : errno))
            }
        )
    }
}

private func catching<T>(_ body: () throws -> T) -> Result<T, Errno> {
    do {
        return .success(try body())
    } catch let error as Errno {
        return .failure(error)
    } catch {
        return .failure(.ioError)
    }
}
