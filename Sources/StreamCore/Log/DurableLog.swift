#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// An append-only, checksummed, crash-safe log of opaque records in a directory of files.
///
/// Appends are grouped: all records of one ``append(_:)`` call survive a crash together or not at
/// all, and a call returns only once its records are on stable storage (after `fdatasync`). The log's
/// writer, run by a small pool of threads shared by every log of the process, batches whatever is
/// waiting into one write and one flush (group commit). Reads use `pread` on committed data and never
/// wait for the writer. A checkpoint (``submitCheckpoint(_:)``) lets the log drop the files before it.
/// See `docs/storage.md` for the format.
public final class DurableLog: Sendable {
    /// What opening found and repaired.
    public let recoveryReport: LogRecoveryReport
    /// The limits the log was opened with.
    public let limits: DurableLogLimits
    /// The directory holding the log files.
    public let directory: String

    let queue: LogQueue
    let files: LogFileTable
    let faults: LogFaultInjector
    let counters: LogCounters
    private let writer: LogWriter
    private let pool: LogWriterPool
    private let closed = Mutex(false)

    /// Opens (creating if needed) the log in `directory`, verifies every record and replays the
    /// committed ones in log order.
    ///
    /// `replay` gets each record's position, kind and payload; the payload pointer is valid only
    /// during the call. A torn tail left by a crash is cut off and described in ``recoveryReport``;
    /// other damage throws a ``StreamsError`` naming the file and offset. Errors `replay` throws
    /// stop the open and are rethrown unchanged.
    public static func open(
        directory: String, limits: DurableLogLimits = .init(),
        replay: (LogPosition, UInt8, UnsafeRawBufferPointer) throws -> Void
    ) throws -> DurableLog {
        try open(directory: directory, limits: limits, pool: .shared, replay: replay)
    }

    /// ``open(directory:limits:replay:)`` with the writer pool to use (tests give their own).
    static func open(
        directory: String, limits: DurableLogLimits, pool: LogWriterPool,
        replay: (LogPosition, UInt8, UnsafeRawBufferPointer) throws -> Void
    ) throws -> DurableLog {
        precondition(limits.maxRecordPayloadBytes > 0 && limits.maxRecordPayloadBytes <= Int(UInt32.max) / 2,
                     "DurableLogLimits.maxRecordPayloadBytes out of range: \(limits.maxRecordPayloadBytes)")
        precondition(limits.maxBatchBytes >= limits.maxRecordPayloadBytes + LogFormat.frameHeaderSize,
                     "DurableLogLimits.maxBatchBytes must hold one record of maxRecordPayloadBytes")
        precondition(limits.fileRollBytes > LogFormat.fileHeaderSize && limits.maxPendingAppends > 0 && limits.reserveBytes >= 0,
                     "DurableLogLimits: fileRollBytes and maxPendingAppends must be positive, reserveBytes not negative")
        let files = LogFileTable()
        let recovered = try LogRecovery.recover(directory: directory, files: files, replay: replay)
        // Appends fail at once while no writer thread runs; the next open or append tries again.
        try? pool.ensureRunning()
        return DurableLog(directory: directory, limits: limits, files: files, recovered: recovered, pool: pool)
    }

    private init(directory: String, limits: DurableLogLimits, files: LogFileTable, recovered: RecoveredLog, pool: LogWriterPool) {
        self.directory = directory
        self.limits = limits
        self.files = files
        self.pool = pool
        self.recoveryReport = recovered.report
        queue = LogQueue(maxPending: limits.maxPendingAppends)
        faults = LogFaultInjector()
        counters = LogCounters()
        writer = LogWriter(
            directory: directory, limits: limits, queue: queue, files: files, faults: faults, counters: counters,
            recovered: recovered)
    }

    /// Lets the writer finish what is queued and stop, without waiting for it: a log is meant to be closed
    /// before it goes, and the last reference may be dropped on a thread that must not block.
    deinit {
        _ = beginClosing()
    }

    /// Appends `records` as one atomic group and returns their positions once they are durable.
    ///
    /// Fails at once, without writing, if a payload exceeds `maxRecordPayloadBytes` or the group
    /// `maxBatchBytes` (permanent `limit_exceeded`), if `maxPendingAppends` calls are already waiting,
    /// or if the log is closed or read-only after a failed write (transient). A failed write fails the
    /// whole group (transient `storage_error`) and every group queued after it, and makes the log
    /// read-only, so a group can never be durable after one before it failed. Cancelling the calling
    /// task does not withdraw a group already queued.
    public func append(_ records: [LogRecord]) async throws(StreamsError) -> [LogPosition] {
        try await submit(records).durable()
    }

    /// Queues `records` as one atomic group without waiting: the group's place in the log order is fixed
    /// when this returns, so a caller holding a lock can order its appends by that lock. Await
    /// ``PendingAppend/durable()`` for the positions. Fails at once for the reasons ``append(_:)`` does,
    /// and when no writer thread can be started (transient). The writer settles groups in log order: when
    /// one has its outcome, every group queued before it has one too.
    public func submit(_ records: [LogRecord]) throws(StreamsError) -> PendingAppend {
        if records.isEmpty { return PendingAppend(ticket: nil) }
        let group = try frame(records)
        try enqueue([.group(group)])
        return PendingAppend(ticket: group.waiter)
    }

    /// Queues a checkpoint without waiting: `groups` (each one atomic, like an ``append(_:)``) go at the
    /// start of a fresh file, and once every one of them is durable that file becomes the log's first
    /// and the files before it are removed. A crash anywhere in between leaves either the old first
    /// file or the new one, with every record from there on. Whether the checkpoint as a whole is
    /// complete is for the caller's records to tell on replay (a group can fail while a later one
    /// succeeds). Fails at once, queueing nothing, for the reasons ``submit(_:)`` does.
    public func submitCheckpoint(_ groups: [[LogRecord]]) throws(StreamsError) -> [PendingAppend] {
        var items: [LogQueue.Item] = []
        var pending: [PendingAppend] = []
        for records in groups where !records.isEmpty {
            var group = try frame(records)
            group.startsFile = items.isEmpty
            items.append(.group(group))
            pending.append(PendingAppend(ticket: group.waiter))
        }
        guard !items.isEmpty else { return [] }
        items.append(.completeCheckpoint(pending.compactMap(\.ticket)))
        try enqueue(items)
        return pending
    }

    /// Makes a checkpoint already durable in file `file` the log's start (a crash came between its
    /// last group and its base marker). Nothing happens if the writer cannot take it.
    func completeCheckpoint(startingIn file: UInt32) {
        let ticket = LogTicket()
        ticket.resume(returning: .success((file, UInt64(LogFormat.fileHeaderSize))))
        try? enqueue([.completeCheckpoint([ticket])])
    }

    /// `records` framed as one group, checked against the size limits.
    private func frame(_ records: [LogRecord]) throws(StreamsError) -> LogQueue.Group {
        var frames: [UInt8] = []
        frames.reserveCapacity(records.reduce(0) { $0 + LogFormat.frameHeaderSize + $1.payload.count })
        var offsets: [UInt64] = []
        offsets.reserveCapacity(records.count)
        for record in records {
            offsets.append(UInt64(frames.count))
            guard record.payload.count <= limits.maxRecordPayloadBytes else {
                throw .limitExceeded(
                    "log record payload of \(record.payload.count) bytes exceeds maxRecordPayloadBytes (\(limits.maxRecordPayloadBytes))")
            }
            record.payload.withUnsafeBytes { LogFormat.appendFrame(kind: record.kind, flags: 0, payload: $0, to: &frames) }
        }
        guard frames.count <= limits.maxBatchBytes else {
            throw .limitExceeded(
                "log append of \(frames.count) bytes (\(records.count) records) exceeds maxBatchBytes (\(limits.maxBatchBytes))")
        }
        return LogQueue.Group(
            frames: frames, recordCount: records.count, waiter: LogTicket(recordOffsets: offsets))
    }

    private func enqueue(_ items: [LogQueue.Item]) throws(StreamsError) {
        if pool.threadCount == 0 { try pool.ensureRunning() }
        let (rejection, schedule) = queue.enqueue(items)
        if let rejection { throw rejection }
        // The writer stays marked as scheduled meanwhile, so later appends only queue.
        if schedule { ThreadTurn.atEnd { [pool, writer] in pool.schedule(writer) } }
    }

    /// Committed bytes in the log's files (headers included), without a system call.
    public var committedBytes: UInt64 { files.committedBytes }

    /// The log's size on disk, without a system call: its committed bytes and the zeros reserved after
    /// them in the last file (at most `reserveBytes`, none once the log is closed).
    public var diskBytes: UInt64 { committedBytes + UInt64(counters.reservedBytes.load(ordering: .relaxed)) }

    /// Reads back the record at `position` (as returned by ``append(_:)`` or passed to `replay`).
    ///
    /// Only committed data is read, with `pread`; the writer is never waited for. Throws a storage
    /// error if no intact record starts there. Works after ``close()`` and after a failed flush.
    public func read(at position: LogPosition) throws(StreamsError) -> LogRecord {
        let name = LogFormat.fileName(position.file)
        guard let entry = files.entry(position.file) else { throw .storage("log has no file \(name)") }
        let header = UInt64(LogFormat.frameHeaderSize)
        guard position.offset >= UInt64(LogFormat.fileHeaderSize), position.offset + header <= entry.committedSize else {
            throw .storage("no committed log record at \(position)")
        }
        let frame: [UInt8]
        do throws(IOError) {
            frame = try Self.readFrame(fd: entry.fd, at: position.offset, committedSize: entry.committedSize)
        } catch {
            throw LogErrors.io("reading \(position)", error)
        }
        // readFrame returns at least a frame header (checked above to fit), so the bytes have an address.
        let length = frame.withUnsafeBytes { LogFormat.payloadLength($0.baseAddress!) }
        guard frame.count == LogFormat.frameHeaderSize + length else {
            throw LogErrors.corrupt(name, position.offset, "record length \(length) runs past the committed data")
        }
        return try frame.withUnsafeBytes { Self.record(frame: $0, at: position) }.get()
    }

    /// The record in `frame`, exactly one frame's bytes read from `position`: a storage error unless it is
    /// intact and a record (not a commit frame).
    /// (A `Result`, not a throw: it is called inside `withUnsafeBytes`, which rethrows untyped errors.)
    static func record(frame: UnsafeRawBufferPointer, at position: LogPosition) -> Result<LogRecord, StreamsError> {
        guard LogFormat.isIntact(frame), frame[9] == 0 else {
            return .failure(LogErrors.corrupt(LogFormat.fileName(position.file), position.offset, "no intact record starts here"))
        }
        return .success(LogRecord(kind: frame[8], payload: Array(UnsafeRawBufferPointer(rebasing: frame[LogFormat.frameHeaderSize...]))))
    }

    /// The frame at `offset` as its header's length declares it, cut short at `committedSize`.
    /// One pread usually covers the whole record; a second fetches the rest of a large one.
    private static func readFrame(fd: Int32, at offset: UInt64, committedSize: UInt64) throws(IOError) -> [UInt8] {
        let available = committedSize - offset
        var frame = [UInt8](repeating: 0, count: Int(min(available, 4096)))
        let got = try LogFileIO.readFully(fd, into: &frame, at: offset)
        guard got == frame.count else { throw IOError(errno: EIO, call: "pread") }
        // At least a frame header was read: the caller checked that one fits below committedSize.
        let total = frame.withUnsafeBytes { LogFormat.payloadLength($0.baseAddress!) } + LogFormat.frameHeaderSize
        let wanted = Int(min(UInt64(total), available))
        if wanted < frame.count {
            frame.removeLast(frame.count - wanted)
        } else if wanted > frame.count {
            let have = frame.count
            // Not `append(contentsOf: repeatElement(…))`: unoptimised builds fill that a byte at a time
            // (2 s for a 6 MiB record), which made every debug read of a large entry crawl.
            frame += [UInt8](repeating: 0, count: wanted - have)
            let rest = try LogFileIO.readFully(fd, into: &frame, from: have, at: offset + UInt64(have))
            guard rest == wanted - have else { throw IOError(errno: EIO, call: "pread") }
        }
        return frame
    }

    /// Waits for every queued append to be written, stops the writer and records a clean shutdown.
    /// Later appends fail; reads keep working. Blocks the calling thread until the writer is done:
    /// from a task, use ``close()-swift.method`` `async`, which holds no thread while it waits.
    public func close() {
        guard beginClosing() else { return }
        writer.exit.wait()
    }

    /// ``close()`` without blocking a thread: suspends until the writer has finished.
    public func close() async {
        guard beginClosing() else { return }
        await writer.exit.wait()
    }

    /// Refuses further appends and lets the writer finish; false if the log was already closing.
    private func beginClosing() -> Bool {
        let first = closed.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return false }
        if pool.threadCount == 0, (try? pool.ensureRunning()) == nil {
            // No thread can run the writer: nothing was ever queued (appends failed at once), so there
            // is nothing to finish, and the log stays as recovery found it (not marked clean).
            writer.exit.fire()
            return true
        }
        if queue.beginClosing().schedule { pool.schedule(writer) }
        return true
    }

    /// Holds the writer before its next step, so appends pile up in the queue (tests).
    func holdWriter() {
        queue.hold()
    }

    /// Lets a held writer go on.
    func releaseWriter() {
        if queue.release() { pool.schedule(writer) }
    }

    /// Counters of the work done since the log was opened.
    public var metrics: DurableLogMetrics { counters.snapshot }
}

/// A group queued by ``DurableLog/submit(_:)``, not yet known to be durable.
public struct PendingAppend: Sendable {
    let ticket: LogTicket?

    /// Waits until the group is durable and returns its records' positions, or throws why it is not.
    public func durable() async throws(StreamsError) -> [LogPosition] {
        try await settled().get()
    }

    /// Waits until the group has its outcome: its records' positions, or why it is not in the log.
    public func settled() async -> Result<[LogPosition], StreamsError> {
        guard let ticket else { return .success([]) }
        return ticket.positions(await ticket.value())
    }

    /// Calls `handler` with the outcome once the group has it, on the writer's thread (at once if it has
    /// it already): for a caller that answers without a task of its own, and must not hold the writer up.
    public func whenSettled(_ handler: @escaping @Sendable (Result<[LogPosition], StreamsError>) -> Void) {
        guard let ticket else { return handler(.success([])) }
        ticket.onSettled { handler(ticket.positions($0)) }
    }

    /// The outcome if the writer has given it, without waiting.
    public var outcome: Result<[LogPosition], StreamsError>? {
        guard let ticket else { return .success([]) }
        return ticket.outcome.map(ticket.positions)
    }
}
