import CorePrimitives
import Testing

@Suite struct LatchTests {
    @Test func everyWaiterReturnsOnceOpenedAndOnlyTheFirstOpenCounts() async {
        let latch = Latch()
        #expect(!latch.isOpen)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { await latch.wait() } }
            #expect(latch.open())
            #expect(!latch.open())
        }
        #expect(latch.isOpen)
        await latch.wait()  // already open: returns at once
    }

    @Test func aCancelledWaiterReturnsWithTheLatchStillClosed() async {
        let latch = Latch()
        let waiter = Task { await latch.wait() }
        waiter.cancel()
        await waiter.value
        #expect(!latch.isOpen)
    }

    @Test func aDeadlineWaitEndsAtTheDeadlineOrAtTheOpening() async {
        let latch = Latch()
        let clock = ContinuousClock()
        #expect(await latch.wait(until: clock.now + .milliseconds(20), clock: clock) == false)
        let opener = Task { latch.open() }
        #expect(await latch.wait(until: clock.now + .seconds(60), clock: clock))
        _ = await opener.value
    }
}
