import CoordTestKit
import Ownership
import Testing

/// The owner's side of a store's ownership on a manual clock: it serves until start + TTL − margin of
/// its last committed renewal, renews every TTL/3, retries failed renewals, and steps down on time.
struct OwnershipTermTests {
    let timing = OwnershipTiming(ttlMs: 10_000)

    @Test func timingFollowsTheTTL() {
        #expect(timing.marginMs == 1_000)
        #expect(timing.renewIntervalMs == 3_333)
        #expect(timing.retryIntervalMs == 500)
        #expect(timing.safeDeadline(startedAtMs: 5_000) == 14_000)
        // The margin has a floor, and the TTL is clamped to what the flag accepts.
        #expect(OwnershipTiming(ttlMs: 1_000).marginMs == OwnershipTiming.minMarginMs)
        #expect(OwnershipTiming(ttlMs: 1).ttlMs == OwnershipTiming.minTTLMs)
        #expect(OwnershipTiming(ttlMs: .max).ttlMs == OwnershipTiming.maxTTLMs)
    }

    @Test func servesUntilTheSafeDeadlineOfTheTakeOverAndRenewsOnTime() {
        let clock = ManualMonotonicClock(startMs: 1_000)
        var term = OwnershipTerm(takenOverAtMs: clock.nowMs(), timing: timing)
        #expect(term.decision(nowMs: clock.nowMs()) == .serve(untilMs: 4_333))
        clock.advance(byMs: 3_333)
        #expect(term.decision(nowMs: clock.nowMs()) == .renew)
        term.renewalStarted(atMs: clock.nowMs())
        // In flight: nothing to do but wait for the answer or the deadline.
        #expect(term.decision(nowMs: clock.nowMs()) == .serve(untilMs: 10_000))
        clock.advance(byMs: 200)
        term.renewalCommitted()
        // Counted from the renewal's start, not from its answer.
        #expect(term.safeUntilMs == 4_333 + 9_000)
        #expect(term.decision(nowMs: clock.nowMs()) == .serve(untilMs: 4_333 + 3_333))
    }

    @Test func aPausedOwnerStepsDownAtItsDeadlineBeforePostgresExpiresIt() {
        let clock = ManualMonotonicClock(startMs: 0)
        let term = OwnershipTerm(takenOverAtMs: clock.nowMs(), timing: timing)
        // The process was stopped for longer than the TTL: the first look after it steps down.
        clock.advance(byMs: 12_000)
        #expect(term.decision(nowMs: clock.nowMs()) == .stepDown(.deadlinePassed))
        // PostgreSQL's expiry is at least start + TTL; the owner's deadline is a margin before it.
        #expect(term.safeUntilMs <= 0 + timing.ttlMs - timing.marginMs)
    }

    @Test func failedRenewalsAreRetriedUntilTheDeadlineThenTheOwnerStepsDown() {
        let clock = ManualMonotonicClock(startMs: 0)
        var term = OwnershipTerm(takenOverAtMs: clock.nowMs(), timing: timing)
        var renewals = 0
        // Bounded: the deadline is 9 s away and every round moves the clock forward.
        for _ in 0..<100 {
            switch term.decision(nowMs: clock.nowMs()) {
            case .renew:
                renewals += 1
                term.renewalStarted(atMs: clock.nowMs())
                clock.advance(byMs: 50)
                term.renewalFailed(atMs: clock.nowMs())
            case .serve(let untilMs):
                #expect(untilMs > clock.nowMs())
                clock.advance(byMs: untilMs - clock.nowMs())
            case .stepDown(let reason):
                #expect(reason == .deadlinePassed)
                #expect(clock.nowMs() == 9_000)
                // First renewal at 3,333, then one every 50 ms + 500 ms until 9,000.
                #expect(renewals == 11)
                return
            }
        }
        Issue.record("the owner never stepped down")
    }

    @Test func aRenewalThatFindsTheEpochTakenStepsDownAtOnce() {
        var term = OwnershipTerm(takenOverAtMs: 0, timing: timing)
        term.renewalStarted(atMs: 3_333)
        term.renewalLost()
        #expect(term.decision(nowMs: 3_400) == .stepDown(.lost))
        // A late commit of nothing in flight changes nothing.
        term.renewalCommitted()
        #expect(term.decision(nowMs: 3_400) == .stepDown(.lost))
    }

    @Test func aSlowRenewalNeverShortensTheDeadlineAnEarlierOneGave() {
        var term = OwnershipTerm(takenOverAtMs: 10_000, timing: timing)
        // A renewal that started before the take-over's start (an answer arriving out of order) keeps
        // the later deadline.
        term.renewalStarted(atMs: 9_000)
        term.renewalCommitted()
        #expect(term.safeUntilMs == 19_000)
    }
}
