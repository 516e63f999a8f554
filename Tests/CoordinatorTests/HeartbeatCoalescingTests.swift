@testable import Coordinator
import CoordTestKit
import StreamCore
import Testing
import Transport

/// The store's timer task sends the heartbeats of every worker stream, grouping those due close together.
@Suite struct HeartbeatCoalescingTests {
    private func due(_ subscriber: InventorySubscriber) -> Bool { subscriber.heartbeatDue.load(ordering: .relaxed) }

    @Test func heartbeatsDueWithinTheCoalescingWindowGoOutTogether() throws {
        let clock = ManualMonotonicClock(startMs: 0)
        var limits = InventoryServiceLimits()
        limits.heartbeatCoalescingMs = 20
        let service = InventoryService(limits: limits, wallClock: ManualWallClock(), monotonicClock: clock)
        func worker() throws -> InventorySubscriber {
            let subscriber = try service.open(
                SubscribeWorkers(workerID: .random(), heartbeatIntervalMs: 1_000), stream: InProcessStream.pair().1)
            let dueAtOnce = subscriber.heartbeatDue.exchange(false, ordering: .relaxed)
            #expect(dueAtOnce, "the first heartbeat is due at once")
            return subscriber
        }
        let first = try worker()
        clock.advance(byMs: 15)
        let second = try worker()
        clock.advance(byMs: 30)
        let third = try worker()
        // At 1,000 ms: the first is due, the second (1,015) within the window, the third (1,045) not.
        clock.advance(byMs: 955)
        #expect(service.beat() == 1_045)
        #expect(due(first) && due(second))
        #expect(!due(third))
        clock.advance(byMs: 45)
        service.beat()
        #expect(due(third))
        for subscriber in [first, second, third] { service.close(subscriber) }
        #expect(service.beat() == nil, "closed streams get no more heartbeats")
    }
}
