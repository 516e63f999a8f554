/// Named limits of the command-line tool.
enum CtlLimits {
    /// Lines produced per Produce stream: the server's chunk size (streamkit v1 §2.2), so one stream
    /// commits one chunk and memory stays bounded however long stdin is.
    static let produceBatchRecords = 10_000
    /// Heartbeat of `coordctl worker` without `--heartbeat`: the daemon's default presence TTL floor
    /// (30 s) is three of these, so one lost heartbeat never evicts the worker.
    static let defaultWorkerHeartbeatMs: Int64 = 10_000
    /// Attempts a command makes to reach the daemon: a refused connection is reported within about a
    /// tenth of a second instead of after the client library's seven attempts (~6 s), which suit
    /// programs riding out a restart, not a person at a prompt. Long-running commands (`--watch`,
    /// `worker`, `--follow`) still reconnect for as long as they run.
    static let connectAttempts = 2
    /// Lifetime of a token minted without `--ttl`: a working session's worth.
    static let defaultTokenTTLMs: Int64 = 3_600_000
    /// TTL of a lease acquired or renewed without `--ttl`.
    static let defaultLeaseTTLMs: Int64 = 30_000
    /// Heartbeats asked of a followed subscription: the longest a space read waits for entries of the
    /// newest millisecond, which the server shows only once that millisecond has passed.
    static let followHeartbeatSeconds: Int64 = 1
    /// Re-reads after a status announces entries a space read does not show yet, and the pause between
    /// them: the entries become visible once their millisecond has passed.
    static let followRetries = 20
    static let followRetryPauseMs = 5
}
