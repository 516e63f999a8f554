@testable import Inventory
import Testing

struct HeartbeatScheduleTests {
    @Test func eachStreamIsDueOncePerPeriodFromWhenItWasAdded() {
        var schedule = HeartbeatSchedule()
        schedule.add(StreamID(1), periodMs: 100, nowMs: 0)
        schedule.add(StreamID(2), periodMs: 250, nowMs: 10)
        #expect(schedule.nextDueMs() == 100)
        #expect(schedule.takeDue(nowMs: 99) == [])
        #expect(schedule.takeDue(nowMs: 100) == [StreamID(1)])
        #expect(schedule.nextDueMs() == 200)
        #expect(schedule.takeDue(nowMs: 200) == [StreamID(1)])
        #expect(schedule.takeDue(nowMs: 260) == [StreamID(2)])
        #expect(schedule.nextDueMs() == 300)
    }

    @Test func aLateTickSendsOneHeartbeatNotABurst() {
        var schedule = HeartbeatSchedule()
        schedule.add(StreamID(1), periodMs: 100, nowMs: 0)
        #expect(schedule.takeDue(nowMs: 1_000) == [StreamID(1)])
        #expect(schedule.nextDueMs() == 1_100, "the next one period after the late tick")
    }

    @Test func aRemovedStreamIsNeverDueAgain() {
        var schedule = HeartbeatSchedule()
        schedule.add(StreamID(1), periodMs: 100, nowMs: 0)
        schedule.add(StreamID(2), periodMs: 300, nowMs: 0)
        schedule.remove(StreamID(1))
        #expect(schedule.count == 1)
        #expect(schedule.nextDueMs() == 300, "the removed stream's item is skipped")
        #expect(schedule.takeDue(nowMs: 1_000) == [StreamID(2)])
    }

    @Test func addingAStreamAgainReplacesItsSchedule() {
        var schedule = HeartbeatSchedule()
        schedule.add(StreamID(1), periodMs: 100, nowMs: 0)
        schedule.add(StreamID(1), periodMs: 500, nowMs: 50)
        #expect(schedule.takeDue(nowMs: 100) == [], "the first schedule is gone")
        #expect(schedule.takeDue(nowMs: 550) == [StreamID(1)])
    }

    @Test func streamsThatComeAndGoDoNotGrowTheHeapWithoutBound() {
        var schedule = HeartbeatSchedule()
        schedule.add(StreamID(0), periodMs: 300_000, nowMs: 0)
        for n in 1...10_000 {
            schedule.add(StreamID(UInt64(n)), periodMs: 300_000, nowMs: Int64(n))
            schedule.remove(StreamID(UInt64(n)))
        }
        #expect(schedule.count == 1)
        #expect(schedule.pendingCount <= 2 * schedule.count + 65)
        #expect(schedule.nextDueMs() == 300_000)
    }
}
