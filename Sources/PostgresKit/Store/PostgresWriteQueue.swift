import CorePrimitives
import Synchronization
import StreamCore

/// Named limits of a PostgreSQL store's group commit, with where each value comes from.
public struct PostgresWriteLimits: Sendable {
    /// Writes (chunks and lease log groups) that may wait for their transaction; past it a write fails at
    /// once with a transient `storage_error`. 4,096 is far above what the streams of one store keep in
    /// flight (each producer waits for its chunk), so it is reached only when PostgreSQL stalls.
    public var maxQueuedWrites = 4_096
    /// Writes one transaction takes at most, so one commit never holds a huge batch.
    public var maxBatchWrites = 512
    /// Bytes of records one transaction takes at most (its first write always goes in): two chunks of
    /// `StoreLimits.chunkMaxBytes` (8 MiB).
    public var maxBatchBytes = 16 << 20

    /// The defaults.
    public init() {}
}

/// The one place a PostgreSQL store batches its writes (group commit): writes queue in the order their
/// callers decided them, one transaction at a time takes everything queued (up to the batch limits),
/// and each write is answered with its own outcome once that transaction committed.
///
/// One transaction at a time keeps the queue's order the commit order: a chunk queued after another
/// commits after it, and after every lease log event queued before it. A failed transaction stops the
/// queue for good (every later write fails, transient), as a file store's log stops: the writes after it
/// may depend on it (the next chunk of a segment, a lease decision the engine already applied), and
/// only reopening the store rebuilds that state from what PostgreSQL holds.
final class PostgresWriteQueue: Sendable {
    /// A queued write and where its outcome goes.
    struct Queued: Sendable {
        var write: StoreWrite
        var ticket: WriteTicket
        var bytes: Int
    }

    private struct State {
        var queued: [Queued] = []
        var writing = false
        var failure: StreamsError?
        var closed = false
        var injectFailure = false
        var idle: [CheckedContinuation<Void, Never>] = []
    }

    let limits: PostgresWriteLimits
    /// Whose writes these are: every transaction checks this epoch first.
    let owner: OwnerEpoch
    private let sql: PostgresStoreSQL
    private let pool: PostgresPool
    /// Runs after each transaction, before its writes are answered (the store's bookkeeping).
    private let settled: @Sendable ([StoreWrite], [Result<StoreWriteOutcome, StreamsError>]) -> Void
    private let state = Mutex(State())
    /// How long each transaction took, commit included (for the daemon's metrics).
    let transactionLatency = LogSyncLatency()

    init(sql: PostgresStoreSQL, owner: OwnerEpoch, pool: PostgresPool, limits: PostgresWriteLimits,
         settled: @escaping @Sendable ([StoreWrite], [Result<StoreWriteOutcome, StreamsError>]) -> Void) {
        self.sql = sql
        self.owner = owner
        self.pool = pool
        self.limits = limits
        self.settled = settled
    }

    /// Queues `write` after everything queued before; its place in the commit order is fixed when this
    /// returns. Fails at once (nothing queued) when the queue is full, stopped or closed.
    func enqueue(_ write: StoreWrite) throws(StreamsError) -> WriteTicket {
        let ticket = WriteTicket()
        let startsWriter = try state.withLock { s throws(StreamsError) -> Bool in
            if s.closed { throw .shuttingDown.with(message: "store is closed") }
            if let failure = s.failure { throw failure }
            guard s.queued.count < limits.maxQueuedWrites else {
                throw .storage("postgres: \(s.queued.count) writes are waiting for their transaction already "
                               + "(the limit is \(limits.maxQueuedWrites), PostgresWriteLimits.maxQueuedWrites)")
            }
            s.queued.append(Queued(write: write, ticket: ticket, bytes: write.recordBytes))
            if s.writing { return false }
            s.writing = true
            return true
        }
        if startsWriter { Task { await self.drain() } }
        return ticket
    }

    /// Commits batches until the queue is empty. Runs in one task at a time (`writing`).
    private func drain() async {
        while true {
            let (batch, failure, inject, idle) = state.withLock { s -> ([Queued], StreamsError?, Bool, [CheckedContinuation<Void, Never>]) in
                var count = 0
                var bytes = 0
                while count < s.queued.count, count < limits.maxBatchWrites,
                      count == 0 || bytes + s.queued[count].bytes <= limits.maxBatchBytes {
                    bytes += s.queued[count].bytes
                    count += 1
                }
                let batch = Array(s.queued.prefix(count))
                s.queued.removeFirst(count)
                var idle: [CheckedContinuation<Void, Never>] = []
                if batch.isEmpty {
                    s.writing = false
                    swap(&idle, &s.idle)
                }
                let inject = !batch.isEmpty && s.injectFailure
                if inject { s.injectFailure = false }
                return (batch, s.failure, inject, idle)
            }
            guard !batch.isEmpty else {
                for waiter in idle { waiter.resume() }
                return
            }
            let writes = batch.map(\.write)
            var outcomes: [Result<StoreWriteOutcome, StreamsError>]
            if let failure {
                outcomes = writes.map { _ in .failure(failure) }
            } else {
                outcomes = await transactionLatency.measure {
                    await sql.commit(writes, as: owner, on: pool, beforeCommit: inject ? Self.failInside : nil)
                }
                // Refusals are never `storage_error`: one of those is the transaction's failure.
                if let broken = outcomes.lazy.compactMap({ $0.failure }).first(where: { $0.name == "storage_error" }) {
                    let stopped = StreamsError.storage(
                        "\(broken.message); the store takes no more writes until it is opened again")
                    state.withLock { $0.failure = $0.failure ?? stopped }
                    outcomes = writes.map { _ in .failure(stopped) }
                }
            }
            settled(writes, outcomes)
            for (queued, outcome) in zip(batch, outcomes) { queued.ticket.complete(outcome) }
        }
    }

    /// Stops the queue for good with `error` (the first reason stays), as a failed transaction does:
    /// the owner stepped down, so nothing queued from now on may be committed.
    func stop(_ error: StreamsError) {
        state.withLock { $0.failure = $0.failure ?? error }
    }

    /// The failure that stopped the queue for good, once a transaction failed.
    var stopped: StreamsError? {
        state.withLock { $0.failure }
    }

    /// A statement that fails inside the transaction (division by zero), as a server-side failure does.
    private static let failInside: @Sendable (PostgresSession) throws(StreamsError) -> Void = { s throws(StreamsError) in
        try s.execute("SELECT 1 / 0 AS injected_write_failure")
    }

    /// Makes the next transaction fail inside PostgreSQL (a division by zero before its commit), as a
    /// server-side failure does: tests check what a failed write leaves.
    func injectFailure() {
        state.withLock { $0.injectFailure = true }
    }

    /// Refuses later writes and waits until every queued one has its outcome.
    func close() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s -> Bool in
                s.closed = true
                if !s.writing { return true }
                s.idle.append(done)
                return false
            }
            if idle { done.resume() }
        }
    }
}

/// The outcome of one queued write: completed once by the queue, awaited by the writer's caller.
typealias WriteTicket = OneShot<Result<StoreWriteOutcome, StreamsError>>

extension StoreWrite {
    /// Bytes of records the write carries, for the batch limit.
    var recordBytes: Int {
        switch self {
        case .append(let chunk): chunk.records.reduce(0) { $0 + $1.storedSize }
        case .leaseEvents(let records), .leaseCheckpoint(let records): records.reduce(0) { $0 + $1.count }
        case .putLease, .deleteLease: 0
        }
    }
}

extension Result {
    /// The error of a failure, nil for a success.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
