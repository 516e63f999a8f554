import CoordTestKit
import Foundation
@testable import StreamCore
import Testing

func records(_ sequences: ClosedRange<UInt64>, payload: String = "p") -> [Record] {
    sequences.map { Record(sequence: $0, payload: Array("\(payload)\($0)".utf8)) }
}

func append(_ store: any StreamStore, _ space: String, _ segment: String, _ sequences: ClosedRange<UInt64>)
    async throws -> SegmentStatus
{
    try await store.append(AppendRequest(space: space, segment: segment, records: records(sequences)))
}

let allOfSegment = SegmentRange(fromSequence: 1, toSequence: .max, afterTimestamp: .min, throughTimestamp: .max)

/// Store behaviour, run against every store kind.
@Suite struct StoreTests {
    @Test(arguments: StoreKind.allCases)
    func chunksGetContiguousSequencesAndCumulativeStatus(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        let first = try await append(store, "orders", "o-1", 1...5)
        #expect(first.firstSequence == 1 && first.lastSequence == 5)
        let second = try await append(store, "orders", "o-1", 6...7)
        #expect(second.firstSequence == 1 && second.lastSequence == 7)
        #expect(second.firstTimestamp == first.firstTimestamp)
        let entries = try await store.readSegment(space: "orders", segment: "o-1", range: allOfSegment, max: 100)
        #expect(entries.map(\.sequence) == Array(1...7))
        #expect(entries[0].payload == Array("p1".utf8))
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aWrongSequenceIsAPermanentGapErrorAndWritesNothing(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        _ = try await append(store, "s", "g", 1...3)
        await #expect(throws: StreamsError.sequenceGap(expected: 4, got: 5)) { try await append(store, "s", "g", 5...6) }
        await #expect(throws: StreamsError.sequenceGap(expected: 4, got: 3)) { try await append(store, "s", "g", 3...4) }
        #expect(StreamsError.sequenceGap(expected: 4, got: 5).code == .permanent)
        #expect(try await store.status(space: "s", segment: "g")?.lastSequence == 3)
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aChunkSharesOneTRXWhoseNumberIsThePreviousPlusOne(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        _ = try await append(store, "s", "g", 1...3)
        _ = try await append(store, "s", "g", 4...5)
        let entries = try await store.readSegment(space: "s", segment: "g", range: allOfSegment, max: 10)
        #expect(Set(entries[0..<3].map(\.trx.id)).count == 1)
        #expect(entries[0].trx.id != nil && entries[0].trx.id != entries[3].trx.id)
        #expect(entries.map(\.trx.number) == [1, 1, 1, 2, 2])
        #expect(entries.allSatisfy { $0.trx.node == nil })
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func timestampsNeverDecreaseWithinASpaceWhenTheClockGoesBack(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        let t1 = try await append(store, "s", "a", 1...1).lastTimestamp
        fixture.clock.advance(byMs: -60_000)
        let t2 = try await append(store, "s", "b", 1...1).lastTimestamp
        #expect(t2 >= t1)
        fixture.clock.advance(byMs: 120_000)
        let t3 = try await append(store, "s", "a", 2...2).lastTimestamp
        #expect(t3 == t1 + 60_000)
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func namesMatchExactlyWithoutPrefixBleed(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        _ = try await append(store, "a", "b", 1...2)
        _ = try await append(store, "a", "bc", 1...3)
        _ = try await append(store, "ab", "x", 1...1)
        #expect(try await store.segments(space: "a") == ["b", "bc"])
        #expect(try await store.segments(space: "ab") == ["x"])
        #expect(try await store.spaces() == ["a", "ab"])
        #expect(try await store.peek(space: "a", segment: "b")?.sequence == 2)
        #expect(try await store.readSegment(space: "a", segment: "b", range: allOfSegment, max: 10).count == 2)
        #expect(try await store.peek(space: "a", segment: "") == nil)
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func spaceReadsFollowKeyOrderAndResumeStrictlyAfterTheCursor(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        _ = try await append(store, "s", "b", 1...2)
        _ = try await append(store, "s", "a", 1...2)  // same millisecond, sorts before "b"
        fixture.clock.advance(byMs: 5)
        _ = try await append(store, "s", "a", 3...3)
        fixture.clock.advance(byMs: 5)
        let all = try await store.readSpace(space: "s", after: [], afterTimestamp: .min, throughTimestamp: .max, max: 100)
        #expect(all.map { "\($0.segment)\($0.sequence)" } == ["a1", "a2", "b1", "b2", "a3"])
        let rest = try await store.readSpace(space: "s", after: all[1].spaceOffset.bytes, afterTimestamp: .min,
                                       throughTimestamp: .max, max: 100)
        #expect(rest.map { "\($0.segment)\($0.sequence)" } == ["b1", "b2", "a3"])
        let prefixOnly = LexKey([.string("DAT"), .string("SPACES"), .string("s")]).bytes
        #expect(try await store.readSpace(space: "s", after: prefixOnly, afterTimestamp: .min, throughTimestamp: .max, max: 100).count == 5)
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func spaceReadsHideTheCurrentMillisecondSoCursorsNeverSkip(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        let now = fixture.clock.nowMs()
        _ = try await append(store, "s", "b", 1...1)
        // A read in the same millisecond must not show b1: "a" could still commit at this millisecond and
        // would sort before it.
        #expect(try await store.visibleBound(space: "s") == now - 1)
        fixture.clock.advance(byMs: 1)
        #expect(try await store.visibleBound(space: "s") == now)
        // With the clock behind the space, everything is shown and later chunks go strictly after it.
        fixture.clock.advance(byMs: -10_000)
        #expect(try await store.visibleBound(space: "s") == now)
        let later = try await append(store, "s", "a", 1...1)
        #expect(later.lastTimestamp > now)
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func limitsAreEnforcedWithClearErrors(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        let big = Record(sequence: 1, payload: [UInt8](repeating: 1, count: (6 << 20) + 1))
        await #expect(throws: StreamsError.limitExceeded(
            "record 1: payload of 6291457 bytes exceeds the limit of 4659963 (StoreLimits.maxPayloadBytes)")) {
            try await store.append(AppendRequest(space: "s", segment: "g", records: [big]))
        }
        let longName = String(repeating: "n", count: 1_025)
        await #expect(throws: StreamsError.limitExceeded("space name of 1025 bytes exceeds the limit of 1024 (StoreLimits.maxNameBytes)")) {
            try await append(store, longName, "g", 1...1)
        }
        await #expect(throws: StreamsError.invalidProduceArgs) { try await append(store, "", "g", 1...1) }
        await #expect(throws: StreamsError.self) { try await append(store, "$coordd.leases", "g", 1...1) }
        #expect(try await store.spaces().isEmpty, "nothing was written")
        await store.close()
    }

    /// One size at its limit, and what one more byte of it is.
    enum Boundary: String, CaseIterable, Sendable, CustomStringConvertible {
        case payload, metadata, spaceName, segmentName
        var description: String { rawValue }
    }

    // One case at a time: each moves several megabytes.
    @Test(.serialized, arguments: StoreKind.allCases, Boundary.allCases)
    func aRecordAtEachLimitIsStoredAndOneByteMoreIsRefusedNamingTheLimit(_ kind: StoreKind, _ boundary: Boundary) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        let limits = store.limits
        func request(extra: Int) -> AppendRequest {
            switch boundary {
            case .payload:
                return AppendRequest(space: "s", segment: "g", records: [LimitFixtures.record(1, payloadBytes: limits.maxPayloadBytes + extra)])
            case .metadata:
                let metadata = LimitFixtures.metadata(jsonBytes: limits.maxMetadataBytes + extra)
                return AppendRequest(space: "s", segment: "g", records: [LimitFixtures.record(1, payloadBytes: 1, metadata: metadata)])
            case .spaceName:
                return AppendRequest(space: LimitFixtures.name(bytes: limits.maxNameBytes + extra), segment: "g", records: records(1...1))
            case .segmentName:
                return AppendRequest(space: "s", segment: LimitFixtures.name(bytes: limits.maxNameBytes + extra), records: records(1...1))
            }
        }
        let limitName = switch boundary {
        case .payload: "StoreLimits.maxPayloadBytes"
        case .metadata: "StoreLimits.maxMetadataBytes"
        case .spaceName, .segmentName: "StoreLimits.maxNameBytes"
        }
        let over = await #expect(throws: StreamsError.self) { try await store.append(request(extra: 1)) }
        #expect(over?.name == "limit_exceeded" && over?.code == .permanent && over?.message.contains(limitName) == true)
        #expect(try await store.spaces().isEmpty, "nothing was written")
        let atLimit = request(extra: 0)
        #expect(try await store.append(atLimit).lastSequence == 1)
        let stored = try #require(try await store.readSegment(space: atLimit.space, segment: atLimit.segment, range: allOfSegment, max: 2).first)
        #expect(stored.payload == atLimit.records[0].payload && stored.metadata == atLimit.records[0].metadata)
        #expect(stored.encoded().count <= limits.maxEntryBytes, "the entry fits one message")
        await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func segmentRangesApplySequenceAndTimestampBounds(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        let store = try await fixture.open()
        let t0 = try await append(store, "s", "g", 1...3).lastTimestamp
        fixture.clock.advance(byMs: 10)
        let t1 = try await append(store, "s", "g", 4...6).lastTimestamp
        func read(_ from: UInt64, _ to: UInt64, after: Int64 = .min, through: Int64 = .max) async throws -> [UInt64] {
            try await store.readSegment(space: "s", segment: "g",
                                  range: SegmentRange(fromSequence: from, toSequence: to, afterTimestamp: after,
                                                      throughTimestamp: through), max: 100).map(\.sequence)
        }
        #expect(try await read(3, 3) == [3])
        #expect(try await read(2, 100) == [2, 3, 4, 5, 6])
        #expect(try await read(7, 9).isEmpty)
        #expect(try await read(1, .max, after: t0) == [4, 5, 6])
        #expect(try await read(1, .max, through: t0) == [1, 2, 3])
        #expect(try await read(1, .max, after: t0, through: t1) == [4, 5, 6])
        await store.close()
    }
}

/// What only a durable store promises.
@Suite struct FileStoreDurabilityTests {
    @Test func everythingAcknowledgedIsThereAfterReopening() async throws {
        let fixture = try StoreFixture(.file)
        defer { fixture.remove() }
        var store = try await fixture.open()
        _ = try await store.append(AppendRequest(space: "s", segment: "g", records: [
            Record(sequence: 1, payload: Array("one".utf8), metadata: ["k": "v"]),
            Record(sequence: 2, payload: nil),
        ]))
        _ = try await append(store, "s", "h", 1...3)
        let before = try await store.readSpace(space: "s", after: [], afterTimestamp: .min, throughTimestamp: .max, max: 100)
        await store.close()
        await #expect(throws: StreamsError.self) { try await append(store, "s", "g", 3...3) }
        store = try await fixture.open()
        let after = try await store.readSpace(space: "s", after: [], afterTimestamp: .min, throughTimestamp: .max, max: 100)
        #expect(after == before)
        #expect(after[0].metadata == ["k": "v"] && after[1].payload == nil)
        #expect(try await store.stats() == StoreStats(spaces: 1, segments: 2, entries: 5, payloadBytes: 3 + 6))
        _ = try await append(store, "s", "g", 3...4)
        #expect(try await store.peek(space: "s", segment: "g")?.trx.number == 2)
        await store.close()
    }

    @Test func timestampsStayMonotonicAcrossARestartWithTheClockSetBack() async throws {
        let fixture = try StoreFixture(.file)
        defer { fixture.remove() }
        var store = try await fixture.open()
        let before = try await append(store, "s", "g", 1...1).lastTimestamp
        await store.close()
        fixture.clock.advance(byMs: -3_600_000)
        store = try await fixture.open()
        let after = try await append(store, "s", "other", 1...1).lastTimestamp
        #expect(after >= before)
        await store.close()
    }

    @Test func concurrentProducersShareFsyncsThroughGroupCommit() async throws {
        let fixture = try StoreFixture(.file)
        defer { fixture.remove() }
        let store = try await fixture.open()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<8 {
                group.addTask {
                    for i in 1...50 { _ = try await append(store, "s", "p\(producer)", UInt64(i)...UInt64(i)) }
                }
            }
            try await group.waitForAll()
        }
        let metrics = try #require((store as? FileStore)?.logMetrics)
        #expect(metrics.syncs < 400, "400 appends shared their fdatasyncs (\(metrics.syncs))")
        #expect(try await store.stats().entries == 400)
        await store.close()
    }
}

/// Faults in the file store: reads of what is committed never wait for a write, and chunks of one
/// segment in flight together never leave a gap.
@Suite struct FileStoreFaultTests {
    /// Holds the log's writer and queues two chunks of segment `s`/`g`, the second after the first.
    static func queueBehindAHeldWriter(_ store: FileStore, _ first: ClosedRange<UInt64>, _ second: ClosedRange<UInt64>)
        async -> (Task<SegmentStatus, any Error>, Task<SegmentStatus, any Error>)
    {
        store.log.holdWriter()
        let one = Task { try await append(store, "s", "g", first) }
        #expect(await eventually { store.log.queue.pendingCount == 1 })
        let two = Task { try await append(store, "s", "g", second) }
        #expect(await eventually { store.log.queue.pendingCount == 2 })
        return (one, two)
    }

    /// Two chunks of one segment queued behind each other (the second's sequences follow the first's
    /// while it is in flight) are both acknowledged, in order, with one cumulative status each.
    @Test func chunksOfOneSegmentArePipelined() async throws {
        let fixture = try StoreFixture(.file)
        defer { fixture.remove() }
        let store = try #require(try await fixture.open() as? FileStore)
        let (first, second) = await Self.queueBehindAHeldWriter(store, 1...3, 4...6)
        #expect(store.status(space: "s", segment: "g") == nil, "nothing is visible before it is durable")
        store.log.releaseWriter()
        let statuses = (try await second.value, try await first.value)
        #expect(statuses.0.lastSequence == 6 && statuses.1.lastSequence == 3)
        #expect(statuses.0.firstTimestamp == statuses.1.firstTimestamp)
        #expect(try store.readSegment(space: "s", segment: "g", range: allOfSegment, max: 10).map(\.sequence) == Array(1...6))
        await store.close()
    }

    /// The first of two pipelined chunks fails to write: the second, queued behind it, fails too, and
    /// neither is visible nor in the log after a reopen (the log-level test shows that a group in a later
    /// batch fails as well).
    @Test func aFailedChunkFailsTheChunksPipelinedBehindIt() async throws {
        let fixture = try StoreFixture(.file)
        defer { fixture.remove() }
        let store = try #require(try await fixture.open() as? FileStore)
        _ = try await append(store, "s", "g", 1...2)
        let (first, second) = await Self.queueBehindAHeldWriter(store, 3...4, 5...6)
        store.log.faults.arm(.write, errno: EIO)
        store.log.releaseWriter()
        await #expect(throws: StreamsError.self) { try await second.value }
        await #expect(throws: StreamsError.self) { try await first.value }
        #expect(store.status(space: "s", segment: "g")?.lastSequence == 2)
        await store.close()
        let reopened = try await fixture.open()
        #expect(try await reopened.readSegment(space: "s", segment: "g", range: allOfSegment, max: 10).map(\.sequence) == [1, 2])
        await reopened.close()
    }

    @Test func readsOfCommittedEntriesDoNotWaitForAPendingWrite() async throws {
        let fixture = try StoreFixture(.file)
        defer { fixture.remove() }
        let store = try #require(try await fixture.open() as? FileStore)
        _ = try await append(store, "s", "g", 1...3)
        store.log.holdWriter()
        let pending = Task { try await append(store, "s", "g", 4...4) }
        // The writer is held: the append waits in the queue, while reads of what is committed answer at once.
        #expect(await eventually { store.log.queue.pendingCount == 1 })
        #expect(try store.readSegment(space: "s", segment: "g", range: allOfSegment, max: 10).count == 3)
        #expect(try store.peek(space: "s", segment: "g")?.sequence == 3)
        store.log.releaseWriter()
        #expect(try await pending.value.lastSequence == 4)
        await store.close()
    }
}
