import Reactor

/// DMASR.Halted following DMACR.RS, and the soft reset, each after the lag the profile gives
/// (`halt-lag-cycles`, `reset-cycles`; 0 makes them immediate).
///
/// PG021 describes both as status that catches up with a control bit (DMASR.Halted: "the DMA
/// channel is halted ... when RS = 0 and the channel has stopped"; DMACR.Reset: "set to 0 when
/// the reset is complete") without giving a number of cycles, and drivers poll for them: Linux
/// `xilinx_dma_start` polls DMASR until Halted clears after setting RS, `xilinx_dma_reset` polls
/// DMACR until Reset clears. A driver that assumes either is immediate loses what it writes next.
/// None of this is on the per-completion path: a running channel keeps RS set.
extension DMAChannel {
    /// What the channel's settle timer does when it fires.
    enum Settle: Equatable {
        case none
        /// DMASR.Halted takes this value.
        case halt(Bool)
        /// The soft reset is over: DMACR.Reset clears.
        case resetDone
    }

    /// A soft reset is in progress (DMACR.Reset still reads 1): the core ignores register writes.
    var isResetting: Bool { dmacr & DMACR.Reset != 0 }

    /// Moves DMASR.Halted towards what RS says, after the lag: RS=1 (no error) runs; RS=0 with
    /// nothing in flight halts; RS=0 with a transfer in flight waits for its completion (a stalled
    /// one for ever). Called after every DMACR write and at a completion with RS clear.
    func followRunStop() {
        guard !isResetting else { return }
        let halt: Bool
        if dmacr & DMACR.RS != 0 {
            halt = false
        } else {
            switch state {
            case .idle, .awaitingData: halt = true
            case .moving, .stalled: return
            }
        }
        if (dmasr & DMASR.Halted != 0) == halt {
            cancelSettle()
            return
        }
        guard pendingSettle != .halt(halt) else { return }
        guard haltLagNanoseconds > 0 else {
            cancelSettle()
            setHalted(halt)
            return
        }
        pendingSettle = .halt(halt)
        let timer = settleTimer!
        reactor._withUnsafeGuaranteedRef { $0.arm(timer, after: TimeSpan(nanoseconds: haltLagNanoseconds)) }
    }

    /// Drops a pending Halted change (an error halted the channel at once, or RS went back).
    func cancelSettle() {
        guard case .halt = pendingSettle else { return }
        pendingSettle = .none
        reactor._withUnsafeGuaranteedRef { $0.disarm(settleTimer) }
    }

    private func setHalted(_ halted: Bool) {
        if halted { dmasr |= DMASR.Halted } else { dmasr &= ~DMASR.Halted }
    }

    /// The settle timer fired.
    func settle() {
        switch pendingSettle {
        case .none: return
        case let .halt(halted):
            pendingSettle = .none
            setHalted(halted)
        case .resetDone:
            // PG021 DMACR.Reset: cleared when the reset is complete; the registers hold their
            // reset values (they did throughout: writes were ignored).
            pendingSettle = .none
            dmacr &= ~DMACR.Reset
        }
        updateInterrupt()
    }
}
