import Glibc
import MallocInterposerSwift

// Read and written only by the allocation hook and `mallocsOnThisThread` on the measuring thread;
// set up before the hook is installed (the hook must not allocate, and a lazy global initialiser
// would).
nonisolated(unsafe) private var measuringThread: pthread_t = pthread_self()
nonisolated(unsafe) private var allocationsOnMeasuringThread = 0

/// Allocations made by the calling thread while `body` runs. malloc-interposer's totals are
/// process-wide and the test runner allocates on its other threads meanwhile, so the count comes
/// from the per-allocation hook, which runs on the allocating thread. Suites using this must be
/// `.serialized` and run in their own `swift test` invocation (`make test` does: their names end in
/// `AllocationTests`).
public func mallocsOnThisThread(_ body: () -> Void) -> Int {
    measuringThread = pthread_self()
    allocationsOnMeasuringThread = 0
    MallocInterposerSwift.setAllocationHook { _ in
        if pthread_equal(pthread_self(), measuringThread) != 0 { allocationsOnMeasuringThread += 1 }
    }
    MallocInterposerSwift.initialize()
    MallocInterposerSwift.hook()
    body()
    MallocInterposerSwift.unhook()
    MallocInterposerSwift.setAllocationHook(nil)
    return allocationsOnMeasuringThread
}
