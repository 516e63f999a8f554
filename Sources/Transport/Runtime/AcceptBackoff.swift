/// How long a listener pauses accepting after `accept` fails for lack of descriptors or memory:
/// the initial delay, doubled after each further failure up to a maximum, and back to the start
/// after an accept succeeds. Pure, so the schedule is tested without exhausting descriptors.
///
/// Pausing matters because the epoll loop is level-triggered: a pending connection keeps the
/// listening socket readable, and retrying at once would spin the loop at full CPU.
struct AcceptBackoff {
    let initialMs: Int
    let maxMs: Int
    /// The last delay handed out; nil when the previous accept succeeded.
    private(set) var currentMs: Int?

    init(initialMs: Int, maxMs: Int) {
        precondition(0 < initialMs && initialMs <= maxMs, "accept backoff must satisfy 0 < initial <= max")
        self.initialMs = initialMs
        self.maxMs = maxMs
    }

    /// The pause after one more failure.
    mutating func nextDelayMs() -> Int {
        let delay = currentMs.map { min($0 * 2, maxMs) } ?? initialMs
        currentMs = delay
        return delay
    }

    /// An accept succeeded: the next failure starts again from the initial delay.
    mutating func reset() {
        currentMs = nil
    }
}
