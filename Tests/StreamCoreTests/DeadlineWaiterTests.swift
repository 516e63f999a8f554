import CoordTestKit
import StreamCore
import Synchronization
import Testing

/// Deadlines of the sleepers that woke, in the order they woke.
private final class Woken: Sendable {
    let deadlines = Mutex<[Int64]>([])
}

/// The deadline waiter on the manual clock: it returns at its deadline, on a wake, or when cancelled, and
/// the clock wakes its sleepers only as far as it is moved.
@Suite struct DeadlineWaiterTests {
    @Test func aWaitEndsWhenTheClockReachesItsDeadlineAndNotBefore() async throws {
        let clock = ManualMonotonicClock(startMs: 100)
        let waiter = DeadlineWaiter(clock: clock)
        let waiting = Task { await waiter.wait(untilMs: 350) }
        try await withDeadline { await clock.waitForSleepers(1) }
        clock.advance(byMs: 249)
        #expect(clock.sleeperCount == 1, "1 ms short of the deadline it still sleeps")
        clock.advance(byMs: 1)
        #expect(try await withDeadline { await waiting.value } == .deadline)
        #expect(clock.sleeperCount == 0)
    }

    @Test func aWakeEndsTheWaitAndOneThatCameFirstIsKeptForTheNext() async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let waiter = DeadlineWaiter(clock: clock)
        let waiting = Task { await waiter.wait(untilMs: 60_000) }
        try await withDeadline { await clock.waitForSleepers(1) }
        waiter.wake()
        #expect(try await withDeadline { await waiting.value } == .woken)
        #expect(clock.sleeperCount == 0, "the woken wait no longer sleeps on the clock")
        waiter.wake()
        #expect(await waiter.wait(forMs: 60_000) == .woken, "a wake while nobody waited ends the next wait at once")
        #expect(clock.nowMs() == 0)
    }

    @Test func aPastDeadlineReturnsAtOnceAndCancellationEndsAWait() async throws {
        let clock = ManualMonotonicClock(startMs: 500)
        let waiter = DeadlineWaiter(clock: clock)
        #expect(await waiter.wait(untilMs: 500) == .deadline)
        let waiting = Task { await waiter.wait(untilMs: 10_000) }
        try await withDeadline { await clock.waitForSleepers(1) }
        waiting.cancel()
        #expect(try await withDeadline { await waiting.value } == .cancelled)
        #expect(clock.sleeperCount == 0)
    }

    @Test func sleepersWakeInDeadlineOrderAsFarAsTheClockMoves() async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let woken = Woken()
        let sleepers = [Int64(30), 10, 20, 40].map { deadline in
            Task {
                try await clock.sleep(untilMs: deadline)
                woken.deadlines.withLock { $0.append(deadline) }
            }
        }
        try await withDeadline { await clock.waitForSleepers(4) }
        clock.advance(byMs: 30)
        for sleeper in sleepers.prefix(3) { try await withDeadline { try await sleeper.value } }
        #expect(Set(woken.deadlines.withLock { $0 }) == [10, 20, 30] && clock.sleeperCount == 1, "the one due at 40 still sleeps")
        sleepers[3].cancel()
        await #expect(throws: CancellationError.self) { try await sleepers[3].value }
    }
}
