import Synchronization
import StreamCore

/// The streaming store of one store UUID in PostgreSQL: entries, segment heads and the lease log in
/// the tables of ``PostgresSchema``, written through one group-commit queue (``PostgresWriteQueue``) and
/// read with plain queries on the pool's other connections, so reads never wait for writes.
///
/// It keeps the file store's guarantees: a chunk is acknowledged once its transaction committed (with
/// `synchronous_commit` on), and visible to every read from then on; of two chunks claiming a sequence one
/// commits and the other is refused (the head's compare-and-set in ``PostgresStoreSQL``); a chunk's
/// timestamp comes from the space's ``SpaceClock``, kept here in memory under the lock that also orders
/// the chunks into the queue and runs their fence checks, so the space reads' visibility rule is the file
/// store's. One daemon writes a store at a time: it is opened under an ``OwnerEpoch`` its daemon took over,
/// every transaction checks that epoch first, and closing the store releases the ownership.
public final class PostgresStore: StreamStore {
    public let storageKind = "postgres"
    public let limits: StoreLimits
    /// The store's UUID.
    public let id: WireUUID
    let sql: PostgresStoreSQL
    let pool: PostgresPool
    let queue: PostgresWriteQueue
    private let clock: any WallClock
    /// The spaces' timestamp rules; their lock also orders chunks into the queue.
    private let order: SpaceOrder
    private let closed = Atomic<Bool>(false)
    private let leases: PostgresLeaseLog

    /// Whose writes this store makes: every transaction commits only while this epoch holds the store.
    public var owner: OwnerEpoch { queue.owner }

    /// Opens store `owner.store` on `pool` (whose schema is prepared) as `owner`, which the caller took
    /// over (``StoreOwnershipSQL/takeOver(_:on:)``), recording the store as existing. Reads the spaces'
    /// last timestamps, so that timestamps never go back across a restart or a take-over.
    public static func open(owner: OwnerEpoch, pool: PostgresPool, limits: StoreLimits = StoreLimits(),
                            writeLimits: PostgresWriteLimits = PostgresWriteLimits(),
                            leaseLogLimits: CompactingLogLimits = CompactingLogLimits(),
                            clock: any WallClock = SystemWallClock()) async throws(StreamsError) -> PostgresStore {
        let sql = PostgresStoreSQL(store: owner.store)
        let spaces = try await pool.transaction { s throws(StreamsError) in
            _ = try sql.create(on: s)
            return try sql.spaceTimestamps(on: s)
        }
        return PostgresStore(owner: owner, sql: sql, pool: pool, limits: limits, writeLimits: writeLimits,
                             leaseLogLimits: leaseLogLimits, clock: clock, spaces: spaces)
    }

    private init(owner: OwnerEpoch, sql: PostgresStoreSQL, pool: PostgresPool, limits: StoreLimits, writeLimits: PostgresWriteLimits,
                 leaseLogLimits: CompactingLogLimits, clock: any WallClock, spaces: [String: Int64]) {
        self.id = owner.store
        self.sql = sql
        self.pool = pool
        self.limits = limits
        self.clock = clock
        let order = SpaceOrder(spaces.mapValues { SpaceClock(lastCommitted: $0) })
        self.order = order
        queue = PostgresWriteQueue(sql: sql, owner: owner, pool: pool, limits: writeLimits) { writes, outcomes in
            // Before the writers are answered: an acknowledged chunk no longer holds space reads back.
            order.clocks.withLock { clocks in
                for (write, outcome) in zip(writes, outcomes) {
                    guard case .append(let chunk) = write else { continue }
                    clocks[chunk.space]?.end(chunk.nowMs)
                    if case .success(.appended(let entries, _)) = outcome, let first = entries.first {
                        clocks[chunk.space]?.restored(first.timestamp)
                    }
                }
            }
        }
        leases = PostgresLeaseLog(sql: sql, pool: pool, queue: queue, limits: leaseLogLimits)
    }

    /// Validates the chunk, runs its fence check and takes its timestamp and its place in the commit
    /// order in one step under the ordering lock, then waits for its transaction.
    public func append(_ request: AppendRequest) async throws(StreamsError) -> SegmentStatus {
        guard !closed.load(ordering: .acquiring) else { throw .shuttingDown.with(message: "store is closed") }
        try limits.validate(request)
        let ticket = try order.clocks.withLock { clocks throws(StreamsError) -> WriteTicket in
            if let precheck = request.precheck, let refusal = precheck() { throw refusal }
            let timestamp = clocks[request.space, default: SpaceClock()].begin(nowMs: clock.nowMs())
            do throws(StreamsError) {
                return try queue.enqueue(.append(ChunkAppend(
                    space: request.space, segment: request.segment, records: request.records, sequencing: request.sequencing,
                    nowMs: timestamp)))
            } catch {
                clocks[request.space]?.end(timestamp)
                throw error
            }
        }
        switch await ticket.value() {
        case .success(.appended(_, let status)): return status
        case .success(let other): throw .storage("postgres: a chunk's write answered \(other)")
        case .failure(let error): throw error
        }
    }

    public func peek(space: String, segment: String) async throws(StreamsError) -> Entry? {
        let sql = sql
        return try await pool.run { s throws(StreamsError) in try sql.peek(space: space, segment: segment, on: s) }
    }

    public func status(space: String, segment: String) async throws(StreamsError) -> SegmentStatus? {
        let sql = sql
        return try await pool.run { s throws(StreamsError) in
            try sql.readHead(space: space, segment: segment, on: s)?.status(space: space, segment: segment)
        }
    }

    public func statuses(space: String) async throws(StreamsError) -> [SegmentStatus] {
        let sql = sql
        return try await pool.run { s throws(StreamsError) in try sql.statuses(space: space, on: s) }
    }

    public func readSegment(space: String, segment: String, range: SegmentRange, max: Int) async throws(StreamsError) -> [Entry] {
        let sql = sql
        return try await pool.run { s throws(StreamsError) in
            try sql.readSegment(space: space, segment: segment, range: range, max: max, on: s)
        }
    }

    /// The cursor is any bytes a client sent: entries are returned whose space offset sorts above
    /// `after` + 0x00 (streamkit's exclusive `EncodeFirst`), exactly as the index of the other stores does.
    public func readSpace(space: String, after: [UInt8], afterTimestamp: Int64, throughTimestamp: Int64, max: Int)
        async throws(StreamsError) -> [Entry]
    {
        let sql = sql
        let bound = SpaceCursorBound(space: space, cursor: after)
        if bound.isPastEverything { return [] }
        return try await pool.run { s throws(StreamsError) in
            var result: [Entry] = []
            var from = bound.start
            // Only a malformed cursor makes rows of its first millisecond sort below it; each round
            // moves `from` past the rows it read, so this ends.
            while result.count < max {
                let want = max - result.count
                let rows = try sql.readSpace(space: space, after: from, afterTimestamp: afterTimestamp, throughTimestamp: throughTimestamp,
                                             max: want, on: s)
                result += rows.filter { bound.admits($0) }
                guard let last = rows.last, rows.count == want else { break }
                from = SpaceCursor(timestamp: last.timestamp, segment: last.segment, sequence: last.sequence)
            }
            return result
        }
    }

    public func visibleBound(space: String) async throws(StreamsError) -> Int64 {
        let now = clock.nowMs()
        return order.clocks.withLock { clocks in
            guard var rules = clocks[space] else { return now }
            defer { clocks[space] = rules }
            return rules.visibleBound(nowMs: now)
        }
    }

    public func spaces() async throws(StreamsError) -> [String] {
        let sql = sql
        return try await pool.run { s throws(StreamsError) in try sql.spaces(on: s) }
    }

    public func segments(space: String) async throws(StreamsError) -> [String] {
        let sql = sql
        return try await pool.run { s throws(StreamsError) in try sql.segments(space: space, on: s) }
    }

    public func stats() async throws(StreamsError) -> StoreStats {
        let sql = sql
        return try await pool.run { s throws(StreamsError) in try sql.stats(on: s) }
    }

    public var leaseLog: any CompactingLog { leases }

    /// Its transactions' latency; no size (PostgreSQL's own statistics give a table's, not a store's).
    public var storageMetrics: StoreStorageMetrics {
        StoreStorageMetrics(transactionLatency: queue.transactionLatency.snapshot)
    }

    /// Set once a transaction failed (PostgreSQL restarted, a connection broke mid-commit): the daemon
    /// then closes this store and opens it again, rebuilding the lease engine from the lease log table.
    public var writesStopped: StreamsError? { queue.stopped }

    /// Stops the store's writes for good with `error` (the owner stepped down): every later write fails
    /// with it and ``writesStopped`` reports it, so the daemon closes the store.
    public func stopWrites(because error: StreamsError) {
        queue.stop(error)
    }

    /// True once ``close()`` began.
    public var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Refuses later writes, waits for the queued ones, then releases the ownership (when it still holds:
    /// a failure to reach PostgreSQL leaves it to expire), so another daemon or the next open takes over at
    /// once. The pool is the caller's and stays open.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await leases.close()
        await queue.close()
        let owner = owner
        _ = try? await pool.run { s throws(StreamsError) in try StoreOwnershipSQL.release(owner, on: s) }
    }

    /// Makes the next transaction fail inside PostgreSQL, for tests of what a failed write leaves.
    func failNextWrite() {
        queue.injectFailure()
    }
}

/// The spaces' ``SpaceClock``s behind the lock that orders a store's chunks.
final class SpaceOrder: Sendable {
    let clocks: Mutex<[String: SpaceClock]>

    init(_ clocks: [String: SpaceClock]) {
        self.clocks = Mutex(clocks)
    }
}

/// Where a space read starts for a client's cursor bytes: the cursor decoded into the space order
/// when it is an entry's space offset, or the lowest place it can be for anything else (checked
/// entry by entry with ``admits(_:)``).
struct SpaceCursorBound {
    let space: String
    /// `after` + 0x00: entries whose space offset sorts above it are returned.
    let exclusive: LexKey
    /// Where the query starts (nil: the beginning of the space).
    let start: SpaceCursor?
    /// The cursor sorts above every entry of the space.
    let isPastEverything: Bool

    init(space: String, cursor: [UInt8]) {
        self.space = space
        exclusive = LexKey(bytes: cursor).first
        let prefix = LexKey([.string("DAT"), .string("SPACES"), .string(space), .string("")]).bytes
        guard !cursor.isEmpty else {
            (start, isPastEverything) = (nil, false)
            return
        }
        guard cursor.starts(with: prefix) else {
            // Every offset of the space starts with `prefix` and is longer: the cursor sorts below all
            // of them or above all of them.
            let above = !exclusive.bytes.starts(with: prefix) && prefix.lexicographicallyPrecedes(exclusive.bytes)
            (start, isPastEverything) = (nil, above)
            return
        }
        // The timestamp's 8 bytes (padded with zeros when the cursor ends early): no entry of an
        // earlier millisecond sorts above the cursor.
        let rest = Array(cursor.dropFirst(prefix.count))
        var stamp: UInt64 = 0
        for i in 0..<8 { stamp = stamp << 8 | UInt64(i < rest.count ? rest[i] : 0) }
        let timestamp = Int64(bitPattern: stamp ^ 0x8000_0000_0000_0000)
        isPastEverything = false
        if let decoded = Self.decode(rest) {
            start = decoded
        } else {
            // The millisecond before, so every entry of `timestamp` is read and checked.
            start = timestamp == .min ? nil : SpaceCursor(timestamp: timestamp - 1, segment: "", sequence: .max)
        }
    }

    /// True when `entry` sorts above the cursor.
    func admits(_ entry: Entry) -> Bool {
        exclusive < entry.spaceOffset
    }

    /// The entry position a well-formed offset names: timestamp, 0x00, segment, 0x00, sequence.
    private static func decode(_ rest: [UInt8]) -> SpaceCursor? {
        guard rest.count >= 8 + 1 + 1 + 8, rest[8] == 0, rest[rest.count - 9] == 0 else { return nil }
        let segmentBytes = rest[9..<(rest.count - 9)]
        guard !segmentBytes.contains(0), let segment = String(validating: segmentBytes, as: UTF8.self) else { return nil }
        var stamp: UInt64 = 0
        for byte in rest[0..<8] { stamp = stamp << 8 | UInt64(byte) }
        var sequence: UInt64 = 0
        for byte in rest[(rest.count - 8)...] { sequence = sequence << 8 | UInt64(byte) }
        return SpaceCursor(timestamp: Int64(bitPattern: stamp ^ 0x8000_0000_0000_0000), segment: segment, sequence: sequence)
    }
}
