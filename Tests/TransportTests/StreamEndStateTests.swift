import CoordTestKit
import StreamCore
import Testing
@testable import Transport

@Suite struct StreamEndStateTests {
    @Test func aHalfCloseAnnouncesOnceAndEndsTheStreamWhenThePeerHasEndedToo() {
        var end = StreamEndState()
        let first = end.closeSend(.accessDenied)
        #expect(first.announce == .some(.accessDenied) && !first.closedNow && first.peerMayStillSend)
        #expect(end.sendFailure == StreamEndState.sendAfterClose && !end.isClosed)
        #expect(end.closeSend(nil).announce == nil, "the first end wins")
        let peer = end.peerEnded(nil, gaveUp: false, bufferEmpty: true)
        #expect(peer.closedNow && peer.endReceiver == .some(nil) && end.isClosed)
        #expect(end.endOfMessages == .success(nil))
    }

    @Test func thePeersEndComesAfterTheBufferedMessages() {
        var end = StreamEndState()
        let effects = end.peerEnded(.sequenceGap(expected: 1, got: 3), gaveUp: false, bufferEmpty: false)
        #expect(effects.endReceiver == nil && !effects.closedNow && !end.acceptsMessages)
        #expect(end.deliveryRefusal == StreamEndState.sendAfterClose && end.sendFailure == nil)
        #expect(end.endOfMessages == .failure(.sequenceGap(expected: 1, got: 3)))
        #expect(end.peerEnded(nil, gaveUp: false, bufferEmpty: true) == StreamEndState.Effects(), "a second end is ignored")
    }

    @Test func aCloseTearsDownOnceAnnouncingOnlyWhatWasNotAnnounced() {
        var end = StreamEndState()
        _ = end.closeSend(nil)
        let close = end.close(.shuttingDown)
        #expect(close.announce == nil && close.dropBuffered && close.closedNow && close.peerMayStillSend)
        #expect(close.endReceiver == .some(StreamEndState.closedLocally))
        #expect(end.tornError == StreamEndState.closedLocally && end.deliveryRefusal == StreamEndState.closedLocally)
        #expect(end.close(nil) == StreamEndState.Effects(peerMayStillSend: false), "idempotent")
    }

    @Test func aPeerThatGivesUpFailsOurSendsAndEndsTheStream() {
        var end = StreamEndState()
        let effects = end.peerEnded(.accessDenied, gaveUp: true, bufferEmpty: true)
        #expect(effects.closedNow && effects.announce == nil && end.sendFailure == .accessDenied)
        var silent = StreamEndState()
        _ = silent.peerEnded(nil, gaveUp: true, bufferEmpty: false)
        #expect(silent.sendFailure == StreamEndState.peerClosed && silent.isClosed)
        #expect(silent.closeSend(nil).announce == nil, "a peer that is gone is not told")
    }

    @Test(arguments: [true, false])
    func aTransportFailureTellsThePeerOnlyWhenAskedAndNotTwice(immediately: Bool) {
        var end = StreamEndState()
        let effects = end.fail(.shuttingDown, immediately: immediately, notifyPeer: true, bufferEmpty: false)
        #expect(effects.announce == .some(.shuttingDown) && effects.closedNow && end.sendFailure == .shuttingDown)
        #expect(effects.dropBuffered == immediately)
        #expect(effects.endReceiver == (immediately ? .some(.shuttingDown) : nil))
        #expect(end.fail(.streamOverloaded, immediately: true, notifyPeer: true, bufferEmpty: true).announce == nil)
    }

    /// Any sequence of ends leaves the invariants: closed exactly when announced and no longer
    /// receiving, `closedNow` reported once, sends failing once anything ended this side's sending.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomSequencesKeepTheInvariants(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<200 {
            var end = StreamEndState()
            var closings = 0
            for _ in 0..<6 {
                let error: StreamsError? = random.next() % 2 == 0 ? nil : .shuttingDown
                let effects: StreamEndState.Effects
                switch random.next() % 4 {
                case 0: effects = end.closeSend(error)
                case 1: effects = end.close(error)
                case 2: effects = end.peerEnded(error, gaveUp: random.next() % 2 == 0, bufferEmpty: random.next() % 2 == 0)
                default:
                    effects = end.fail(.shuttingDown, immediately: random.next() % 2 == 0, notifyPeer: true, bufferEmpty: true)
                }
                if effects.closedNow { closings += 1 }
                #expect(end.isClosed == (end.announced && !end.acceptsMessages), "seed \(seed)")
                if end.announced { #expect(end.sendFailure != nil, "seed \(seed)") }
            }
            #expect(closings == (end.isClosed ? 1 : 0), "seed \(seed)")
        }
    }
}
