import UIO

/// What the attached process sees at the redirected paths, and where each path leads.
///
/// Static sysfs files (a UIO node's `name`, `version`, its maps) are real files in the run
/// directory, written once in the kernel's formats (`SysfsTree`), so the child's own `stat`,
/// `opendir`, `read` and `glob` work on them natively. Live ones (a node's `event`, a u-dma-buf's
/// `sync_*` attributes) and the device files (`/dev/uioN`, `/dev/NAME` of each u-dma-buf,
/// `/dev/mem`) are answered by the emulator; the tree holds an empty stand-in for each so that
/// listing and `stat` find them.
struct StandInTree {
    /// Where a path the child opens leads.
    enum Target: Equatable {
        /// A file or directory of the tree, opened natively at this host path.
        case file(String)
        case uio(index: Int)
        case buffer(name: String)
        case devmem
        /// `/sys/class/uio/uioN/event`.
        case eventCount(uio: Int)
        /// `/sys/class/u-dma-buf/NAME/ATTRIBUTE` (every u-dma-buf attribute is answered live).
        case bufferAttribute(buffer: String, attribute: String)
        case missing
    }

    let root: String

    /// Writes the tree for `system` under `root` (which exists and is empty).
    static func write(for system: UIOSystem, at root: String) -> String? {
        var directories: Set<String> = []
        func ensureDirectory(of relative: String) -> String? {
            var path = root
            for component in relative.split(separator: "/").dropLast() {
                path += "/" + component
                if directories.insert(path).inserted, let e = AttachSystemCalls.makeDirectory(path) {
                    return "cannot create \(path): \(AttachSystemCalls.describe(e))"
                }
            }
            return nil
        }
        var files = SysfsTree.files(for: system).map { (path: "sys/" + $0.path, contents: $0.contents) }
        for device in system.devices { files.append(("dev/uio\(device.index)", "")) }
        for buffer in system.heap.liveBuffers { files.append(("dev/\(buffer.name)", "")) }
        files.append(("dev/mem", ""))
        for file in files {
            if let problem = ensureDirectory(of: file.path) { return problem }
            if let e = AttachSystemCalls.writeFile(root + "/" + file.path, file.contents) {
                return "cannot write \(root)/\(file.path): \(AttachSystemCalls.describe(e))"
            }
        }
        return nil
    }

    /// Where `path` (absolute, as the child named it, already normalised by the preload library)
    /// leads.
    func resolve(_ path: String) -> Target {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if parts.count == 2 && parts[0] == "dev" {
            if parts[1] == "mem" { return .devmem }
            if parts[1].hasPrefix("uio"), let n = Int(parts[1].dropFirst(3)), String(n) == String(parts[1].dropFirst(3)) {
                return exists(path) ? .uio(index: n) : .missing
            }
            return exists(path) ? .buffer(name: parts[1]) : .missing
        }
        if parts.count == 5 && parts[0] == "sys" && parts[1] == "class" && parts[2] == "uio" && parts[4] == "event",
           parts[3].hasPrefix("uio"), let n = Int(parts[3].dropFirst(3)) {
            return exists(path) ? .eventCount(uio: n) : .missing
        }
        if parts.count == 5 && parts[0] == "sys" && parts[1] == "class" && parts[2] == "u-dma-buf" {
            return exists(path) ? .bufferAttribute(buffer: parts[3], attribute: parts[4]) : .missing
        }
        return exists(path) ? .file(root + path) : .missing
    }

    private func exists(_ path: String) -> Bool {
        access(root + path, F_OK) == 0
    }
}

import Glibc
