@testable import Coordinator
import CoordTestKit
import StreamCore
import Testing
import Transport

/// One sender at a time per subscriber (its claim): a change offered while the claim is held wakes
/// nobody and is left to the holder, which takes it as it gives the claim back.
@Suite struct InventoryClaimTests {
    @Test func aChangeOfferedWhileTheClaimIsHeldIsSentByTheHolder() throws {
        let service = InventoryService(
            limits: InventoryServiceLimits(), wallClock: ManualWallClock(), monotonicClock: ManualMonotonicClock(startMs: 0))
        let observer = try service.open(SubscribeWorkers(workerID: nil, deltas: true), stream: InProcessStream.pair().1)
        #expect(observer.claim())
        #expect(service.next(for: observer) != nil, "the first snapshot")
        #expect(service.next(for: observer) == nil)
        #expect(!observer.giveBack(), "nothing came while it was held")
        #expect(observer.claim(), "given back")

        let worker = try service.open(
            SubscribeWorkers(workerID: .random(), presenceOnly: true), stream: InProcessStream.pair().1)
        #expect(!observer.claim(), "the join found the claim held")
        #expect(observer.giveBack(), "the join came while it was held: the holder keeps the claim to send it")
        #expect(!observer.claim(), "still held")
        #expect(service.next(for: observer) != nil, "the join's delta")
        #expect(!observer.giveBack())
        #expect(observer.claim())
        observer.unclaim()
        service.close(worker)
        service.close(observer)
    }
}
