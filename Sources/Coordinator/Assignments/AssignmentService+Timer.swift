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
            let delay = next.map { max($0 - monotonicClock.nowMs(), 1) } ?? 60_000
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(for: .milliseconds(delay)) }
                group.addTask { await self.timerWakeup.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
