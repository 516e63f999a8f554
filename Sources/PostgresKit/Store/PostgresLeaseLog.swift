import Synchronization
import StreamCore

/// A store's lease log in PostgreSQL (`coordd_lease_log`): events and checkpoints go through the store's
/// group-commit queue, so they share transactions with the store's chunks and commit in the order the
/// lease engine appended them; a checkpoint deletes the rows before it in its own transaction, so the
/// table stays as small as the leases it describes and is never left half-compacted.
///
/// Fences never go back: the lease engine's checkpoint carries its fence counter, and every grant's event
/// is committed before the grant is answered, so the engine rebuilt from ``recover()`` continues above
/// every fence it handed out.
final class PostgresLeaseLog: CompactingLog {
    private struct State {
        var schedule: CheckpointSchedule
        var closed = false
    }

    private let sql: PostgresStoreSQL
    private let pool: PostgresPool
    private let queue: PostgresWriteQueue
    private let state: Mutex<State>

    init(sql: PostgresStoreSQL, pool: PostgresPool, queue: PostgresWriteQueue, limits: CompactingLogLimits) {
        self.sql = sql
        self.pool = pool
        self.queue = queue
        state = Mutex(State(schedule: CheckpointSchedule(limits: limits)))
    }

    /// Reads the checkpoint and the events after it, and counts them for the checkpoint schedule.
    func recover() async throws(StreamsError) -> CompactingLogContents {
        let sql = sql
        let contents = try await pool.run { s throws(StreamsError) in try sql.leaseLog(on: s) }
        state.withLock { s in
            s.schedule = CheckpointSchedule(
                limits: s.schedule.limits, checkpointBytes: contents.checkpoint.map { CheckpointSchedule.size(of: $0) } ?? 0,
                bytesSinceCheckpoint: CheckpointSchedule.size(of: contents.events))
        }
        return contents
    }

    func append(_ events: [[UInt8]]) throws(StreamsError) -> LogCommit {
        try queue(.leaseEvents(events)) { $0.appended(CheckpointSchedule.size(of: events)) }
    }

    var wantsCheckpoint: Bool { state.withLock { $0.schedule.isDue } }

    func appendCheckpoint(_ records: [[UInt8]]) throws(StreamsError) -> LogCommit {
        try queue(.leaseCheckpoint(records)) { $0.checkpointed(CheckpointSchedule.size(of: records)) }
    }

    var stats: CompactingLogStats { state.withLock { $0.schedule.stats } }

    func close() async {
        state.withLock { $0.closed = true }
    }

    /// Queues `write` and counts it once it has its place; the commit waits for its transaction.
    private func queue(_ write: StoreWrite, counting: (inout CheckpointSchedule) -> Void) throws(StreamsError) -> LogCommit {
        let ticket = try state.withLock { s throws(StreamsError) -> WriteTicket in
            if s.closed { throw .shuttingDown.with(message: "log is closed") }
            let ticket = try queue.enqueue(write)
            counting(&s.schedule)
            return ticket
        }
        return LogCommit(waitingFor: { () async throws(StreamsError) -> Void in
            if case .failure(let error) = await ticket.value() { throw error }
        })
    }
}
