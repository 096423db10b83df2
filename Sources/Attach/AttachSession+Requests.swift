import Board
import CAttachProtocol
import Glibc
import Reactor
import UIO

// What each mailbox request does (uioemu_attach.h, enum uioemu_op), and how its reply goes out.
extension AttachSession {
    /// What a request comes to: an answer now, or one later.
    enum Outcome {
        case reply(Mailbox.Reply)
        case wait(handles: [Int], deadline: Int64?, AttachedProcess.Wait.Completion)
        /// The run stops; the process gets no answer (uioemu ends it).
        case stop(String)
    }

    /// Serves the request waiting in `p`'s mailbox.
    func handleRequest(of p: AttachedProcess) {
        let sequence = p.mailbox.requestSequence
        p.answeredSequence = sequence
        if debugRequests { debugLog("request op \(p.mailbox.operation) from \(p.pid) (\(p.name)) seq \(sequence) at \(reactor.now)") }
        drainAttributeWriters()
        let debt = p.mailbox.debtNanoseconds
        // A process detaching does nothing on the board: its clock reads need no board time then
        // (and waiting for it could deadlock with the process it is about to wait for).
        if !isRealTime && debt > 0 && p.mailbox.operation != UIOEMU_OP_DETACH.rawValue {
            // The clock reads since the last request cost board time: pay it, then act.
            begin(.wait(handles: [], deadline: reactor.now.nanosecondsSinceStart + debt, .request), for: p, sequence: sequence)
            return
        }
        begin(perform(p), for: p, sequence: sequence)
    }

    /// Real time: every pending request, answered at once; then a short spin for the next one (a
    /// driver's register accesses come back to back, and waking through the reactor costs an
    /// eventfd write, an epoll wake-up and a dispatch), then asleep again: the processes wake the
    /// reactor through the notify eventfd only while `emulator_sleeping` is set.
    func serveRealTimeRequests() {
        let live = processes.filter { !$0.isGone }
        for p in live { p.mailbox.setEmulatorSleeping(false) }
        var idle = 0
        while idle < 4_000 {  // bounded: ~10 µs without a request ends the spin
            var served = false
            for p in live where !p.isGone && p.hasRequest {
                handleRequest(of: p)
                served = true
            }
            idle = served ? 0 : idle + 1
        }
        for p in live where !p.isGone { p.mailbox.setEmulatorSleeping(true) }
        // A request stored before the flag was seen did not notify: serve it now (seq_cst on both sides).
        for p in live where !p.isGone && p.hasRequest { handleRequest(of: p) }
    }

    private func begin(_ outcome: Outcome, for p: AttachedProcess, sequence: UInt32) {
        switch outcome {
        case let .reply(reply):
            if case .detached = p.state, p.mailbox.operation == UIOEMU_OP_DETACH.rawValue {
                // Detaching: it stays so after the reply.
            } else {
                p.state = .running
            }
            send(reply, to: p, sequence: sequence)
        case let .wait(handles, deadline, completion):
            if isRealTime {
                // Real time has no board-time waits: the child waits natively. Answer as if due.
                let wait = AttachedProcess.Wait(handles: handles, deadline: deadline, completion: completion, sequence: sequence)
                complete(wait, of: p)
                return
            }
            let wait = AttachedProcess.Wait(handles: handles, deadline: deadline, completion: completion, sequence: sequence)
            p.state = .waiting(wait)
            if let deadline {
                if p.deadlineTimer == nil { p.deadlineTimer = reactor.makeTimer(target: DeadlineTarget.shared, tag: 0) }
                reactor.arm(p.deadlineTimer!, at: Instant(nanosecondsSinceStart: deadline))
            }
        case let .stop(problem):
            p.state = .running
            stopRun(problem)
        }
    }

    /// Ends `wait`: works out the reply as of now and sends it.
    func complete(_ wait: AttachedProcess.Wait, of p: AttachedProcess) {
        if let timer = p.deadlineTimer { reactor.disarm(timer) }
        p.state = .running
        switch wait.completion {
        case let .reply(reply): send(reply, to: p, sequence: wait.sequence)
        case let .uioRead(handle, bytes): send(readUIO(p, handle: handle, bytes: bytes, blocking: false), to: p, sequence: wait.sequence)
        case .readiness: send(readiness(p, wait.handles), to: p, sequence: wait.sequence)
        case .sleep: send(Mailbox.Reply(), to: p, sequence: wait.sequence)
        case .request: begin(perform(p), for: p, sequence: wait.sequence)
        }
    }

    private func send(_ reply: Mailbox.Reply, to p: AttachedProcess, sequence: UInt32) {
        if debugRequests { debugLog("reply \(reply.result) to \(p.pid) seq \(sequence) at \(reactor.now)") }
        let now = reactor.now.nanosecondsSinceStart
        for other in processes where !other.isGone { other.mailbox.setBoardTime(now) }
        for (h, handle) in p.handles {
            if case let .uio(file) = handle, case let .success(readable) = file.poll() { p.mailbox.setReadable(h, readable) }
        }
        p.mailbox.write(reply, protectionChanges: p.pendingProtection)
        p.pendingProtection.removeAll(keepingCapacity: true)
        p.wokeAtLastReply = p.mailbox.publishReply(sequence, cpu: uioemu_host_cpu_plus_one())
    }

    // MARK: the operations

    private func perform(_ p: AttachedProcess) -> Outcome {
        let m = p.mailbox
        switch m.operation {
        case UIOEMU_OP_OPEN.rawValue: return open(p, path: m.payloadText, flags: Int32(truncatingIfNeeded: m.argument(0)))
        case UIOEMU_OP_CLOSE.rawValue:
            if let handle = p.handles.removeValue(forKey: Int(m.argument(0))) { release(handle) }
            return .reply(Mailbox.Reply())
        case UIOEMU_OP_READ.rawValue: return read(p, handle: Int(m.argument(0)), bytes: Int(m.argument(1)), blocking: m.argument(2) == 0)
        case UIOEMU_OP_WRITE.rawValue: return .reply(write(p, handle: Int(m.argument(0)), bytes: Array(m.payload.prefix(Int(max(0, m.argument(1)))))))
        case UIOEMU_OP_MMAP.rawValue:
            return .reply(map(p, handle: Int(m.argument(0)), offset: UInt64(bitPattern: m.argument(1)), length: UInt64(bitPattern: m.argument(2))))
        case UIOEMU_OP_MUNMAP.rawValue:
            p.setRegisterTarget(Int(m.argument(0)), nil)
            return .reply(Mailbox.Reply())
        case UIOEMU_OP_REGISTER_READ.rawValue, UIOEMU_OP_REGISTER_WRITE.rawValue:
            return registerAccess(p, isWrite: m.operation == UIOEMU_OP_REGISTER_WRITE.rawValue, mapping: Int(m.argument(0)),
                                  offset: UInt64(bitPattern: m.argument(1)), width: Int(m.argument(2)),
                                  value: UInt64(bitPattern: m.argument(3)), instruction: UInt64(bitPattern: m.argument(4)))
        case UIOEMU_OP_SLEEP_UNTIL.rawValue:
            let deadline = m.argument(0)
            return deadline <= reactor.now.nanosecondsSinceStart ? .reply(Mailbox.Reply()) : .wait(handles: [], deadline: deadline, .sleep)
        case UIOEMU_OP_WAIT.rawValue:
            let count = min(Int(max(0, m.argument(1))), Int(UIOEMU_PAYLOAD_BYTES) / 4)
            let payload = m.payload
            var handles: [Int] = []
            for i in 0..<count where (i + 1) * 4 <= payload.count {
                handles.append(Int(payload.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self) }))
            }
            let ready = readiness(p, handles)
            let deadline = m.argument(0) < 0 ? nil : m.argument(0)
            if ready.result > 0 || (deadline.map { $0 <= reactor.now.nanosecondsSinceStart } ?? false) { return .reply(ready) }
            return .wait(handles: handles, deadline: deadline, .readiness)
        case UIOEMU_OP_CPU_TOUCH.rawValue:
            return .reply(cpuTouch(p, address: PhysicalAddress(UInt64(bitPattern: m.argument(0))), isWrite: m.argument(1) != 0,
                                   instruction: UInt64(bitPattern: m.argument(2))))
        case UIOEMU_OP_PROBLEM.rawValue:
            let text = m.payloadText
            return .stop(text.isEmpty ? "process \(p.pid) (\(p.name)) reported problem \(m.argument(0)) at instruction 0x\(String(UInt64(bitPattern: m.argument(1)), radix: 16))" : text)
        case UIOEMU_OP_DETACH.rawValue:
            switch m.argument(0) {
            case Int64(UIOEMU_DETACH_WAITPID.rawValue): p.state = .detached(waitingFor: Int32(truncatingIfNeeded: m.argument(1)))
            case Int64(UIOEMU_DETACH_READ.rawValue): p.state = .detached(waitingFor: nil)
            default: p.state = .running  // back
            }
            return .reply(Mailbox.Reply())
        case UIOEMU_OP_FORKED.rawValue:
            let child = Int32(truncatingIfNeeded: m.argument(0))
            if child > 0 && !processes.contains(where: { $0.pid == child && !$0.isGone }) { expectedPIDs[child] = p.pid }
            return .reply(Mailbox.Reply())
        default:
            return .stop("process \(p.pid) (\(p.name)) sent an unknown request \(m.operation): the preload library and uioemu come from different builds")
        }
    }

    // MARK: open and close

    private func open(_ p: AttachedProcess, path: String, flags: Int32) -> Outcome {
        let access = flags & O_ACCMODE
        let writes = access == O_WRONLY || access == O_RDWR
        func handle(_ h: BoardHandle, kind: UInt32, size: UInt64 = 0, address: UInt64 = 0, payload: [UInt8] = []) -> Outcome {
            guard let n = p.allocateHandle(h) else { return .reply(.error(EMFILE)) }
            return .reply(Mailbox.Reply(result: Int64(n), values: (Int64(kind), Int64(size), Int64(bitPattern: address), 0), payload: payload))
        }
        switch tree.resolve(path) {
        case .missing:
            return .reply(.error(ENOENT))
        case let .file(hostPath):
            // sysfs attributes without a store method refuse writers (fs/sysfs/file.c: EACCES).
            if writes { return .reply(.error(EACCES)) }
            return .reply(Mailbox.Reply(result: 0, values: (Int64(UIOEMU_KIND_FILE.rawValue), 0, 0, 0), payload: Array(hostPath.utf8) + [0]))
        case let .uio(index):
            guard index < uio.devices.count else { return .reply(.error(ENODEV)) }
            let file = uio.devices[index].open(nonBlocking: true, backing: isRealTime ? .eventfd : .inProcess)
            file.tracer = tracer
            guard let n = p.allocateHandle(.uio(file)) else { file.close(); return .reply(.error(EMFILE)) }
            var reply = Mailbox.Reply(result: Int64(n), values: (Int64(UIOEMU_KIND_UIO.rawValue), 0, 0, 0))
            if isRealTime && file.readinessDescriptor >= 0 {
                let message = ControlMessage.descriptor(handle: UInt32(n), purpose: UIOEMU_FD_UIO_READINESS.rawValue)
                if AttachSystemCalls.send(p.socket, message.encoded(), descriptors: [file.readinessDescriptor]) == nil {
                    reply.descriptorFollows = true
                }
            }
            return .reply(reply)
        case let .buffer(name):
            guard let buffer = uio.heap.liveBuffers.first(where: { $0.name == name }) else { return .reply(.error(ENODEV)) }
            return handle(.buffer(buffer), kind: UIOEMU_KIND_UDMABUF.rawValue, size: buffer.size, address: buffer.physicalAddress.rawValue)
        case .devmem:
            return handle(.devmem, kind: UIOEMU_KIND_DEVMEM.rawValue)
        case let .eventCount(index):
            guard index < uio.devices.count else { return .reply(.error(ENODEV)) }
            if writes { return .reply(.error(EACCES)) }
            let text = Array("\(uio.devices[index].eventCount)\n".utf8)
            return handle(.eventCount(uio.devices[index]), kind: UIOEMU_KIND_ATTRIBUTE.rawValue, size: UInt64(text.count), payload: text)
        case let .bufferAttribute(name, attribute):
            guard let buffer = uio.heap.liveBuffers.first(where: { $0.name == name }),
                  BufferAttribute.readable.contains(attribute) else { return .reply(.error(ENOENT)) }
            let value = BufferAttribute(buffer: buffer, name: attribute)
            if !writes {
                let text = Array(attributeText(value).utf8)
                return handle(.attribute(value, writer: nil), kind: UIOEMU_KIND_ATTRIBUTE.rawValue, size: UInt64(text.count), payload: text)
            }
            guard BufferAttribute.writable.contains(attribute) else { return .reply(.error(EACCES)) }
            guard let pipe = AttachSystemCalls.pipe() else { return .reply(.error(AttachSystemCalls.errno())) }
            guard let n = p.allocateHandle(.attribute(value, writer: pipe.read)) else {
                AttachSystemCalls.close(pipe.read); AttachSystemCalls.close(pipe.write)
                return .reply(.error(EMFILE))
            }
            attributeWriters += 1
            var reply = Mailbox.Reply(result: Int64(n), values: (Int64(UIOEMU_KIND_ATTRIBUTE.rawValue), 0, 0, 0))
            let message = ControlMessage.descriptor(handle: UInt32(n), purpose: UIOEMU_FD_ATTRIBUTE_WRITER.rawValue)
            if AttachSystemCalls.send(p.socket, message.encoded(), descriptors: [pipe.write]) == nil { reply.descriptorFollows = true }
            AttachSystemCalls.close(pipe.write)
            return .reply(reply)
        }
    }

    func release(_ handle: BoardHandle) {
        switch handle {
        case let .uio(file): file.close()
        case let .attribute(attribute, writer?):
            apply(AttachSystemCalls.drainPipe(writer), to: attribute)
            AttachSystemCalls.close(writer)
            attributeWriters -= 1
        case .attribute, .buffer, .devmem, .eventCount: break
        }
    }

    // MARK: read and write

    private func read(_ p: AttachedProcess, handle: Int, bytes: Int, blocking: Bool) -> Outcome {
        switch p.handles[handle] {
        case .uio?:
            let reply = readUIO(p, handle: handle, bytes: bytes, blocking: blocking)
            if reply.result == -Int64(EAGAIN) && blocking && !isRealTime { return .wait(handles: [handle], deadline: nil, .uioRead(handle: handle, bytes: bytes)) }
            return .reply(reply)
        case let .attribute(attribute, _)?:
            return .reply(text(attributeText(attribute), limit: bytes))
        case let .eventCount(device)?:
            return .reply(text("\(device.eventCount)\n", limit: bytes))
        default:
            return .reply(.error(EINVAL))
        }
    }

    private func text(_ s: String, limit: Int) -> Mailbox.Reply {
        let bytes = Array(s.utf8.prefix(max(0, limit)))
        return Mailbox.Reply(result: Int64(bytes.count), payload: bytes)
    }

    /// uio_read: the s32 event count in the host's byte order (the attached program runs on the
    /// host's CPU, not the board's), or the kernel's errno in its order of checks.
    func readUIO(_ p: AttachedProcess, handle: Int, bytes: Int, blocking: Bool) -> Mailbox.Reply {
        guard case let .uio(file)? = p.handles[handle] else { return .error(EBADF) }
        switch file.readEventCount(bufferSize: bytes) {
        case let .success(count):
            return Mailbox.Reply(result: 4, payload: withUnsafeBytes(of: count) { Array($0) })
        case let .failure(errno):
            return .error(errno.rawValue)
        }
    }

    private func write(_ p: AttachedProcess, handle: Int, bytes: [UInt8]) -> Mailbox.Reply {
        switch p.handles[handle] {
        case let .uio(file)?:
            // uio_write: EIO without an interrupt, EINVAL for a size other than 4; a non-zero s32 enables.
            guard file.device.interruptLine != nil else { return .error(EIO) }
            guard bytes.count == 4 else { return .error(EINVAL) }
            let value = bytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
            _ = file.setInterruptEnabled(value != 0)
            return Mailbox.Reply(result: 4)
        case let .attribute(attribute, _)?:
            apply(bytes, to: attribute)
            return Mailbox.Reply(result: Int64(bytes.count))
        default:
            return .error(EINVAL)
        }
    }

    /// readiness for poll/select/epoll: the handles among `handles` whose files are readable.
    func readiness(_ p: AttachedProcess, _ handles: [Int]) -> Mailbox.Reply {
        var ready: [UInt8] = []
        var count: Int64 = 0
        for h in handles {
            if case let .uio(file)? = p.handles[h], case .success(true) = file.poll() {
                withUnsafeBytes(of: UInt32(h)) { ready += $0 }
                count += 1
            }
        }
        return Mailbox.Reply(result: count, payload: ready)
    }

    // MARK: mmap

    private func map(_ p: AttachedProcess, handle: Int, offset: UInt64, length: UInt64) -> Mailbox.Reply {
        guard length > 0 else { return .error(EINVAL) }
        switch p.handles[handle] {
        case let .uio(file)?:
            switch file.device.mmap(offset: offset, length: length) {
            case let .success(mapping):
                let base = PhysicalAddress(mapping.map.address.rawValue - mapping.map.offset)
                return registerMapping(p, RegisterTarget(path: .uio(mapping), physicalBase: base, length: mapping.length,
                                                         accessTimeNanoseconds: accessTime(of: mapping.map.region)))
            case let .failure(errno): return .error(errno.rawValue)
            }
        case let .buffer(buffer)?:
            // u-dma-buf's mmap: the offset and length must lie inside the buffer.
            guard offset % UIOMap.pageSize == 0, offset < buffer.size, length <= buffer.size - offset else { return .error(EINVAL) }
            return poolMapping(buffer.physicalAddress + offset)
        case .devmem?:
            guard offset % UIOMap.pageSize == 0 else { return .error(EINVAL) }
            let address = PhysicalAddress(offset)
            if case let .device(window)? = board.bus.region(at: address)?.target {
                guard window.range.contains(address, count: length) else { return .error(EINVAL) }
                return registerMapping(p, RegisterTarget(path: .bus, physicalBase: address, length: length,
                                                         accessTimeNanoseconds: accessTime(of: window.name)))
            }
            if address >= poolMemoryBase, offset - poolMemoryBase.rawValue < poolMemoryBytes,
               length <= poolMemoryBytes - (offset - poolMemoryBase.rawValue) {
                return poolMapping(address)
            }
            // RAM outside the pool: CONFIG_STRICT_DEVMEM refuses it (EPERM); nothing at all there: EINVAL.
            if case .ram? = board.bus.region(at: address)?.target { return .error(EPERM) }
            return .error(EINVAL)
        default:
            return .error(ENODEV)
        }
    }

    /// The board time one access to `region`'s registers costs: the option, else the device's
    /// `access-time` (the default for a region that is not a device).
    private func accessTime(of region: String) -> Int64 {
        if let fixed = options.registerAccessTime { return fixed.nanoseconds }
        return Int64(board.profile.device(named: region)?.accessTimeNanoseconds ?? DeviceSpec.defaultAccessTimeNanoseconds)
    }

    private func registerMapping(_ p: AttachedProcess, _ target: RegisterTarget) -> Mailbox.Reply {
        let id = p.nextMapping
        p.nextMapping += 1
        p.setRegisterTarget(id, target)
        return Mailbox.Reply(result: 0, values: (Int64(UIOEMU_MAPPING_REGISTERS.rawValue), Int64(id), 0, Int64(bitPattern: target.physicalBase.rawValue)))
    }

    private func poolMapping(_ address: PhysicalAddress) -> Mailbox.Reply {
        Mailbox.Reply(result: 0, values: (Int64(UIOEMU_MAPPING_POOL.rawValue), 0, Int64(address - poolMemoryBase),
                                          Int64(bitPattern: address.rawValue)))
    }

    // MARK: CPU touches (non-coherent boards)

    private func cpuTouch(_ p: AttachedProcess, address: PhysicalAddress, isWrite: Bool, instruction: UInt64) -> Mailbox.Reply {
        guard address >= poolMemoryBase, address.rawValue - poolMemoryBase.rawValue < poolMemoryBytes else {
            return Mailbox.Reply.error(EFAULT)
        }
        guard let buffer = uio.heap.buffer(containing: address, length: 1) else {
            let page = (address.rawValue - poolMemoryBase.rawValue) / UIOMap.pageSize * UIOMap.pageSize
            p.pendingProtection.append(uioemu_protection_change(pool_offset: page, length: UIOMap.pageSize, accessible: 1, reserved: 0))
            return Mailbox.Reply()
        }
        if buffer.owner == .device {
            cpuTouches += 1
            // The heap records the finding (CONFIG_DMA_API_DEBUG would warn here on the board), the
            // trace the touch (for the protocol checker).
            buffer.noteCPUTouch(offset: address - buffer.physicalAddress, write: isWrite)
        }
        // Let the program go on; the buffer is protected again at its next sync for the device.
        p.pendingProtection.append(protection(buffer, accessible: true))
        return Mailbox.Reply()
    }

    func protection(_ buffer: DMABuffer, accessible: Bool) -> uioemu_protection_change {
        uioemu_protection_change(pool_offset: buffer.physicalAddress - poolMemoryBase, length: buffer.size,
                                 accessible: accessible ? 1 : 0, reserved: 0)
    }

    // MARK: registers

    private func registerAccess(_ p: AttachedProcess, isWrite: Bool, mapping: Int, offset: UInt64, width: Int, value: UInt64,
                                instruction: UInt64) -> Outcome {
        // The messages are made only when needed: this runs once per access of the program.
        func at() -> String { "instruction 0x\(String(instruction, radix: 16)) of process \(p.pid) (\(p.name))" }
        guard let target = p.registerTarget(mapping) else {
            return .stop("\(at()) accessed a register mapping uioemu does not know (\(mapping))")
        }
        guard width > 0, offset < target.length, UInt64(width) <= target.length - offset else {
            return .stop("\(at()) accessed \(width) byte(s) at offset 0x\(String(offset, radix: 16)) of a \(target.length)-byte register mapping: the preload library and uioemu disagree about the mapping")
        }
        let address = target.physicalBase + offset
        registerAccesses += 1
        func where_() -> String { "0x\(String(address.rawValue, radix: 16))" }
        switch (isWrite, width) {
        case (_, 4) where offset % 4 == 0, (_, 8) where offset % 4 == 0:
            break
        case (false, 1), (false, 2):
            break
        case (true, 1), (true, 2):
            return .stop("\(at()) stores \(width) byte(s) to register \(where_()): the AXI DMA's registers take 32-bit writes only (a narrower store would change bytes it does not name); use a 32-bit store")
        default:
            return .stop("\(at()) accesses \(width) byte(s) at register \(where_()), which is not aligned to 4: the AXI DMA's registers are 32-bit words")
        }
        var result: UInt64 = 0
        if isWrite {
            for word in 0..<(width / 4) {
                let v = UInt32(truncatingIfNeeded: value >> (32 * UInt64(word)))
                writeRegister(target, offset: offset + UInt64(word * 4), v)
            }
        } else if width >= 4 {
            for word in 0..<(width / 4) {
                result |= UInt64(readRegister(target, offset: offset + UInt64(word * 4))) << (32 * UInt64(word))
            }
        } else {
            // A narrow load: the aligned word, then its bytes (AXI4-Lite reads whole words; a read has no side effect here).
            let aligned = offset & ~3
            let word = readRegister(target, offset: aligned)
            let shift = (offset - aligned) * 8
            result = UInt64((word >> UInt32(shift)) & (width == 1 ? 0xFF : 0xFFFF))
        }
        var reply = Mailbox.Reply()
        reply.values.0 = Int64(bitPattern: result)
        let cost = target.accessTimeNanoseconds * Int64(max(1, width / 4))
        if isRealTime || cost <= 0 { return .reply(reply) }
        let deadline = reactor.now.nanosecondsSinceStart + cost
        // Nothing on the board happens before the access completes: move the clock and answer now.
        if reactor.advanceIdleClock(to: Instant(nanosecondsSinceStart: deadline)) { return .reply(reply) }
        return .wait(handles: [], deadline: deadline, .reply(reply))
    }

    /// The host is little-endian: the program's loads and stores reach the board as little-endian
    /// accesses, as `le32toh(*reg)` would on the PowerPC board.
    private func readRegister(_ target: RegisterTarget, offset: UInt64) -> UInt32 {
        switch target.path {
        case let .uio(mapping):
            if case let .success(v) = mapping.read32(at: offset, assuming: .little) { return v }
            return 0xFFFF_FFFF
        case .bus:
            if case let .success(v) = board.bus.read32(at: target.physicalBase + offset, assuming: .little) { return v }
            return 0xFFFF_FFFF
        }
    }

    private func writeRegister(_ target: RegisterTarget, offset: UInt64, _ value: UInt32) {
        switch target.path {
        case let .uio(mapping): _ = mapping.write32(value, at: offset, assuming: .little)
        case .bus: _ = board.bus.write32(value, at: target.physicalBase + offset, assuming: .little)
        }
    }
}

/// The target of every process's deadline timer: it only has to make the clock stop at the
/// deadline; the gate then sees the wait satisfied.
final class DeadlineTarget: ReactorTarget {
    nonisolated(unsafe) static let shared = DeadlineTarget()
    override func reactorEvent(_ tag: UInt64) {}
}
