/// The server's clocks at the moment an input reaches the engine.
///
/// The engine reads no clock itself: the shell samples both clocks once per input and passes them
/// in. Deadlines use the monotonic clock so a wall-clock step (NTP, an operator) can neither evict
/// a live worker nor keep a dead one; the wall clock is only reported (`last_seen_at`, snapshot
/// `timestamp`), and it is always the server's, never a client's (streamkit v1 §4.5 trusts the
/// client's renewal timestamp; coordd does not).
public struct InventoryInstant: Hashable, Sendable {
    /// Milliseconds on a clock that never goes backwards (e.g. `CLOCK_MONOTONIC`); any origin.
    public var monotonicMs: Int64
    /// Unix epoch milliseconds from the server's wall clock.
    public var wallMs: Int64

    /// Creates an instant from both clock readings.
    public init(monotonicMs: Int64, wallMs: Int64) {
        self.monotonicMs = monotonicMs
        self.wallMs = wallMs
    }
}
