import Synchronization

/// The open log files and how much of each is committed, shared by readers and the writer.
///
/// Readers hold the lock only to look a file up, never across I/O; the writer only to publish a new
/// committed size. Descriptors stay open until the table goes away, so a reader never uses a closed
/// (or reused) descriptor.
final class LogFileTable: Sendable {
    /// One file.
    struct Entry: Sendable {
        var fd: Int32
        var committedSize: UInt64
    }

    private let entries = Mutex<[UInt32: Entry]>([:])

    /// Adds (or replaces) file `number`.
    func set(_ number: UInt32, _ entry: Entry) {
        entries.withLock { $0[number] = entry }
    }

    /// Publishes that file `number` is committed up to `size`.
    func setCommitted(_ number: UInt32, size: UInt64) {
        entries.withLock { $0[number]?.committedSize = size }
    }

    /// The entry of file `number`, if the log has that file.
    func entry(_ number: UInt32) -> Entry? {
        entries.withLock { $0[number] }
    }

    deinit {
        for entry in entries.withLock({ Array($0.values) }) { try? Posix.close(entry.fd) }
    }
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
}

/// The live counters behind ``DurableLogMetrics``: written by the writer thread, read by anyone.
final class LogCounters: Sendable {
    let appends = Atomic<Int>(0)
    let records = Atomic<Int>(0)
    let batches = Atomic<Int>(0)
    let syncs = Atomic<Int>(0)
    let bytesWritten = Atomic<Int>(0)
    let syncLatency = LogSyncLatency()

    var snapshot: DurableLogMetrics {
        DurableLogMetrics(
            appends: appends.load(ordering: .relaxed), records: records.load(ordering: .relaxed),
            batches: batches.load(ordering: .relaxed), syncs: syncs.load(ordering: .relaxed),
            bytesWritten: bytesWritten.load(ordering: .relaxed), syncLatency: syncLatency.snapshot)
    }
}
