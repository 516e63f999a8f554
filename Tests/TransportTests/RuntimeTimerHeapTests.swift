import Testing
@testable import Transport

@Suite struct RuntimeTimerHeapTests {
    let start = ContinuousClock.now

    func at(_ ms: Int) -> ContinuousClock.Instant { start + .milliseconds(ms) }

    func drain(_ heap: inout TimerHeap<Int>, until ms: Int) -> [Int] {
        var fired: [Int] = []
        while let value = heap.popDue(now: at(ms)) { fired.append(value) }
        return fired
    }

    @Test func popsInDeadlineOrderWithTiesInScheduleOrder() {
        var heap = TimerHeap<Int>()
        for (value, ms) in [(0, 30), (1, 10), (2, 20), (3, 10), (4, 0), (5, 30)] {
            heap.schedule(at: at(ms), value)
        }
        #expect(drain(&heap, until: 9) == [4])
        #expect(drain(&heap, until: 25) == [1, 3, 2])
        #expect(drain(&heap, until: 100) == [0, 5])
        #expect(heap.count == 0)
    }

    @Test func cancelledTimerNeverPops() {
        var heap = TimerHeap<Int>()
        let first = heap.schedule(at: at(10), 1)
        heap.schedule(at: at(20), 2)
        let cancelledOnce = heap.cancel(first)
        let cancelledTwice = heap.cancel(first)
        #expect(cancelledOnce)
        #expect(!cancelledTwice)
        #expect(drain(&heap, until: 100) == [2])
    }

    @Test func timeoutIsRoundedUpAndSkipsCancelledTimers() {
        var heap = TimerHeap<Int>()
        #expect(heap.millisecondsUntilNext(now: start) == nil)
        let early = heap.schedule(at: start + .microseconds(1_500), 1)
        heap.schedule(at: at(40), 2)
        #expect(heap.millisecondsUntilNext(now: start) == 2)
        heap.cancel(early)
        #expect(heap.millisecondsUntilNext(now: start) == 40)
        #expect(heap.millisecondsUntilNext(now: at(40)) == 0)
        #expect(heap.millisecondsUntilNext(now: at(50)) == 0)
    }

    @Test func manyCancellationsCompactTheHeapAndKeepOrder() {
        var heap = TimerHeap<Int>()
        var ids: [TimerID] = []
        for value in 0..<300 { ids.append(heap.schedule(at: at(300 - value), value)) }
        for (value, id) in ids.enumerated() where value % 10 != 0 { heap.cancel(id) }
        #expect(heap.count == 30)
        #expect(heap.storedEntryCount < 300)
        let expected = (0..<300).filter { $0 % 10 == 0 }.reversed()
        #expect(drain(&heap, until: 1_000) == Array(expected))
    }
}
