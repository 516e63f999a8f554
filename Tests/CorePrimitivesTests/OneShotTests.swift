import CorePrimitives
import Synchronization
import Testing

@Suite struct OneShotTests {
    /// A handler registered before the value is called by the thread that gives it; one registered after,
    /// at once by the thread registering it. Each exactly once.
    @Test func aHandlerGetsTheValueOnceWhetherGivenBeforeOrAfter() async {
        let calls = Mutex<[Int]>([])
        let early = OneShot<Int>()
        early.onComplete { value in calls.withLock { $0.append(value) } }
        #expect(calls.withLock { $0 }.isEmpty, "not before the value is given")
        early.complete(1)
        #expect(calls.withLock { $0 } == [1])

        let late = OneShot<Int>()
        late.complete(2)
        late.onComplete { value in calls.withLock { $0.append(value) } }
        #expect(calls.withLock { $0 } == [1, 2])
        #expect(await late.value() == 2 && late.current == 2)
    }

    /// Of several parties deciding one outcome, the first wins: the later ones are told and change nothing,
    /// and the waiter, already waiting, is woken once with the first.
    @Test func theFirstOfSeveralCompletionsWinsAndWakesTheWaiterOnce() async {
        let outcome = OneShot<String>()
        let waiting = Task { await outcome.value() }
        await Task.yield()
        #expect(outcome.completeFirst("cancelled"))
        #expect(!outcome.completeFirst("answered"), "too late")
        #expect(await waiting.value == "cancelled")
        #expect(outcome.current == "cancelled")
    }
}
