/// Every size, count and time the I/O runtime bounds, in one value, each with where it comes from.
///
/// One value is handed to an ``EventLoopGroup`` (or a single ``EventLoop``); every loop, listener and
/// connection on it uses the same limits. The defaults suit the daemon; tests shrink them to reach the
/// edges quickly.
public struct RuntimeLimits: Sendable, Hashable {
    /// Bytes one `read(2)` may return. One buffer of this size per loop is reused by every read on it
    /// (a handler sees the bytes only for the duration of `didRead`), so memory does not grow with the
    /// number of connections. coordd default: large enough that one read usually empties a socket
    /// carrying small mux frames, small enough to stay in cache.
    public var readBufferBytes = 64 * 1024

    /// Reads one connection may do per readiness event before the loop moves on to other descriptors,
    /// so a fast sender cannot starve its neighbours (swift-nio's `maxMessagesPerRead` default is 4).
    public var maxReadsPerWakeup = 4

    /// Queued outgoing bytes above which a connection reports `writabilityChanged(false)`. coordd's
    /// default: room for a burst of inventory snapshots to an observer without stalling its producer.
    public var writeHighWatermarkBytes = 1 << 20

    /// Queued outgoing bytes at or below which a connection that was not writable reports
    /// `writabilityChanged(true)` again. A quarter of the high watermark, so the flag does not flap.
    public var writeLowWatermarkBytes = 256 << 10

    /// Queued outgoing bytes that close the connection with an error instead of letting it grow
    /// (ARCHITECTURE §5). 64 MiB is eight WebSocket frames at streamkit's 8 MiB frame cap (§3.4).
    public var writeQueueHardCapBytes = 64 << 20

    /// Bytes held in the write queues of all accepted connections together (``OutboundBudget``); past
    /// it the slowest connections are closed until the rest fit. coordd's default, 256 MiB: four
    /// connections at their ``writeQueueHardCapBytes``, or 32 full 8 MiB frames in flight at once, far
    /// above what readers that keep up hold (a fan-out's shared snapshot counts once), and small enough
    /// that clients that never read cannot take a host's memory (eight of them took 740 MB without it).
    /// The daemon's `--max-outbound-memory`.
    public var maxOutboundBytes = 256 << 20

    /// What one queued buffer costs the budget beyond its bytes: the array's header (32 bytes), the
    /// allocator's rounding and the queue's slot, so a flood of small frames is counted near what it
    /// takes in memory.
    public var queuedBufferOverheadBytes = 64

    /// Buffers this large are counted once by the budget however many connections queue them: they are
    /// the payloads fanned out to many connections in one shared allocation (``MuxPayloadCache`` shares
    /// payloads from 4 KiB up); smaller ones are per-connection frames.
    public var sharedBufferMinimumBytes = 4 * 1024

    /// Buffers gathered into one `sendmsg(2)`. Linux allows `IOV_MAX` (1024); 64 covers a flush of
    /// many small messages without a large iovec array on the stack.
    public var maxBuffersPerWrite = 64

    /// Gathered writes per flush before the loop turns to other work; a socket that still accepts
    /// bytes after that is finished on the next writable event (swift-nio's `writeSpinCount` is 16).
    public var maxWritesPerFlush = 16

    /// How long `close()` may spend flushing queued bytes and waiting for the peer's end of stream
    /// before the socket is closed regardless. coordd default.
    public var closeTimeoutMs = 5_000

    /// How long a client `connect` may take before it fails with `ETIMEDOUT`. coordd default.
    public var connectTimeoutMs = 10_000

    /// The `listen(2)` backlog. Linux caps it at `net.core.somaxconn` (4096 on current kernels).
    public var listenBacklog = 4096

    /// Connections a listener accepts per readiness event before the loop moves on (a connection
    /// storm must not starve established connections on the listener's loop).
    public var maxAcceptsPerWakeup = 64

    /// First pause after `accept` fails for lack of descriptors or memory (`EMFILE`, `ENFILE`,
    /// `ENOBUFS`, `ENOMEM`); doubled after each further failure.
    public var acceptBackoffInitialMs = 50

    /// Longest pause between accept attempts while descriptors stay exhausted.
    public var acceptBackoffMaxMs = 1_000

    /// Readiness events taken from one `epoll_wait(2)`. swift-nio uses 64; more means fewer calls
    /// under a connection storm at a few KiB of buffer per loop.
    public var maxEventsPerWait = 256

    /// How long `EventLoopGroup.shutdownGracefully()` lets connections flush and close before they
    /// are closed regardless. Slightly over `closeTimeoutMs`, so a graceful close can finish.
    public var shutdownGraceMs = 6_000

    /// The defaults above.
    public init() {}

    /// Checks the relations between the limits; a violation is a configuration mistake in code.
    func validate() {
        precondition(readBufferBytes > 0 && maxReadsPerWakeup > 0, "read limits must be positive")
        precondition(
            0 <= writeLowWatermarkBytes && writeLowWatermarkBytes < writeHighWatermarkBytes
                && writeHighWatermarkBytes <= writeQueueHardCapBytes,
            "write limits must satisfy low < high <= hard cap")
        precondition(maxOutboundBytes > 0 && queuedBufferOverheadBytes >= 0 && sharedBufferMinimumBytes > 0,
                     "outbound budget limits must be positive")
        precondition(maxBuffersPerWrite > 0 && maxWritesPerFlush > 0, "write batch limits must be positive")
        precondition(closeTimeoutMs >= 0 && connectTimeoutMs > 0 && shutdownGraceMs >= 0, "timeouts must be positive")
        precondition(listenBacklog > 0 && maxAcceptsPerWakeup > 0 && maxEventsPerWait > 0, "counts must be positive")
        precondition(
            0 < acceptBackoffInitialMs && acceptBackoffInitialMs <= acceptBackoffMaxMs,
            "accept backoff must satisfy 0 < initial <= max")
    }
}
