import Synchronization

/// The open log files and how much of each is committed, shared by readers and the writer.
///
/// Readers hold the lock only to look a file up, never across I/O; the writer only to publish a new
/// committed size, add a file or drop the files a checkpoint made unnecessary. A file's descriptor is
/// closed when the last holder of its ``LogFileHandle`` lets go, so a reader that looked a file up
/// just before it was dropped still reads through an open descriptor, never a closed or reused one.
final class LogFileTable: Sendable {
    /// One file.
    struct Entry: Sendable {
        var handle: LogFileHandle
        var committedSize: UInt64

        var fd: Int32 { handle.fd }
    }

    private let entries = Mutex<[UInt32: Entry]>([:])

    /// Adds (or replaces) file `number`, open on `fd`, committed up to `committedSize`.
    func set(_ number: UInt32, fd: Int32, committedSize: UInt64) {
        let entry = Entry(handle: LogFileHandle(fd: fd), committedSize: committedSize)
        entries.withLock { $0[number] = entry }
    }

    /// Publishes that file `number` is committed up to `size`.
    func setCommitted(_ number: UInt32, size: UInt64) {
        entries.withLock { $0[number]?.committedSize = size }
    }

    /// Committed bytes over every file of the log: what it holds on disk, kept up to date by the writer
    /// and the checkpoints, so reading it costs no system call.
    var committedBytes: UInt64 {
        entries.withLock { $0.values.reduce(0) { $0 + $1.committedSize } }
    }

    /// The entry of file `number`, if the log has that file.
    func entry(_ number: UInt32) -> Entry? {
        entries.withLock { $0[number] }
    }

    /// Forgets every file numbered below `number` and returns how many there were. Their descriptors
    /// close as the entries go, after the lock (or later, once a reader still holding one is done).
    @discardableResult
    func removeFiles(before number: UInt32) -> Int {
        let dropped = entries.withLock { table -> [Entry] in
            table.keys.filter { $0 < number }.compactMap { table.removeValue(forKey: $0) }
        }
        return dropped.count
    }
}

/// An open descriptor of a log file, closed when the last reference goes.
final class LogFileHandle: Sendable {
    let fd: Int32

    init(fd: Int32) { self.fd = fd }

    deinit { try? Posix.close(fd) }
}

/// Counters of the log's work since it was opened.
public struct DurableLogMetrics: Sendable, Hashable {
    /// `append` calls that became durable.
    public var appends: Int
    /// Records in them.
    public var records: Int
    /// Write batches (each one `pwrite` and one `fdatasync`).
    public var batches: Int
    /// `fdatasync` calls on log files, including those that make a new file's header durable.
    public var syncs: Int
    /// Bytes written to log files, headers and framing included.
    public var bytesWritten: Int
    /// How long each batch's `fdatasync` took (the flush an acknowledged append waits for).
    public var syncLatency: SyncLatencyHistogram
    /// Checkpoints that moved the log's start to a later file (whose older files were then removed).
    public var checkpoints: Int
    /// Files removed because a checkpoint made them unnecessary.
    public var filesRemoved: Int
    /// Checkpoints whose base marker or file removal failed (the files stay until a later one).
    public var checkpointFailures: Int
}

extension DurableLogMetrics {
    /// These counters and `other`'s summed (the logs of one store).
    func adding(_ other: DurableLogMetrics) -> DurableLogMetrics {
        var sum = self
        sum.appends += other.appends
        sum.records += other.records
        sum.batches += other.batches
        sum.syncs += other.syncs
        sum.bytesWritten += other.bytesWritten
        sum.syncLatency.add(other.syncLatency)
        sum.checkpoints += other.checkpoints
        sum.filesRemoved += other.filesRemoved
        sum.checkpointFailures += other.checkpointFailures
        return sum
    }
}

/// The live counters behind ``DurableLogMetrics``: written by the writer, read by anyone.
final class LogCounters: Sendable {
    let appends = Atomic<Int>(0)
    let records = Atomic<Int>(0)
    let batches = Atomic<Int>(0)
    let syncs = Atomic<Int>(0)
    let bytesWritten = Atomic<Int>(0)
    let syncLatency = LogSyncLatency()
    let checkpoints = Atomic<Int>(0)
    let filesRemoved = Atomic<Int>(0)
    let checkpointFailures = Atomic<Int>(0)
    /// Bytes of zeros the writer has reserved past the committed data of the current file.
    let reservedBytes = Atomic<Int>(0)

    var snapshot: DurableLogMetrics {
        DurableLogMetrics(
            appends: appends.load(ordering: .relaxed), records: records.load(ordering: .relaxed),
            batches: batches.load(ordering: .relaxed), syncs: syncs.load(ordering: .relaxed),
            bytesWritten: bytesWritten.load(ordering: .relaxed), syncLatency: syncLatency.snapshot,
            checkpoints: checkpoints.load(ordering: .relaxed), filesRemoved: filesRemoved.load(ordering: .relaxed),
            checkpointFailures: checkpointFailures.load(ordering: .relaxed))
    }
}
