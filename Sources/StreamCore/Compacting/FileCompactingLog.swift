import Synchronization

/// A ``CompactingLog`` in a directory of ``DurableLog`` files.
///
/// Events are appended as records of their own; a checkpoint starts a fresh file, and once all of it
/// is durable that file becomes the log's first and the older ones are removed (see
/// ``DurableLog/submitCheckpoint(_:)``). So the files hold one complete checkpoint and the events
/// after it, plus at most the next checkpoint while it is being written. The log's own group commit
/// batches concurrent appends into one write and one `fdatasync`.
public final class FileCompactingLog: CompactingLog {
    /// The log beneath (the store's metrics, and tests, look into it).
    public let log: DurableLog

    private struct State {
        var recovered: CompactingLogContents?
        var schedule: CheckpointSchedule
    }

    private let state: Mutex<State>
    /// True when the open found records (used by the file store to know that lease events are kept
    /// here rather than in its main log).
    let openedWithRecords: Bool

    /// Opens (creating if needed) the log in `directory` and reads it back. A checkpoint that a crash
    /// kept from becoming the log's start becomes it now.
    public static func open(
        directory: String, limits: CompactingLogLimits = .init(), logLimits: DurableLogLimits = .init()
    ) throws(StreamsError) -> FileCompactingLog {
        var replay = CompactingLogReplay()
        let log: DurableLog
        do {
            log = try DurableLog.open(directory: directory, limits: logLimits) { position, kind, payload in
                try replay.read(kind: kind, payload: payload, at: position)
            }
        } catch let error as StreamsError {
            throw error
        } catch {
            throw .storage("cannot open the compacting log in \(directory): \(error)", cause: error as? IOError)
        }
        if let file = replay.checkpointFile { log.completeCheckpoint(startingIn: file) }
        return FileCompactingLog(log: log, replay: replay, limits: limits)
    }

    private init(log: DurableLog, replay: CompactingLogReplay, limits: CompactingLogLimits) {
        self.log = log
        openedWithRecords = !replay.contents.isEmpty
        state = Mutex(State(
            recovered: replay.contents,
            schedule: CheckpointSchedule(
                limits: limits, checkpointBytes: replay.checkpointBytes, bytesSinceCheckpoint: replay.bytesSinceCheckpoint)))
    }

    public func recover() throws(StreamsError) -> CompactingLogContents {
        let contents = state.withLock { s -> CompactingLogContents? in
            defer { s.recovered = nil }
            return s.recovered
        }
        guard let contents else {
            throw .storage("the compacting log in \(log.directory) was already read back once since it was opened")
        }
        return contents
    }

    public func append(_ events: [[UInt8]]) throws(StreamsError) -> LogCommit {
        let pending = try log.submit(events.map { LogRecord(kind: CompactingLogRecords.eventKind, payload: $0) })
        let size = CheckpointSchedule.size(of: events)
        state.withLock { $0.schedule.appended(size) }
        return LogCommit(pending)
    }

    public var wantsCheckpoint: Bool { state.withLock { $0.schedule.isDue } }

    public func appendCheckpoint(_ records: [[UInt8]]) throws(StreamsError) -> LogCommit {
        let groups = CompactingLogRecords.checkpointGroups(records, maxGroupBytes: log.limits.maxBatchBytes)
        let pending = try log.submitCheckpoint(groups)
        let size = CheckpointSchedule.size(of: records)
        state.withLock { $0.schedule.checkpointed(size) }
        return LogCommit(pending.last)
    }

    public var stats: CompactingLogStats { state.withLock { $0.schedule.stats } }

    public func close() async {
        await log.close()
    }
}
