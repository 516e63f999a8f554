/// Sleeps until a deadline on a ``MonotonicClock`` or an earlier ``wake()``, whichever comes first, and
/// can be waited on again at once: the one timer shape of the shells' loops (a lease ticker, a presence
/// sweeper, a client's reconnect backoff), which each wait for their next deadline unless something new
/// might bring an earlier one.
///
/// A wake that arrives while nobody waits is remembered (once), so it is never lost between "computed the
/// next deadline" and "started waiting". One task waits at a time. A wake that races with a wait ending
/// for its deadline may be absorbed by that wait: callers look at their state again after every return,
/// whatever the outcome, so it has done its work.
public final class DeadlineWaiter: Sendable {
    /// Why a wait returned.
    public enum Outcome: Sendable, Equatable {
        /// The clock reached the deadline.
        case deadline
        /// ``DeadlineWaiter/wake()`` was called (before or during the wait).
        case woken
        /// The waiting task was cancelled.
        case cancelled
    }

    /// The clock whose deadlines this waiter sleeps to.
    public let clock: any MonotonicClock
    private let wakeup = Wakeup()

    /// Creates a waiter over `clock` with no wake pending.
    public init(clock: any MonotonicClock) {
        self.clock = clock
    }

    /// Ends the current wait early, or makes the next one return at once.
    public func wake() { wakeup.signal() }

    /// Waits until `clock` reads `deadlineMs`, a wake, or cancellation.
    @discardableResult
    public func wait(untilMs deadlineMs: Int64) async -> Outcome {
        let clock = clock
        let wakeup = wakeup
        return await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do throws(CancellationError) {
                    try await clock.sleep(untilMs: deadlineMs)
                    return .deadline
                } catch {
                    return .cancelled
                }
            }
            group.addTask {
                await wakeup.wait()
                return Task.isCancelled ? .cancelled : .woken
            }
            // Both children end once cancelled, so `next()` always has a first result.
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            return Task.isCancelled ? .cancelled : first
        }
    }

    /// Waits `delayMs` from now on `clock` (see ``wait(untilMs:)``).
    @discardableResult
    public func wait(forMs delayMs: Int64) async -> Outcome {
        await wait(untilMs: clock.nowMs() + delayMs)
    }
}
