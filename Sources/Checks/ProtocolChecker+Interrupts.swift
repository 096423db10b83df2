import Trace

/// What the checker knows of one UIO node (`uio_pdrv_genirq`): whether its line is disabled and by
/// whom, and what happened to the channel's cause since the handler last ran.
final class NodeState {
    let name: String
    let traceName: TraceName
    /// The channel whose interrupt the node reports. `unowned(unsafe)`: the checker owns both for
    /// its whole life, and a checked `unowned` read costs a strong retain and release per event.
    unowned(unsafe) let channel: ChannelState
    /// The line is disabled (by the handler or a write of 0). uio_pdrv_genirq starts with it enabled.
    @exclusivity(unchecked) var disabled = false
    /// Disabled by the in-kernel handler, and nobody wrote 1 since: the driver owes a re-enable.
    @exclusivity(unchecked) var disabledByHandler = false
    @exclusivity(unchecked) var interrupts = 0
    /// The cause bits (`DMASR & DMACR & 0x7000`) when the handler last ran: what it reported.
    @exclusivity(unchecked) var reportedCause: UInt32 = 0
    /// Since the handler last ran, the cause it reported went away (the driver cleared it), whatever
    /// else rose meanwhile (an error latched between the driver's DMASR read and its W1C: a new
    /// cause, which the enable delivers correctly).
    @exclusivity(unchecked) var causeClearedSinceHandler = false
    /// A new cause rose while the handler's disable still held, after the driver had cleared the
    /// old one: when (the interrupt that can never be delivered).
    @exclusivity(unchecked) var undeliveredSince: Int64?
    /// A read whose count jumped by more than one, not accounted for yet.
    @exclusivity(unchecked) var unaccountedJump: (at: Int64, count: Int32, previous: Int32)?

    init(name: String, channel: ChannelState) {
        self.name = name
        traceName = TraceName(name)
        self.channel = channel
    }
}

/// The UIO rules (drivers/uio/uio.c, uio_pdrv_genirq.c): the handler disables the line on every
/// interrupt, so the driver must clear the cause and then write 1, every time; a read returns the
/// total count, and a jump of more than one is interrupts the driver did not see.
extension ProtocolChecker {
    func handlerRan(_ node: NodeState) {
        node.disabled = true
        node.disabledByHandler = true
        node.interrupts += 1
        // A spurious pulse reports no cause: there is nothing to clear.
        node.reportedCause = node.channel.cause
        node.causeClearedSinceHandler = node.channel.cause == 0
        node.undeliveredSince = nil
    }

    func interruptEnabled(_ node: NodeState, _ enabled: Bool) {
        guard enabled else {
            // irqcontrol(0) is idempotent: a line the handler disabled stays "owed" a re-enable.
            if !node.disabled {
                node.disabled = true
                node.disabledByHandler = false
            }
            return
        }
        guard node.disabled else { return }
        // Only the cause the handler reported counts: a cause that became pending while another
        // file had the line disabled, or a new one after the driver cleared the old, is delivered
        // correctly by this enable.
        if node.disabledByHandler && !node.causeClearedSinceHandler && node.channel.cause != 0 { enableWithCause(node) }
        node.disabled = false
        node.disabledByHandler = false
        node.undeliveredSince = nil
    }

    @inline(never)
    private func enableWithCause(_ node: NodeState) {
        let channel = node.channel
        report(.enableWithCause, device: node.name, register: "",
               values: "write 1 while \(channel.name) DMASR \(hex(channel.dmasr)) & DMACR \(hex(channel.dmacr)) leaves cause \(hex(channel.cause)) set (interrupt #\(node.interrupts))")
    }

    /// The channel's `DMASR & DMACR & 0x7000` changed.
    func causeChanged(_ channel: ChannelState) {
        var k = 0
        while k < channel.nodes.count {  // bounded: the board's UIO nodes
            channel.nodes[k]._withUnsafeGuaranteedRef { node in
                guard node.disabledByHandler else { return }
                if channel.cause & node.reportedCause == 0 && !node.causeClearedSinceHandler {
                    node.causeClearedSinceHandler = true
                    if channel.cause != 0 && node.undeliveredSince == nil { node.undeliveredSince = now }
                } else if channel.cause != 0 && node.causeClearedSinceHandler && node.undeliveredSince == nil {
                    node.undeliveredSince = now
                }
            }
            k += 1
        }
    }

    func countRead(_ node: NodeState, count: Int32, previous: Int32) {
        if let jump = node.unaccountedJump { reportJump(node.name, jump) }
        node.unaccountedJump = nil
        if count &- previous > 1 { node.unaccountedJump = (now, count, previous) }
    }

    /// The driver said it noticed interrupts it missed: the latest unaccounted jump is accounted for.
    func lostInterruptsAccounted(_ count: Int) {
        let latest = nodes.filter { $0.value.unaccountedJump != nil }
            .max { a, b in (a.value.unaccountedJump!.at, b.key) < (b.value.unaccountedJump!.at, a.key) }
        if let latest { nodes[latest.key]?.unaccountedJump = nil }
    }

    func stormDetected(node name: TraceName, events: Int) {
        report(.interruptStorm, device: name.string,
               values: "\(events) interrupts in a row with no register write to the device; the line is held disabled")
    }

    /// The rules decided at the end: an unaccounted jump, a cause that was never delivered.
    func runEnded() {
        for name in nodes.keys.sorted() {
            let node = nodes[name]!
            if let jump = node.unaccountedJump { reportJump(name, jump) }
            if node.disabledByHandler, let since = node.undeliveredSince {
                let cause = node.channel.cause
                report(.neverReenabled, at: since, device: name,
                       values: "the line stayed disabled after interrupt #\(node.interrupts); a cause (\(hex(cause)) now) rose at this time and was never delivered")
            }
            nodes[name]?.unaccountedJump = nil
        }
    }

    private func reportJump(_ name: String, _ jump: (at: Int64, count: Int32, previous: Int32)) {
        report(.missedInterrupts, at: jump.at, device: name,
               values: "read count \(jump.count) after \(jump.previous): \(jump.count &- jump.previous - 1) interrupt(s) not seen")
    }
}
