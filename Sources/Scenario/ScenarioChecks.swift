import Board
import Devices

/// What a parsed scenario must satisfy before it runs, beyond each value's own form: the steps its
/// mode can play and the ring slots its driver has. Part of parsing, so `validate` and `play`
/// refuse the same files with the same located messages (exit 2, before anything runs).
enum ScenarioChecks {
    static func check(_ spec: ScenarioSpec, _ diagnostics: inout Diagnostics) {
        for step in spec.timeline {
            if case let .inject(fault, _) = step.action, fault.isDescriptorFault, spec.mode == .receive || spec.mode == .transmit {
                diagnostics.error("inject: \(fault) acts on the scatter-gather engine's descriptor fetch; mode: \(spec.mode.rawValue) drives the "
                                  + "core in direct register mode, which fetches no descriptors (write mode: sg-receive)",
                                  at: step.actionLocation ?? step.location)
            }
            guard case let .workload(action) = step.action else { continue }
            let location = step.actionLocation ?? step.location
            if let problem = modeProblem(action, spec.mode) {
                diagnostics.error(problem, at: location)
                continue
            }
            if let slot = action.slot, slot >= spec.workload.driver.ringSize {
                diagnostics.error("expected a ring slot from 0 to \(spec.workload.driver.ringSize - 1), found \(slot): the ring has "
                                  + "\(spec.workload.driver.ringSize) buffers (driver: ring)", at: location)
            }
        }
    }

    /// Why `mode` cannot play `action`, or nil. The workloads say the same at run time.
    static func modeProblem(_ action: ScenarioSpec.Step.WorkloadAction, _ mode: ScenarioSpec.Mode) -> String? {
        switch (mode, action) {
        case (.script, .uioRead), (.script, .uioWrite):
            return nil
        case (_, .uioRead), (_, .uioWrite):
            return "\(action.name) acts on the board's UIO node as a script does: it needs mode: script"
        case (.receive, _), (.sgReceive, _):
            return nil
        case (.transmit, .restartDriver):
            return nil
        case (.transmit, _):
            return "\(action.name) needs mode: receive or sg-receive (a stream source and a consumer); mode: transmit has neither"
        case (.script, _):
            return "\(action.name) needs a driver (mode: receive or transmit); mode: script has none"
        case (.attached, .setRate), (.attached, .pauseSource), (.attached, .resumeSource), (.attached, .maskInterrupt),
             (.attached, .unmaskInterrupt):
            return nil
        case (.attached, _):
            return "\(action.name) acts on the built-in driver; an attached program's buffers and state are its own"
        }
    }
}

extension AXIDMAFault {
    /// A fault of the scatter-gather descriptor fetch.
    var isDescriptorFault: Bool {
        switch self {
        case .descriptorSlaveError, .descriptorDecodeError, .staleDescriptor: true
        default: false
        }
    }
}

extension ScenarioSpec.Step.WorkloadAction {
    /// The step as a scenario writes it.
    var name: String {
        switch self {
        case .setRate: "set-rate"
        case .pauseSource: "do: pause-source"
        case .resumeSource: "do: resume-source"
        case .restartDriver: "do: restart-driver"
        case .consumerStall: "consumer-stall"
        case .cpuReadBuffer: "cpu-read-buffer"
        case .freeBuffer: "free-buffer"
        case .maskInterrupt: "do: mask-irq"
        case .unmaskInterrupt: "do: unmask-irq"
        case .uioRead: "uio-read"
        case .uioWrite: "uio-write"
        }
    }

    /// The ring slot the step names, if any.
    var slot: Int? {
        switch self {
        case let .cpuReadBuffer(slot): slot
        case let .freeBuffer(slot): slot
        default: nil
        }
    }
}
