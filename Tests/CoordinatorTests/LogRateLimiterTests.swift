import CoordTestKit
import Coordinator
import Testing

/// The rate limit on log lines: at most N lines of one kind per interval, the rest counted and
/// reported by one summary line. A manual clock moves time.
struct LogRateLimiterTests {
    static func limits(lines: Int = 3, intervalMs: Int64 = 1_000) -> LogRateLimits {
        var limits = LogRateLimits()
        limits.linesPerInterval = lines
        limits.intervalMs = intervalMs
        return limits
    }

    @Test func theFirstLinesOfAKindInAnIntervalAreWrittenAndTheRestCounted() {
        var limiter = LogRateLimiter(limits: Self.limits(lines: 3))
        let decisions = (0..<10).map { i in limiter.admit("disk full", level: .warn, nowMs: 100 + Int64(i)) }
        #expect(decisions.map(\.write) == [true, true, true, false, false, false, false, false, false, false])
        #expect(decisions.allSatisfy { $0.ended == nil })
        // The next interval's first line reports the seven left out, once.
        let next = limiter.admit("disk full", level: .warn, nowMs: 1_100)
        #expect(next.write)
        #expect(next.ended == LogRateLimiter.Suppressed(kind: "disk full", level: .warn, count: 7, sinceMs: 100))
        #expect(limiter.admit("disk full", level: .warn, nowMs: 1_101).ended == nil)
    }

    @Test func kindsAreLimitedEachOnItsOwn() {
        var limiter = LogRateLimiter(limits: Self.limits(lines: 1))
        #expect(limiter.admit("worker joined", level: .info, nowMs: 0).write)
        #expect(!limiter.admit("worker joined", level: .info, nowMs: 1).write)
        #expect(limiter.admit("worker left", level: .info, nowMs: 2).write, "another kind has its own budget")
        #expect(limiter.trackedKinds == 2)
    }

    @Test func endedIntervalsAreReportedWithoutAFurtherLineAndForgotten() {
        var limiter = LogRateLimiter(limits: Self.limits(lines: 2, intervalMs: 1_000))
        for i in 0..<5 { _ = limiter.admit("b", level: .info, nowMs: Int64(i)) }
        for i in 0..<2 { _ = limiter.admit("a", level: .warn, nowMs: 500 + Int64(i)) }
        #expect(limiter.endIntervals(nowMs: 999).isEmpty, "no interval is over yet")
        // "b"'s interval (from 0) is over at 1,000, "a"'s (from 500) is not; "a" left nothing out anyway.
        #expect(limiter.endIntervals(nowMs: 1_000) == [.init(kind: "b", level: .info, count: 3, sinceMs: 0)])
        #expect(limiter.trackedKinds == 1)
        #expect(limiter.endIntervals(nowMs: 1_500).isEmpty, "an interval without left-out lines ends silently")
        #expect(limiter.trackedKinds == 0)
        let again = limiter.admit("b", level: .info, nowMs: 1_600)
        #expect(again.write && again.ended == nil, "a forgotten kind starts afresh, its summary already written")
    }

    @Test func stoppingReportsIntervalsThatAreNotOverYet() {
        var limiter = LogRateLimiter(limits: Self.limits(lines: 1))
        for i in 0..<4 { _ = limiter.admit("x", level: .error, nowMs: Int64(i)) }
        #expect(limiter.endIntervals(nowMs: 10).isEmpty)
        #expect(limiter.endIntervals(nowMs: 10, all: true) == [.init(kind: "x", level: .error, count: 3, sinceMs: 0)])
    }

    @Test func aClockThatGoesBackStartsANewInterval() {
        var limiter = LogRateLimiter(limits: Self.limits(lines: 1))
        _ = limiter.admit("x", level: .info, nowMs: 5_000)
        #expect(!limiter.admit("x", level: .info, nowMs: 5_001).write)
        let back = limiter.admit("x", level: .info, nowMs: 4_000)
        #expect(back.write && back.ended?.count == 1)
    }

    @Test func aRateLimitedLoggerWritesTheSummaryLineAtTheLevelOfTheLinesLeftOut() throws {
        let clock = ManualWallClock(startMs: 1_767_225_600_000)
        let lines = LineCollector()
        let logger = Logger(clock: clock, rateLimits: Self.limits(lines: 2, intervalMs: 1_000), sink: lines.sink)
        for i in 0..<6 { logger.warn("disk full", ["attempt": i]) }
        logger.info("worker joined")
        #expect(lines.all.count == 3, "two disk full lines, one worker line: \(lines.all)")
        logger.flushSuppressed()
        #expect(lines.all.count == 3, "the interval is not over")
        clock.advance(byMs: 1_000)
        logger.flushSuppressed()
        #expect(lines.all.count == 4)
        #expect(lines.all[3] == "ts=2026-01-01T00:00:01.000Z level=warn msg=\"suppressed similar lines\" "
                    + "similar=\"disk full\" suppressed=4 interval=1s\n")
        logger.flushSuppressed()
        #expect(lines.all.count == 4, "each summary is written once")
    }

    @Test func aLoggerWithoutLimitsWritesEveryLine() {
        let lines = LineCollector()
        let logger = Logger(clock: ManualWallClock(), sink: lines.sink)
        for _ in 0..<100 { logger.info("same") }
        logger.flushSuppressed(all: true)
        #expect(lines.all.count == 100)
        #expect(logger.rateLimits == nil)
    }
}
