extension Reactor {
    // The targets the reactor keeps alive for its timers, watches and posted work.

    /// Ends the reactor's life: drops every target it holds for its timers, watches and posted work
    /// (and the clock gate). Those targets (drivers, devices, UIO files) hold the reactor in turn,
    /// so until this runs the reactor and everything it drives keep each other alive: without it
    /// every run left its whole board behind (LeakSanitizer, `make test-asan`), which a process
    /// playing thousands of runs cannot afford. Call it once the run is over and its figures are
    /// read; the reactor must not run again (its queues still name the dropped targets).
    public func shutdown() {
        assertOwnerThread()
        precondition(core.pointee.dispatchDepth == 0, "shutdown() from inside a reactor callback")
        isShutDown = true
        clockGate = nil
        owners.removeAll()
        freeOwnerSlots.removeAll()
    }

    func retainOwner(_ target: ReactorTarget) -> Int {
        precondition(!isShutDown, "the reactor was shut down")
        if let slot = freeOwnerSlots.popLast() {
            owners[slot] = target
            return slot
        }
        owners.append(target)
        return owners.count - 1
    }

    func releaseOwner(_ slot: Int) {
        // After shutdown() the owners are gone already: a timer freed by its owner's deinit lands here.
        guard !isShutDown else { return }
        owners[slot] = nil
        freeOwnerSlots.append(slot)
    }
}
