import Board
import Devices
import Foundation
import Reactor
@testable import UIO

/// The repository root, found from this file's path (Tests/UIOTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A shipped board, loaded fresh.
func shippedBoard(_ name: String) -> Board {
    do throws(Diagnostics) {
        return Board(profile: try BoardProfile.load(path: repositoryRoot.appendingPathComponent("boards/\(name).yaml").path, registry: DeviceKinds.standard))
    } catch {
        fatalError("boards/\(name).yaml does not load: \(error)")
    }
}

/// A fresh emulation of a shipped board's UIO side in virtual time.
struct Rig {
    let reactor = Reactor(clock: .virtual)
    let board: Board
    let uio: UIOSystem

    init(_ boardName: String = "p2020-fpga", stormThreshold: Int = 1_000, guardEnabled: Bool? = nil) {
        board = shippedBoard(boardName)
        uio = UIOSystem(board: board, reactor: reactor, guardEnabled: guardEnabled, stormThreshold: stormThreshold)
    }

    /// The S2MM node (`axi-dma-s2mm`) and its interrupt line.
    var s2mm: EmulatedUIODevice { uio.device(named: "axi-dma-s2mm")! }
    var s2mmLine: Int { s2mm.interruptLine! }

    /// Stands in for the device's interrupt output.
    func drive(_ high: Bool) { board.interrupts.drive(line: s2mmLine, high: high) }

    /// One level-high interrupt: the output rises and falls again (the device's cause was cleared).
    func pulse() {
        drive(true)
        drive(false)
    }
}

/// A profile whose UIO node has no interrupt (read, write and poll must fail with EIO).
func boardWithoutInterrupt() -> Board {
    var text = try! String(contentsOf: repositoryRoot.appendingPathComponent("boards/p2020-fpga.yaml"), encoding: .utf8)
    // Drop the `interrupt:` key of both UIO nodes (they come after `uio:`).
    let parts = text.components(separatedBy: "\nuio:\n")
    text = parts[0] + "\nuio:\n" + parts[1].split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("interrupt:") }.joined(separator: "\n")
    do throws(Diagnostics) {
        return Board(profile: try BoardProfile.parse(text, file: "no-irq.yaml", registry: DeviceKinds.standard))
    } catch {
        fatalError("no-irq profile does not load: \(error)")
    }
}
