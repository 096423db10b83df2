import Board
import Testing

final class InterruptRecorder: InterruptSubscriber {
    var notified: [Int] = []
    override func interruptPending(line: Int) { notified.append(line) }
}

@Suite struct InterruptControllerTests {
    let controller = InterruptController(kind: .mpic, lineCount: 8)
    let recorder = InterruptRecorder()

    init() {
        controller.subscribe(recorder, to: 1)
        controller.subscribe(recorder, to: 2)
    }

    @Test func aLevelLineStaysPendingWhileItsInputIsHigh() {
        controller.configure(line: 1, sense: .levelHigh)
        controller.unmask(line: 1)
        controller.drive(line: 1, high: true)
        #expect(recorder.notified == [1])
        #expect(controller.acknowledge(line: 1))
        #expect(controller.isPending(1))
        controller.drive(line: 1, high: false)
        #expect(!controller.isPending(1))
        #expect(controller.counters(of: 1).raised == 1)
    }

    @Test func anEdgeLineLatchesOneEventPerEdge() {
        controller.configure(line: 2, sense: .risingEdge)
        controller.unmask(line: 2)
        controller.drive(line: 2, high: true)
        controller.drive(line: 2, high: true)  // no new edge
        #expect(recorder.notified == [2])
        controller.drive(line: 2, high: false)
        #expect(controller.isPending(2))  // latched although the input fell
        #expect(controller.acknowledge(line: 2))
        #expect(!controller.isPending(2))
        controller.drive(line: 2, high: true)
        #expect(recorder.notified == [2, 2])
        #expect(controller.counters(of: 2).raised == 2)
    }

    @Test func unmaskingWithAPendingLevelFiresAgain() {
        controller.configure(line: 1, sense: .levelHigh)
        controller.unmask(line: 1)
        controller.drive(line: 1, high: true)
        controller.mask(line: 1)  // what uio_pdrv_genirq's handler does
        controller.unmask(line: 1)  // userspace re-enables without clearing the cause
        #expect(recorder.notified == [1, 1])
    }

    @Test func anEdgeWhileMaskedIsCountedAndDeliveredOnUnmask() {
        controller.configure(line: 2, sense: .fallingEdge)
        #expect(controller.inputLevel(of: 2))  // falling-edge inputs idle high
        controller.drive(line: 2, high: false)
        #expect(recorder.notified.isEmpty)
        #expect(controller.counters(of: 2).maskedWhilePending == 1)
        controller.unmask(line: 2)
        #expect(recorder.notified == [2])
    }

    @Test func aLevelLowLineIdlesHighAndFiresWhenDrivenLow() {
        controller.configure(line: 1, sense: .levelLow)
        controller.unmask(line: 1)
        #expect(!controller.isPending(1))
        controller.drive(line: 1, high: false)
        #expect(recorder.notified == [1])
    }

    @Test func acknowledgingWithNothingPendingCountsAsSpurious() {
        controller.configure(line: 1, sense: .levelHigh)
        #expect(!controller.acknowledge(line: 1))
        #expect(controller.counters(of: 1).spurious == 1)
    }

    @Test func anUnsubscribedSubscriberHearsNothing() {
        controller.configure(line: 1, sense: .levelHigh)
        controller.unmask(line: 1)
        controller.unsubscribe(recorder, from: 1)
        controller.drive(line: 1, high: true)
        #expect(recorder.notified.isEmpty)
    }

    @Test func aDevicesInputDrivesItsLineLikeDrive() {
        controller.configure(line: 1, sense: .levelHigh)
        controller.unmask(line: 1)
        let input = controller.input(line: 1)
        input.drive(high: true)
        input.drive(high: true)  // unchanged: nothing happens
        #expect(controller.inputLevel(of: 1))
        #expect(recorder.notified == [1])
        #expect(controller.counters(of: 1).raised == 1)
        input.drive(high: false)
        #expect(!controller.isPending(1))
        controller.configure(line: 1, sense: .levelLow)  // the input returns to idle (high) here
        input.drive(high: false)  // so this is a change, and asserts the level-low line
        #expect(recorder.notified == [1, 1])
    }

    @Test func maskAndAcknowledgeIsMaskThenAcknowledge() {
        controller.configure(line: 2, sense: .risingEdge)
        controller.unmask(line: 2)
        controller.drive(line: 2, high: true)
        #expect(controller.maskAndAcknowledge(line: 2))
        #expect(controller.isMasked(2))
        #expect(!controller.isPending(2))
        #expect(!controller.maskAndAcknowledge(line: 2))
        #expect(controller.counters(of: 2).spurious == 1)
    }

    @Test func aLevelCauseIsAssertedOnlyForALevelLineAtItsActiveLevel() {
        controller.configure(line: 1, sense: .levelHigh)
        #expect(!controller.levelCauseAsserted(line: 1))
        controller.drive(line: 1, high: true)
        #expect(controller.levelCauseAsserted(line: 1))
        controller.configure(line: 2, sense: .risingEdge)
        controller.drive(line: 2, high: true)
        #expect(controller.isPending(2))
        #expect(!controller.levelCauseAsserted(line: 2))  // an edge stays latched: not a level cause
    }

    @Test(arguments: [InterruptControllerKind.mpic, .xpsIntc])
    func deviceTreeSenseCellsTranslateToLinuxNumbering(kind: InterruptControllerKind) {
        #expect(kind.sense(deviceTreeCell: 0) == .risingEdge)
        #expect(kind.sense(deviceTreeCell: 1) == .levelLow)
        #expect(kind.sense(deviceTreeCell: 2) == .levelHigh)
        #expect(kind.sense(deviceTreeCell: 3) == .fallingEdge)
        #expect(kind.sense(deviceTreeCell: 4) == nil)
        #expect(InterruptSense.levelHigh.rawValue == 4 && InterruptSense.levelLow.rawValue == 8)
    }
}
