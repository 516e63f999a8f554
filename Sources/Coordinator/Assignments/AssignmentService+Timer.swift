import Assignment
import StreamCore

extension AssignmentService {
    /// Ticks every group whose deadline (a release bound, the end of a grace period) has come, and sleeps
    /// until the next one or until an input sets an earlier one. Runs until cancelled.
    func runTimer() async {
        while !Task.isCancelled {
            let (outcomes, next) = state.withLock { s -> ([Outcome], Int64?) in
                let now = monotonicClock.nowMs()
                var outcomes: [Outcome] = []
                var next: Int64?
                for name in s.groups.keys.sorted() {
                    if let due = s.groups[name]?.wakeAt, due <= now, var group = s.groups.removeValue(forKey: name) {
                        let actions = group.engine.tick(now: now)
                        for case .memberExpired(let member) in actions {
                            events.assignmentMemberLeft(group: name, member: member.name, how: "grace_ended")
                        }
                        outcomes.append(carryOut(actions, in: &group, named: name))
                        s.groups[name] = group.engine.isEmpty ? nil : group
                    }
                    if let due = s.groups[name]?.wakeAt { next = min(next ?? due, due) }
                }
                return (outcomes, next)
            }
            for outcome in outcomes { try? await deliver(outcome) }
            // At least a millisecond ahead: a deadline the tick just served is never waited for again at once.
            let now = monotonicClock.nowMs()
            await timer.wait(untilMs: next.map { max($0, now + 1) } ?? now + Self.idleTimerMs)
        }
    }

    /// How long the timer sleeps with no deadline pending: an input that sets one wakes it anyway.
    private static let idleTimerMs: Int64 = 60_000
}
