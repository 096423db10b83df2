import Foundation
import Testing

/// `uioemu attach` run as a user runs it, with the example drivers `make examples` builds
/// (.build/examples) and the preload library `make preload` puts next to uioemu.
@Suite("uioemu attach, end to end (the executable and the example drivers)")
struct AttachEndToEndTests {
    static let example = ".build/examples/axidma-rx"

    /// The `trace-hash` line of a report.
    func hash(_ output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix("trace-hash ") }.map { String($0.dropFirst("trace-hash ".count)) }
    }

    @Test("the C example completes 10,000 transfers with every byte checked, twice with the same trace hash")
    func cExampleIsDeterministic() throws {
        var hashes: [String] = []
        for _ in 0..<2 {
            let r = try runUIOEmu(["attach", "p2020-fpga", "--trace-hash", "--", Self.example, "--count", "10000"])
            #expect(r.status == 0, "\(r.out)\(r.err)")
            #expect(r.out.contains("axidma-rx: 10000 completions, 40960000 bytes, 0 errors, 0 mismatches"), "\(r.out)")
            #expect(r.out.contains("completions 10000, bytes delivered 40960000"), "\(r.out)")
            #expect(r.out.contains("PASS (exit 0)"), "\(r.out)")
            hashes.append(try #require(hash(r.out), "\(r.out)"))
        }
        #expect(hashes[0] == hashes[1])
    }

    @Test("the scatter-gather C example (descriptor ring and buffers in one u-dma-buf, 4 packets per interrupt) checks every byte of 1,000 packets with no finding")
    func scatterGatherExample() throws {
        let r = try runUIOEmu(["attach", "scenarios/boards/p2020-fpga-sg.yaml", "--trace-hash", "--", ".build/examples/axidma-rx-sg", "--count", "1000"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("axidma-rx-sg: 1000 completions, 4096000 bytes, 250 interrupts, 0 errors, 0 mismatches"), "\(r.out)")
        #expect(r.out.contains("completions 1000, bytes delivered 4096000"), "\(r.out)")
        #expect(!r.out.contains("finding"), "\(r.out)")
        #expect(r.out.contains("PASS (exit 0)"), "\(r.out)")
        // On a core built without scatter-gather it stops with a clear message, not a hang.
        let direct = try runUIOEmu(["attach", "p2020-fpga", "--", ".build/examples/axidma-rx-sg", "--count", "10"])
        #expect(direct.status == 2, "\(direct.out)\(direct.err)")
        #expect(direct.err.contains("the core is not built with scatter-gather (DMASR.SGIncld = 0)"), "\(direct.err)")
    }

    @Test("the Python example (mmap, os.read, os.write only) passes")
    func pythonExample() throws {
        let r = try runUIOEmu(["attach", "p2020-fpga", "--", "python3", "examples/python/axidma_rx.py", "--count", "50"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("axidma_rx.py: 50 completions"), "\(r.out)")
        #expect(r.out.contains("completions 50,"), "\(r.out)")
    }

    @Test("re-enabling the interrupt before clearing IOC fails with the enable-with-cause-asserted finding")
    func unmaskFirstBug() throws {
        let r = try runUIOEmu(["attach", "p2020-fpga", "--", ".build/examples/axidma-rx-bug-unmask-first", "--count", "100"])
        #expect(r.status == 1, "\(r.out)\(r.err)")
        #expect(r.out.contains("finding enables-with-cause-asserted: 100"), "\(r.out)")
        #expect(r.out.contains("FAIL (exit 1)"), "\(r.out)")
    }

    @Test("reading the buffer without sync_for_cpu on the non-coherent ML507 is caught at the instruction")
    func noSyncBug() throws {
        let r = try runUIOEmu(["attach", "ml507-ppc440", "--", ".build/examples/axidma-rx-bug-no-sync", "--count", "100"])
        #expect(r.status == 1, "\(r.out)\(r.err)")
        #expect(r.out.contains("finding cpu-access-while-device-owned: 100"), "\(r.out)")
        // The same driver with the sync passes on the same board.
        let good = try runUIOEmu(["attach", "ml507-ppc440", "--", Self.example, "--count", "100"])
        #expect(good.status == 0, "\(good.out)\(good.err)")
        #expect(!good.out.contains("finding"), "\(good.out)")
    }

    @Test("registers and the buffer mapped through /dev/mem at their physical addresses work, polling DMASR")
    func devmemExample() throws {
        let r = try runUIOEmu(["attach", "p2020-fpga", "--", ".build/examples/axidma-rx-devmem",
                               "--regs", "0xfffb00000", "--buffer", "0x3c000000", "--size", "65536", "--count", "100"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("axidma-rx-devmem: 100 completions"), "\(r.out)")
    }

    @Test("the built-in driver's real-board backend (uioemu driver: libevent, epoll, timerfd) runs under attach", arguments: ["virtual", "realtime"])
    func builtInDriverThroughAProcessBoundary(time: String) throws {
        let r = try runUIOEmu(["attach", "p2020-fpga", "--time", time, "--", uioemuExecutable.path, "driver", "--uio", "axi-dma-s2mm",
                               "--udmabuf", "udmabuf0", "--udmabuf", "udmabuf1", "--count", "100"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("completions        100"), "\(r.out)")
        #expect(!r.out.contains("finding"), "\(r.out)")
    }

    @Test("a shell pipeline around the driver runs, with the same trace hash every time")
    func pipelineIsDeterministic() throws {
        var hashes: [String] = []
        for _ in 0..<2 {
            let r = try runUIOEmu(["attach", "p2020-fpga", "--trace-hash", "--", "sh", "-c", "\(Self.example) --count 50 | tee /dev/null"])
            #expect(r.status == 0, "\(r.out)\(r.err)")
            #expect(r.out.contains("completions 50,"), "\(r.out)")
            hashes.append(try #require(hash(r.out), "\(r.out)"))
        }
        #expect(hashes[0] == hashes[1])
    }

    @Test("a scenario names the C example as its driver, injects a slave error, and the driver recovers")
    func scenarioWithExternalDriver() throws {
        let r = try runUIOEmu(["play", "scenarios/attached-c-driver-slave-error.yaml"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("PASS"), "\(r.out)")
        #expect(r.out.contains("axidma-rx: 2000 completions, 8192000 bytes, 1 errors, 0 mismatches"), "\(r.out)")
    }

    @Test("a command that does not exist is an input error naming it (exit 2)")
    func missingCommand() throws {
        let r = try runUIOEmu(["attach", "p2020-fpga", "--", "./no-such-driver"])
        #expect(r.status == 2, "\(r.out)\(r.err)")
        #expect(r.err.contains("command not found: ./no-such-driver"), "\(r.err)")
    }

    @Test("a driver killed with SIGKILL mid-run is reported within a second, with the counts up to then")
    func killedChild() throws {
        let run = try BackgroundUIOEmu(["attach", "p2020-fpga", "--", Self.example, "--count", "100000000"])
        defer { run.reap() }
        let child = try #require(run.waitForChild(named: "axidma-rx"), "the driver never started")
        run.waitUntilBoardFileOpen(child)
        kill(child, SIGKILL)
        let start = Date()
        let status = run.wait()
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed < 1.0, "uioemu took \(elapsed) s to report the child's death")
        #expect(status == 137, "\(run.output)")
        #expect(run.output.contains("the program was killed by signal 9 (SIGKILL) at board time"), "\(run.output)")
        #expect(run.output.contains("stream accounting (produced = delivered + held + dropped): holds"), "\(run.output)")
    }
}

@Suite("uioemu attach with the MM2S stream looped back into S2MM")
struct AttachLoopbackTests {
    @Test("the loopback example sends buffers out on MM2S and reads them back on S2MM, each word plus the fabric's constant")
    func loopbackExample() throws {
        let r = try runUIOEmu(["attach", "p2020-fpga", "--loopback-add", "7", "--", ".build/examples/axidma-loopback", "--count", "50", "--add", "7"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("axidma-loopback: 50 round trips of 4096 bytes, 0 errors, 0 mismatches"), "\(r.out)")
        // The program that expects another constant sees every word differ.
        let wrong = try runUIOEmu(["attach", "p2020-fpga", "--loopback-add", "7", "--", ".build/examples/axidma-loopback", "--count", "5"])
        #expect(wrong.status == 1, "\(wrong.out)")
        #expect(wrong.out.contains("5 round trips of 4096 bytes, 0 errors, 5120 mismatches"), "\(wrong.out)")
    }
}

@Suite("uioemu attach against a hostile program")
struct AttachHostileTests {
    /// Connects to the control socket itself and sends what the preload library never would.
    static let script = """
        import os, socket, struct
        path = os.environ["UIOEMU_ATTACH_SOCKET"]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        s.send(b"\\x00\\x01garbage that is no HELLO")
        print("refused:", s.recv(4096)[16:].split(b"\\0")[0].decode())
        t = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        t.connect(path)
        t.send(struct.pack("<IHHII", 0x656f6975, 1, 1, 32, 0))
        print("refused:", t.recv(4096)[16:].split(b"\\0")[0].decode())
        """

    @Test("a malformed or truncated control message ends that connection with an error naming what was wrong; uioemu goes on")
    func malformedControlMessages() throws {
        let r = try runUIOEmu(["attach", "p2020-fpga", "--", "python3", "-c", Self.script])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("refused: malformed control message: bad magic 0x61670100 (expected 0x656f6975)"), "\(r.out)")
        #expect(r.out.contains("refused: malformed control message: message type 1 says 32 bytes of body, the packet has 0"), "\(r.out)")
        #expect(r.out.contains("note: refused a connection: malformed control message: bad magic"), "\(r.out)")
    }

    @Test("the preload library loaded without uioemu passes everything through and says so once")
    func preloadWithoutUIOEmu() throws {
        let library = uioemuExecutable.deletingLastPathComponent().appendingPathComponent("libuioemu-attach.so").path
        let r = try runShell("LD_PRELOAD=\(library) sh -c 'cat /sys/class/uio/uio0/name 2>/dev/null; ls /dev/null; ls /dev/null'")
        #expect(r.out.contains("/dev/null"), "\(r.out)\(r.err)")
        let notes = r.err.components(separatedBy: "not started by uioemu attach").count - 1
        #expect(notes == 1, "\(r.err)")
    }
}

@Suite("What an attached program gets, and what it does not")
struct AttachEnvironmentTests {
    @Test("mmap of a register map with a size beyond the map, or an offset that is no map, gets the kernel's EINVAL")
    func mmapChecks() throws {
        let script = """
            import errno, mmap, os
            fd = os.open("/dev/uio0", os.O_RDWR)
            for length, offset in ((0x20000, 0), (4096, 4096 * 3), (4096, 100)):
                try:
                    mmap.mmap(fd, length, offset=offset)
                    print("mapped", length, offset)
                except (OSError, ValueError) as e:
                    print("refused", length, offset, getattr(e, "errno", None) == errno.EINVAL)
            """
        let r = try runUIOEmu(["attach", "p2020-fpga", "--", "python3", "-c", script])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("refused 131072 0 True"), "\(r.out)")
        #expect(r.out.contains("refused 4096 12288 True"), "\(r.out)")
        #expect(r.out.contains("refused 4096 100"), "\(r.out)")
        #expect(!r.out.contains("\nmapped "), "\(r.out)")
    }

    @Test("the program runs with no new privileges, and its private run directory is gone when uioemu exits")
    func privilegesAndCleanUp() throws {
        let script = """
            import os
            print("root", os.environ["UIOEMU_ATTACH_ROOT"])
            print([l for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0].strip())
            print("mode", oct(os.stat(os.path.dirname(os.environ["UIOEMU_ATTACH_ROOT"])).st_mode & 0o777))
            """
        let r = try runUIOEmu(["attach", "p2020-fpga", "--", "python3", "-c", script])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("NoNewPrivs:\t1"), "\(r.out)")
        #expect(r.out.contains("mode 0o700"), "\(r.out)")
        let root = try #require(r.out.split(separator: "\n").first { $0.hasPrefix("root ") }).dropFirst("root ".count)
        #expect(!FileManager.default.fileExists(atPath: String(root)), "\(root) is still there")
    }

    @Test("a second thread touching the board in virtual time is reported by name and stops the run; real time allows it")
    func secondThread() throws {
        let script = """
            import ctypes, mmap, os, threading
            fd = os.open("/dev/uio0", os.O_RDWR)
            regs = memoryview(mmap.mmap(fd, 0x10000)).cast("I")
            print("main reads", regs[0x34 // 4] & 1)
            def poll():
                ctypes.CDLL(None).prctl(15, b"poller", 0, 0, 0)  # PR_SET_NAME: the thread's name in /proc
                print("thread reads", regs[0x34 // 4] & 1)
            t = threading.Thread(target=poll, name="poller")
            t.start()
            t.join()
            """
        let virtual = try runUIOEmu(["attach", "p2020-fpga", "--", "python3", "-c", script])
        #expect(virtual.status == 1, "\(virtual.out)\(virtual.err)")
        #expect(virtual.out.contains("main reads 1"), "\(virtual.out)")
        #expect(virtual.out.contains("problem: a second thread touched the board in virtual time: thread 'poller'"), "\(virtual.out)")
        #expect(!virtual.out.contains("\nthread reads "), "\(virtual.out)")
        let real = try runUIOEmu(["attach", "p2020-fpga", "--time", "realtime", "--", "python3", "-c", script])
        #expect(real.status == 0, "\(real.out)\(real.err)")
        #expect(real.out.contains("thread reads 1"), "\(real.out)")
    }
}

@Suite("Board time as an attached program sees it")
struct AttachBoardTimeTests {
    @Test("in virtual time each register access costs the device's access time (200 ns on the P2020's local bus), and the realtime clock starts at 2026-01-01")
    func registerAccessesCostBoardTime() throws {
        let script = """
            import mmap, os, time
            print("epoch", int(time.time()))
            fd = os.open("/dev/uio0", os.O_RDWR)
            regs = memoryview(mmap.mmap(fd, 0x10000)).cast("I")
            t0 = time.monotonic_ns()
            for _ in range(1000):
                regs[0x34 // 4]
            print("elapsed", time.monotonic_ns() - t0)
            """
        let r = try runUIOEmu(["attach", "p2020-fpga", "--", "python3", "-c", script])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("epoch 1767225600"), "\(r.out)")
        let elapsed = try #require(r.out.split(separator: "\n").first { $0.hasPrefix("elapsed ") }.flatMap { Int($0.dropFirst("elapsed ".count)) })
        // 1,000 accesses × 200 ns, plus a clock read's 20 ns.
        #expect(elapsed == 1000 * 200 + 20, "\(r.out)")
    }

    @Test("/dev/mem maps a device window and the DMA pool; RAM outside the pool is EPERM and an address with nothing behind it EINVAL")
    func devmemAddresses() throws {
        let script = """
            import mmap, os
            fd = os.open("/dev/mem", os.O_RDWR | os.O_SYNC)
            for name, address in (("window", 0xfffb00000), ("pool", 0x3c000000), ("ram", 0x1000000), ("hole", 0x80000000)):
                try:
                    mmap.mmap(fd, 4096, offset=address)
                    print(name, "mapped")
                except OSError as e:
                    print(name, "refused", os.strerror(e.errno))
            """
        let r = try runUIOEmu(["attach", "p2020-fpga", "--", "python3", "-c", script])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("window mapped"), "\(r.out)")
        #expect(r.out.contains("pool mapped"), "\(r.out)")
        #expect(r.out.contains("ram refused Operation not permitted"), "\(r.out)")
        #expect(r.out.contains("hole refused Invalid argument"), "\(r.out)")
    }
}
