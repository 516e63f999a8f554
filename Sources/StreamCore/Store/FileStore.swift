import Synchronization

/// The durable streaming store: the in-memory index over a ``DurableLog`` in one directory, and the
/// lease log in its `leases` subdirectory.
///
/// A chunk is acknowledged only after its log group is on stable storage (group commit batches the
/// `fdatasync`s of concurrent producers). Entries keep only their log position in memory; payloads are
/// read back with `pread` when consumed, so reads never wait for writes. Reopening replays the log's
/// chunk headers and entry positions to rebuild the index. See `docs/storage.md`.
public final class FileStore: StreamStore {
    public let storageKind = "file"
    /// The lease log's directory, inside the store's.
    public static let leaseLogDirectory = "leases"
    private let index: StoreIndex
    let log: DurableLog
    private let leases: FileCompactingLog
    private let clock: any WallClock
    private let closed = Atomic<Bool>(false)

    /// Opens (creating if needed) the store in `directory` and rebuilds its index from the log.
    ///
    /// Lease events of an older store (the system space ``SystemSpace/leases`` of the main log) are
    /// indexed only until its lease log holds anything: from then on the lease log has them (the lease
    /// service carries them over on its first open), and the old events are checked but cost no memory.
    public init(directory: String, limits: StoreLimits = StoreLimits(), logLimits: DurableLogLimits = DurableLogLimits(),
                leaseLogLimits: CompactingLogLimits = CompactingLogLimits(),
                clock: any WallClock = SystemWallClock()) throws(StreamsError) {
        do {
            try Posix.makeDirectory(directory)
        } catch {
            throw .storage("cannot create store directory \(directory): \(error)", cause: error)
        }
        let leases = try FileCompactingLog.open(
            directory: directory + "/" + Self.leaseLogDirectory, limits: leaseLogLimits, logLimits: logLimits)
        let skipsOldLeaseEvents = leases.openedWithRecords
        let index = StoreIndex(limits: limits)
        var pending: RestoredChunk?
        var expected = 0
        func flush() throws(StreamsError) {
            if let chunk = pending {
                guard chunk.positions.count == expected else {
                    throw .storage("log is inconsistent: chunk of \(chunk.space)/\(chunk.segment) at sequence "
                                   + "\(chunk.firstSequence) has \(chunk.positions.count) of \(expected) entries")
                }
                if !(skipsOldLeaseEvents && chunk.space == SystemSpace.leases) { try index.restore(chunk) }
            }
            pending = nil
        }
        do {
            log = try DurableLog.open(directory: directory, limits: logLimits) { position, kind, payload in
                switch kind {
                case EntryRecords.chunkKind:
                    try flush()
                    let (chunk, count) = try EntryRecords.decodeChunkHeader(payload)
                    pending = chunk
                    expected = count
                case EntryRecords.entryKind:
                    guard pending != nil else { throw StreamsError.storage("log is inconsistent: entry at \(position) has no chunk") }
                    pending?.positions.append(position)
                    pending?.payloadBytes += try EntryRecords.payloadSize(payload)
                default:
                    throw StreamsError.storage("unknown store record kind \(kind) at \(position)")
                }
            }
            try flush()
        } catch let error as StreamsError {
            throw error
        } catch {
            throw .storage("cannot open store in \(directory): \(error)", cause: error as? IOError)
        }
        self.index = index
        self.leases = leases
        self.clock = clock
    }

    public var limits: StoreLimits { index.limits }

    /// What opening the log found and repaired.
    public var recoveryReport: LogRecoveryReport { log.recoveryReport }

    /// Bytes in the files of the store's logs, the lease log included: its size on disk (committed data
    /// and the zeros reserved after it), kept up to date as the logs write, roll and drop files (so
    /// reading it costs no system call).
    public var logFileBytes: UInt64 { log.diskBytes + leases.log.diskBytes }

    /// Work counters of the store's logs (appends, batches, syncs): the entries' log and the lease log
    /// together.
    public var logMetrics: DurableLogMetrics { log.metrics.adding(leases.log.metrics) }

    public var storageMetrics: StoreStorageMetrics {
        StoreStorageMetrics(bytes: logFileBytes, syncLatency: logMetrics.syncLatency)
    }

    /// Chunks of one segment may be in flight together (pipelined): each takes its sequences and its place
    /// in the log under the index lock, and is made visible (or withdrawn) in that order once the log has
    /// its outcome, before it is answered. A write that fails stops the log, failing every chunk queued
    /// after it, so a chunk can never be durable after an earlier one of its segment failed.
    public func append(_ request: AppendRequest) async throws(StreamsError) -> SegmentStatus {
        guard !closed.load(ordering: .acquiring) else { throw .shuttingDown.with(message: "store is closed") }
        var submitted: PendingAppend?
        let chunk = try index.prepare(request, nowMs: clock.nowMs()) { chunk throws(StreamsError) in
            var records = [EntryRecords.chunkHeader(chunk)]
            records.reserveCapacity(chunk.entries.count + 1)
            for entry in chunk.entries { records.append(EntryRecords.entry(entry)) }
            let pending = try log.submit(records)
            submitted = pending
            // The first record is the chunk's header; the entries' positions follow.
            return { pending.outcome.map { $0.map { Array($0.dropFirst()) } } }
        }
        // `prepare` returned, so `submit` ran and queued the chunk.
        let outcome = await submitted!.settled()
        index.settle(chunk)
        _ = try outcome.get()
        return chunk.status
    }

    public func peek(space: String, segment: String) throws(StreamsError) -> Entry? {
        guard let head = index.peek(space: space, segment: segment) else { return nil }
        return try resolve([head])[0]
    }

    public func status(space: String, segment: String) -> SegmentStatus? {
        index.status(space: space, segment: segment)
    }

    public func statuses(space: String) -> [SegmentStatus] {
        index.statuses(space: space)
    }

    public func readSegment(space: String, segment: String, range: SegmentRange, max: Int) throws(StreamsError) -> [Entry] {
        try resolve(index.readSegment(space: space, segment: segment, range: range, max: max))
    }

    public func readSpace(space: String, after: [UInt8], afterTimestamp: Int64, throughTimestamp: Int64, max: Int)
        throws(StreamsError) -> [Entry]
    {
        try resolve(index.readSpace(space: space, after: after, afterTimestamp: afterTimestamp, throughTimestamp: throughTimestamp, max: max))
    }

    public func visibleBound(space: String) -> Int64 {
        index.visibleBound(space: space, nowMs: clock.nowMs())
    }

    public func spaces() -> [String] { index.spaces() }

    public func segments(space: String) -> [String] { index.segments(space: space) }

    public func stats() -> StoreStats { index.stats() }

    public var leaseLog: any CompactingLog { leases }

    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await log.close()
        await leases.close()
    }

    /// Completes entries from their log records (outside the index lock), read together: a page's entries
    /// were mostly written together, and lie close to each other in the log.
    private func resolve(_ page: [IndexedEntry]) throws(StreamsError) -> [Entry] {
        let positions = page.compactMap(\.position)
        var records = try log.read(at: positions).makeIterator()
        var entries: [Entry] = []
        entries.reserveCapacity(page.count)
        for indexed in page {
            var entry = indexed.entry
            if let position = indexed.position, let record = records.next() {
                guard record.kind == EntryRecords.entryKind else {
                    throw .storage("log record at \(position) is not an entry")
                }
                (entry.payload, entry.metadata) = try EntryRecords.decodeEntry(record.payload)
            }
            entries.append(entry)
        }
        return entries
    }
}
