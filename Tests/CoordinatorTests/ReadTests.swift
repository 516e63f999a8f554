import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing

/// streamkit v1 §8.2 (reads), over every configuration.
@Suite(.serialized) struct ReadTests {
    @Test(arguments: Configuration.all)
    func consumerOperationsAcrossSpacesAndSegments(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let n = 40
        for space in 0..<5 {
            for segment in 0..<5 {
                try await client.produce(space: "space-\(space)", segment: "seg-\(segment)", records: makeRecords(n))
                harness.wallClock.advance(byMs: 1)
            }
        }
        harness.wallClock.advance(byMs: 1)
        #expect(try await client.spaces() == (0..<5).map { "space-\($0)" })
        #expect(try await client.segments(in: "space-0") == (0..<5).map { "seg-\($0)" })
        #expect(try await client.peek(space: "space-1", segment: "seg-1").sequence == UInt64(n))
        #expect(try await client.consumeSegment(ConsumeSegment(space: "space-0", segment: "seg-0")).collect().count == n)
        let tail = try await client.consumeSegment(ConsumeSegment(space: "space-0", segment: "seg-0", minSequence: 23)).collect()
        #expect(tail.map(\.sequence) == Array(23...UInt64(n)))
        let space = try await client.consumeSpace(ConsumeSpace(space: "space-2")).collect()
        #expect(space.count == 5 * n)
        let offsets = Dictionary(uniqueKeysWithValues: (0..<5).map { ("space-\($0)", [UInt8]()) })
        let all = try await client.consume(Consume(offsets: offsets)).collect()
        #expect(all.count == 25 * n)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.timestamp <= $1.timestamp }, "merged by timestamp")
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func sequenceBoundariesOfConsumeSegment(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        try await client.produce(space: "s", segment: "g", records: makeRecords(10))
        func read(_ min: UInt64, _ max: UInt64) async throws -> [UInt64] {
            try await client.consumeSegment(ConsumeSegment(space: "s", segment: "g", minSequence: min, maxSequence: max))
                .collect().map(\.sequence)
        }
        #expect(try await read(0, 0) == Array(1...10))
        #expect(try await read(3, 3) == [3])
        #expect(try await read(3, 5) == [3, 4, 5])
        #expect(try await read(11, 0).isEmpty)
        #expect(try await read(9, 15) == [9, 10])
        #expect(try await read(5, 2) == [5], "a max below the min is raised to the min")
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func timestampBoundsAreExclusiveBelowAndInclusiveAbove(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let t1 = try await client.produce(space: "s", segment: "g", records: makeRecords(2))[0].lastTimestamp
        harness.wallClock.advance(byMs: 10)
        let t2 = try await client.produce(space: "s", segment: "g", records: makeRecords(2, from: 3))[0].lastTimestamp
        harness.wallClock.advance(byMs: 10)
        let after = try await client.consumeSegment(ConsumeSegment(space: "s", segment: "g", minTimestamp: t1)).collect()
        #expect(after.map(\.sequence) == [3, 4])
        let through = try await client.consumeSegment(ConsumeSegment(space: "s", segment: "g", maxTimestamp: t1)).collect()
        #expect(through.map(\.sequence) == [1, 2])
        let space = try await client.consumeSpace(ConsumeSpace(space: "s", minTimestamp: t1, maxTimestamp: t2)).collect()
        #expect(space.map(\.sequence) == [3, 4])
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func limitRulesOfAllConsumes(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        try await client.produce(space: "a", segment: "g", records: makeRecords(700))
        try await client.produce(space: "b", segment: "g", records: makeRecords(700))
        harness.wallClock.advance(byMs: 1)
        #expect(try await client.consumeSegment(ConsumeSegment(space: "a", segment: "g", limit: 3)).collect().count == 3)
        #expect(try await client.consumeSegment(ConsumeSegment(space: "a", segment: "g", limit: .max)).collect().count == 700)
        #expect(try await client.consumeSegment(ConsumeSegment(space: "a", segment: "g", limit: 600)).collect().count == 600)
        #expect(try await client.consumeSpace(ConsumeSpace(space: "a", limit: 513)).collect().count == 513)
        #expect(try await client.consume(Consume(offsets: ["a": [], "b": []], limit: 1_000)).collect().count == 1_000)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func spaceCursorsResumeStrictlyAfterTheLastEntryRead(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        for segment in ["b", "a", "c"] { try await client.produce(space: "s", segment: segment, records: makeRecords(3)) }
        harness.wallClock.advance(byMs: 1)
        let first = try await client.consumeSpace(ConsumeSpace(space: "s", limit: 4)).collect()
        #expect(first.map { "\($0.segment)\($0.sequence)" } == ["a1", "a2", "a3", "b1"])
        let rest = try await client.consumeSpace(ConsumeSpace(space: "s", offset: first[3].spaceOffset.bytes)).collect()
        #expect(rest.map { "\($0.segment)\($0.sequence)" } == ["b2", "b3", "c1", "c2", "c3"])
        // A multi-space consume resumes from per-space offsets the same way.
        let resumed = try await client.consume(Consume(offsets: ["s": first[3].spaceOffset.bytes])).collect()
        #expect(resumed.count == 5)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aFreshStoreHasNoSpacesAndAMissingSegmentReadsEmpty(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        #expect(try await client.spaces().isEmpty)
        #expect(try await client.segments(in: "nothing").isEmpty)
        #expect(try await client.peek(space: "x", segment: "y") == Entry.empty(space: "x", segment: "y"))
        #expect(try await client.consumeSegment(ConsumeSegment(space: "x", segment: "y")).collect().isEmpty)
        #expect(try await client.consumeSpace(ConsumeSpace(space: "x")).collect().isEmpty)
        #expect(try await client.consume(Consume(offsets: ["x": []])).collect().isEmpty)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func highVolumeConcurrentWritesAreEachReadExactlyOnce(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let counts = [2_500, 3_000, 3_500, 4_000]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, count) in counts.enumerated() {
                group.addTask {
                    var next: UInt64 = 1
                    while next <= UInt64(count) {
                        let batch = min(250, count - Int(next) + 1)
                        try await client.produce(space: "hv", segment: "seg-\(i)", records: makeRecords(batch, from: next))
                        next += UInt64(batch)
                    }
                }
            }
            try await group.waitForAll()
        }
        harness.wallClock.advance(byMs: 1)
        let all = try await client.consume(Consume(offsets: ["hv": []])).collect()
        #expect(all.count == counts.reduce(0, +))
        for (i, count) in counts.enumerated() {
            let sequences = all.filter { $0.segment == "seg-\(i)" }.map(\.sequence)
            #expect(sequences == Array(1...UInt64(count)))
            #expect(try await client.peek(space: "hv", segment: "seg-\(i)").sequence == UInt64(count))
        }
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func stoppingAConsumeEarlyEndsItPromptly(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        try await client.produce(space: "s", segment: "g", records: makeRecords(5_000, size: 1))
        let started = ContinuousClock.now
        let task = Task { () throws(StreamsError) -> Int in
            var seen = 0
            for try await _ in client.consumeSegment(ConsumeSegment(space: "s", segment: "g")) {
                seen += 1
                if seen == 1 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return seen
        }
        let seen: Int
        do {
            seen = try await task.value
        } catch {
            #expect(error as? StreamsError == .cancelled)
            seen = 0
        }
        #expect(seen <= 300)
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(await eventually { harness.manager.openNodes.allSatisfy { $0.openStreamCount == 0 } })
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func getStatusDescribesTheStore(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        try await harness.client.produce(space: "s", segment: "g", records: makeRecords(3, size: 10))
        let status = try await harness.client.status()
        #expect(status.storeID == harness.store)
        #expect(status.storage == configuration.store.rawValue)
        #expect(status.spaces == 1 && status.segments == 1 && status.entries == 3 && status.payloadBytes == 30)
        await harness.shutdown()
    }
}
