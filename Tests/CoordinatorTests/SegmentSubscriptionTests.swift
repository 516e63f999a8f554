import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// Reads statuses from a subscription stream with a deadline per status.
struct StatusReader {
    let stream: any BidiStream

    func next(seconds: Double = 10) async throws -> SegmentStatus? {
        let stream = self.stream
        return try await withDeadline(seconds: seconds) { try await stream.receive(SegmentStatus.self) }
    }
}

/// streamkit v1 §8.3 and the subscription items of §8.6, over every configuration.
@Suite struct SegmentSubscriptionTests {
    @Test(arguments: Configuration.all)
    func anExactSubscriptionReportsProducedRecordsAndNothingAfterItEnds(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let stream = try await client.open(SubscribeToSegmentStatus(space: "s", segment: "g"))
        let reader = StatusReader(stream: stream)
        try await client.produce(space: "s", segment: "other", records: makeRecords(2))
        try await client.produce(space: "s", segment: "g", records: makeRecords(3))
        let status = try #require(try await reader.next())
        #expect(status.segment == "g" && status.lastSequence >= 3)
        stream.close(error: nil)
        #expect(await eventually { harness.manager.openNodes.allSatisfy { $0.openStreamCount == 0 } })
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aWildcardSubscriptionReportsEverySegmentOfTheSpace(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let reader = StatusReader(stream: try await client.open(SubscribeToSegmentStatus(space: "s", segment: "*")))
        try await client.produce(space: "s", segment: "a", records: makeRecords(1))
        try await client.produce(space: "other", segment: "a", records: makeRecords(1))
        try await client.produce(space: "s", segment: "b", records: makeRecords(2))
        let first = try #require(try await reader.next())
        let second = try #require(try await reader.next())
        #expect(Set([first.segment, second.segment]) == ["a", "b"])
        #expect(first.space == "s" && second.space == "s")
        reader.stream.close(error: nil)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aSubscriptionStartsWithASnapshotSortedBySegment(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        for segment in ["c", "a", "b"] { try await client.produce(space: "s", segment: segment, records: makeRecords(2)) }
        let wildcard = StatusReader(stream: try await client.open(SubscribeToSegmentStatus(space: "s", segment: "*")))
        var names: [String] = []
        for _ in 0..<3 { names.append(try #require(try await wildcard.next()).segment) }
        #expect(names == ["a", "b", "c"])
        let exact = StatusReader(stream: try await client.open(SubscribeToSegmentStatus(space: "s", segment: "b")))
        let snapshot = try #require(try await exact.next())
        #expect(snapshot.segment == "b" && snapshot.firstSequence == 1 && snapshot.lastSequence == 2 && snapshot.lastTimestamp > 0)
        // Live updates follow, never older than the snapshot.
        try await client.produce(space: "s", segment: "b", records: makeRecords(1, from: 3))
        #expect(try await exact.next()?.lastSequence == 3)
        wildcard.stream.close(error: nil)
        exact.stream.close(error: nil)
        await harness.shutdown()
    }

    @Test(arguments: [(Int64(0), Int64(0)), (1, 1), (3_600, 300), (-5, 0)])
    func heartbeatIntervalsAreClamped(_ requested: Int64, _ expected: Int64) async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let node = try await harness.manager.node(for: harness.store)
        #expect(node.heartbeatPeriodSeconds(requested) == expected)
        await harness.shutdown()
    }

    @Test func aSubscriberThatNeverReadsIsDroppedWhenItsQueueOverflowsWithoutSlowingProducers() async throws {
        var node = NodeConfiguration()
        node.limits.subscriptionQueueSegments = 4
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess), node: node)
        let client = harness.client
        let stalled = try await client.open(SubscribeToSegmentStatus(space: "s", segment: "*"))
        // Fill the stream's own buffer and the subscriber's queue with distinct segments, never reading.
        for i in 0..<200 { try await client.produce(space: "s", segment: "seg-\(i)", records: makeRecords(1)) }
        var sawOverload = false
        for _ in 0..<300 {
            do {
                guard try await withDeadline(seconds: 5, { try await stalled.receive() }) != nil else { break }
            } catch let error as StreamsError {
                #expect(error == .subscriptionOverloaded)
                sawOverload = true
                break
            }
        }
        #expect(sawOverload)
        await harness.shutdown()
    }

    @Test func aSlowSubscriberGetsOnlyTheNewestStatusOfASegment() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let client = harness.client
        let reader = StatusReader(stream: try await client.open(SubscribeToSegmentStatus(space: "s", segment: "g")))
        try await client.produce(space: "s", segment: "g", records: makeRecords(1))
        #expect(try await reader.next()?.lastSequence == 1)
        for i in 2...150 { try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: UInt64(i))) }
        var last: UInt64 = 1
        var received = 0
        while last < 150 {
            let status = try #require(try await reader.next())
            #expect(status.lastSequence > last, "never older than what was already sent")
            last = status.lastSequence
            received += 1
        }
        #expect(received <= 149)
        reader.stream.close(error: nil)
        await harness.shutdown()
    }
}
