import CoordTestKit
import Glibc
@testable import PostgresKit
@testable import StreamCore
import Testing

/// The store contract (``StreamStore``): what every backend promises, run against each kind in
/// ``StoreKind``. A new backend joins by becoming one more case of it, with its fixture's `open`,
/// `reopen` (`CoordTestKit`) and `failWrites` (below). `StoreTests` holds the rest of the contract (sequence and TRX
/// rules, exact names, space order and visible bounds, record limits).
@Suite struct StoreContractTests {
    /// Concurrent chunks claiming the same sequences: exactly one wins, the others fail with
    /// `sequence_gap`, and the segment holds the winner's records once.
    @Test(arguments: StoreKind.allCases)
    func oneWinnerPerSequence(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        let outcomes = await withTaskGroup(of: Result<SegmentStatus, StreamsError>.self) { group in
            for producer in 0..<8 {
                group.addTask {
                    do throws(StreamsError) {
                        return .success(try await store.append(AppendRequest(
                            space: "s", segment: "g", records: records(1...3, payload: "w\(producer)-"))))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1 && winners.first?.lastSequence == 3)
        for case .failure(let error) in outcomes { #expect(error.name == "sequence_gap" && error.code == .permanent) }
        let stored = try await store.readSegment(space: "s", segment: "g", range: allOfSegment, max: 10)
        #expect(stored.map(\.sequence) == [1, 2, 3])
        #expect(Set(stored.map { String(decoding: $0.payload ?? [], as: UTF8.self).prefix(3) }).count == 1, "one writer's records")
        await store.close()
    }

    /// Chunks of one segment in flight together (store-assigned sequences): contiguous sequences, one TRX
    /// number per chunk, each acknowledged chunk visible to the reader that was answered, and each status
    /// cumulative with the segment's first timestamp.
    @Test(arguments: StoreKind.allCases)
    func concurrentChunksOfOneSegmentAreContiguousAndVisibleOnceAcknowledged(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        let chunks = 16
        let statuses = try await withThrowingTaskGroup(of: SegmentStatus.self) { group in
            for chunk in 0..<chunks {
                group.addTask {
                    let status = try await store.append(AppendRequest(
                        space: "s", segment: "g", records: records(1...4, payload: "c\(chunk)-"), sequencing: .assigned))
                    // Acknowledged = visible: this chunk's last entry can be read at once.
                    let seen = try await store.readSegment(
                        space: "s", segment: "g",
                        range: SegmentRange(fromSequence: status.lastSequence, toSequence: status.lastSequence,
                                            afterTimestamp: .min, throughTimestamp: .max), max: 1)
                    #expect(seen.count == 1, "chunk ending at \(status.lastSequence) is visible once acknowledged")
                    return status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.map(\.lastSequence).sorted() == (1...chunks).map { UInt64($0 * 4) })
        let entries = try await store.readSegment(space: "s", segment: "g", range: allOfSegment, max: 1_000)
        #expect(entries.map(\.sequence) == Array(1...UInt64(chunks * 4)))
        #expect(entries.map(\.trx.number) == (1...UInt64(chunks)).flatMap { Array(repeating: $0, count: 4) })
        #expect(Set(statuses.map(\.firstTimestamp)) == [entries[0].timestamp])
        #expect(try await store.status(space: "s", segment: "g")?.lastSequence == UInt64(chunks * 4))
        await store.close()
    }

    /// GetStatus and listings: counts of user spaces only, names in byte order, statuses per segment.
    @Test(arguments: StoreKind.allCases)
    func statusCountsWhatTheStoreHolds(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        #expect(try await store.stats() == StoreStats())
        _ = try await append(store, "b", "y", 1...2)
        _ = try await append(store, "a", "x", 1...3)
        _ = try await append(store, "a", "w", 1...1)
        _ = try await store.append(AppendRequest(
            space: SystemSpace.prefix + "internal", segment: "z", records: records(1...1), sequencing: .assigned))
        let stats = try await store.stats()
        #expect(stats.spaces == 2 && stats.segments == 3 && stats.entries == 6)
        #expect(stats.payloadBytes == [2, 3, 1].reduce(0) { total, count in total + (1...count).reduce(0) { $0 + "p\($1)".utf8.count } })
        #expect(try await store.spaces() == ["a", "b"])
        #expect(try await store.statuses(space: "a").map(\.segment) == ["w", "x"])
        #expect(try await store.statuses(space: "a").map(\.lastSequence) == [1, 3])
        #expect(try await store.status(space: "a", segment: "missing") == nil)
        #expect(try await store.peek(space: "a", segment: "missing") == nil)
        await store.close()
    }

    /// A failed write makes the store read-only: the failing chunk and every later one fail with a
    /// transient `storage_error`, nothing of them is visible, and reads of what was committed go on. A
    /// durable store reopened has everything acknowledged and takes writes again.
    @Test(arguments: StoreKind.allCases)
    func aFailedWriteMakesTheStoreReadOnlyAndReadsGoOn(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        _ = try await append(store, "s", "g", 1...3)
        fixture.failWrites(of: store)
        for attempt in [4...5, 4...5, 1...1] as [ClosedRange<UInt64>] {
            do {
                _ = try await append(store, "s", attempt == 1...1 ? "other" : "g", attempt)
                Issue.record("a write after the failure must fail")
            } catch let error as StreamsError {
                #expect(error.code == .transient && error.name == "storage_error", "\(error)")
            }
        }
        #expect(try await store.readSegment(space: "s", segment: "g", range: allOfSegment, max: 10).map(\.sequence) == [1, 2, 3])
        #expect(try await store.status(space: "s", segment: "g")?.lastSequence == 3, "nothing of the failed chunk is visible")
        #expect(try await store.peek(space: "s", segment: "g")?.sequence == 3)
        // The failed chunk no longer holds space reads back once its millisecond has passed.
        fixture.clock.advance(byMs: 10)
        #expect(try await store.readSpace(space: "s", after: [], afterTimestamp: .min,
                                          throughTimestamp: try await store.visibleBound(space: "s"), max: 10).count == 3)
        await store.close()
        guard kind.isDurable else { return }
        let reopened = try await fixture.open()
        #expect(try await reopened.readSegment(space: "s", segment: "g", range: allOfSegment, max: 10).map(\.sequence) == [1, 2, 3])
        _ = try await append(reopened, "s", "g", 4...5)
        #expect(try await reopened.status(space: "s", segment: "g")?.lastSequence == 5)
        await reopened.close()
    }

    /// The lease log hands back the last checkpoint and the events after it, in append order; a durable
    /// one does so after a reopen, so a state rebuilt from it (fences included) never goes back.
    @Test(arguments: StoreKind.allCases)
    func theLeaseLogReplaysTheLastCheckpointAndTheEventsAfterIt(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        func event(_ n: Int) -> [UInt8] { Array("fence-\(n)".utf8) }
        var store = try await fixture.open()
        #expect(try await store.leaseLog.recover().isEmpty)
        for n in 1...3 { try await store.leaseLog.append([event(n)]).durable() }
        try await store.leaseLog.appendCheckpoint([Array("state-3".utf8), Array("highest-3".utf8)]).durable()
        // Events queued together keep their order, and are durable once the last one is.
        let commits = try (4...9).map { n throws(StreamsError) in try store.leaseLog.append([event(n)]) }
        for commit in commits.reversed() { try await commit.durable() }
        store = try await fixture.reopen(store)
        let contents = try await store.leaseLog.recover()
        #expect(contents.checkpoint == [Array("state-3".utf8), Array("highest-3".utf8)])
        #expect(contents.events == (4...9).map(event))
        await store.close()
    }
}

extension StoreFixture {
    /// Makes the store's next write fail the way its storage fails (a full disk for a file store).
    func failWrites(of store: any StreamStore) {
        switch kind {
        case .memory:
            (store as? MemoryStore)?.failWrites(with: .storage("injected write failure"))
        case .file:
            (store as? FileStore)?.log.faults.arm(.write, errno: ENOSPC)
        case .postgres:
            (store as? PostgresStore)?.failNextWrite()
        }
    }
}
