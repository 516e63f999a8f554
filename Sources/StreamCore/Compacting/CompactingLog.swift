/// A log of opaque records that stays as small as the state it describes: its owner appends events
/// and, from time to time, a checkpoint (records describing the whole state at that point), after
/// which the events before the checkpoint are dropped.
///
/// It is how a store keeps its lease log (``StreamStore/leaseLog``), apart from the user entries: the
/// user log cannot drop anything without rewriting user data. Implemented in files
/// (``FileCompactingLog``) and in memory (``MemoryCompactingLog``); another backend implements the
/// same. The records mean nothing to the log.
///
/// The owner appends under its own ordering lock, so the log holds events and checkpoints in exactly
/// the order the owner decided them, and waits for ``LogCommit/durable()`` after releasing the lock.
public protocol CompactingLog: AnyObject, Sendable {
    /// What the log holds: the last complete checkpoint and every event after it, in order. The
    /// owner rebuilds its state from them before its first append. The file log hands over what its
    /// open read, once; the memory log answers with what it holds now; a networked one reads it.
    func recover() async throws(StreamsError) -> CompactingLogContents

    /// Queues `events` as one atomic group, after everything queued before; their place in the log is
    /// fixed when this returns. Fails at once (nothing queued) when the log cannot take them.
    func append(_ events: [[UInt8]]) throws(StreamsError) -> LogCommit

    /// True when the events since the last checkpoint have outgrown it (``CompactingLogLimits``): the
    /// owner should append a checkpoint now.
    var wantsCheckpoint: Bool { get }

    /// Queues a checkpoint: `records` describe the whole state after every event queued so far. Once
    /// it is wholly durable, the events before it are dropped. A checkpoint that does not wholly reach
    /// the log (a crash, a failed write) is ignored on recovery, which then goes on from the previous
    /// one. Records may total more than one write batch.
    func appendCheckpoint(_ records: [[UInt8]]) throws(StreamsError) -> LogCommit

    /// How much the log holds, for metrics and tests.
    var stats: CompactingLogStats { get }

    /// Finishes queued appends and releases the log's files; later appends fail (transient).
    func close() async
}

/// The records a ``CompactingLog`` holds.
public struct CompactingLogContents: Sendable, Hashable {
    /// The records of the last complete checkpoint; nil when the log has never had one.
    public var checkpoint: [[UInt8]]?
    /// The events appended after it (or since the log began), in order.
    public var events: [[UInt8]]

    /// Creates contents.
    public init(checkpoint: [[UInt8]]? = nil, events: [[UInt8]] = []) {
        self.checkpoint = checkpoint
        self.events = events
    }

    /// True for a log that has never held anything.
    public var isEmpty: Bool { checkpoint == nil && events.isEmpty }
}

/// The size of a ``CompactingLog``'s contents, as its checkpoint schedule counts it (payloads plus
/// framing).
public struct CompactingLogStats: Sendable, Hashable {
    /// Bytes of the last checkpoint appended.
    public var checkpointBytes: Int
    /// Bytes of the events appended since.
    public var bytesSinceCheckpoint: Int
    /// Checkpoints appended since the log was opened.
    public var checkpoints: Int
}

/// When a ``CompactingLog`` asks for a checkpoint, with where the values come from.
public struct CompactingLogLimits: Sendable, Hashable {
    /// Events never trigger a checkpoint before they total this many bytes, so a small state is not
    /// checkpointed after every few events. 256 KiB is about 5,000 lease events: decoding and replaying
    /// them into the lease engine takes about 5 ms on open (release build), and a checkpoint of a
    /// hundred leases every 2,500 acquire/release pairs costs nothing that shows.
    public var minimumBytes: Int
    /// A checkpoint is due once the events since the last one total this many times its size: the log
    /// then stays within (1 + factor) × the state, and writing checkpoints costs at most 1/factor of the
    /// bytes the events cost.
    public var growthFactor: Int

    /// The defaults above, or any of them overridden.
    public init(minimumBytes: Int = 256 << 10, growthFactor: Int = 4) {
        precondition(minimumBytes > 0 && growthFactor > 0, "CompactingLogLimits must be positive")
        self.minimumBytes = minimumBytes
        self.growthFactor = growthFactor
    }
}

/// The checkpoint trigger shared by the log implementations: counts bytes and says when one is due.
public struct CheckpointSchedule: Sendable {
    /// When a checkpoint is due.
    public let limits: CompactingLogLimits
    /// What it has counted.
    public private(set) var stats = CompactingLogStats(checkpointBytes: 0, bytesSinceCheckpoint: 0, checkpoints: 0)

    /// A schedule that starts from a checkpoint of `checkpointBytes` and `bytesSinceCheckpoint` of events.
    public init(limits: CompactingLogLimits, checkpointBytes: Int = 0, bytesSinceCheckpoint: Int = 0) {
        self.limits = limits
        stats.checkpointBytes = checkpointBytes
        stats.bytesSinceCheckpoint = bytesSinceCheckpoint
    }

    /// The size the schedule counts for `records`: payloads plus a log frame each.
    public static func size(of records: [[UInt8]]) -> Int {
        records.reduce(0) { $0 + $1.count + LogFormat.frameHeaderSize }
    }

    /// True when the events since the last checkpoint have outgrown it.
    public var isDue: Bool {
        stats.bytesSinceCheckpoint > max(limits.minimumBytes, limits.growthFactor * stats.checkpointBytes)
    }

    /// Counts events of `bytes`.
    public mutating func appended(_ bytes: Int) {
        stats.bytesSinceCheckpoint += bytes
    }

    /// Counts a checkpoint of `bytes`: the events before it no longer count.
    public mutating func checkpointed(_ bytes: Int) {
        stats.checkpointBytes = bytes
        stats.bytesSinceCheckpoint = 0
        stats.checkpoints += 1
    }
}

/// The durability of one append to a ``CompactingLog``.
public struct LogCommit: Sendable {
    /// The file log's group, whose writer reports its outcome.
    private let append: PendingAppend?
    /// Another backend's wait for durability (a database's commit).
    private let wait: (@Sendable () async throws(StreamsError) -> Void)?

    /// The commit of `append`; for a checkpoint, of its last group: a log that fails stops, so no group
    /// becomes durable after one before it failed, and the last one's durability is the whole's.
    init(_ append: PendingAppend?) {
        self.append = append
        wait = nil
    }

    /// A commit that is durable once `wait` returns (a log whose durability another backend reports:
    /// a database's commit).
    public init(waitingFor wait: @escaping @Sendable () async throws(StreamsError) -> Void) {
        append = nil
        self.wait = wait
    }

    /// A commit that is durable already (a log that keeps its records in memory).
    public static let immediate = LogCommit(nil)

    /// Returns once everything the append queued is durable, or throws why it is not.
    public func durable() async throws(StreamsError) {
        if let append { _ = try await append.durable() }
        try await wait?()
    }

    /// Calls `handler` once everything the append queued is durable (nil) or with why it is not, without
    /// a task waiting for it: on the file log's writer thread, at once when there was nothing to wait for,
    /// or from a task for a backend that reports durability asynchronously.
    public func whenDurable(_ handler: @escaping @Sendable (StreamsError?) -> Void) {
        if let append {
            append.whenSettled { outcome in
                if case .failure(let error) = outcome { handler(error) } else { handler(nil) }
            }
        } else if let wait {
            Task {
                do throws(StreamsError) {
                    try await wait()
                    handler(nil)
                } catch {
                    handler(error)
                }
            }
        } else {
            handler(nil)
        }
    }
}
