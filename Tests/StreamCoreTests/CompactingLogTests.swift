import CoordTestKit
import Foundation
import Synchronization
import Testing

@testable import StreamCore

/// The compacting log: a checkpoint replaces the events before it, on disk and on recovery, and a crash
/// at any step of taking one leaves either the old checkpoint with its events or the new one.
struct CompactingLogTests {
    static func event(_ n: Int) -> [UInt8] { Array("event-\(n)".utf8) }
    static func state(_ tag: String, _ count: Int) -> [[UInt8]] { (0..<count).map { Array("\(tag)-\($0)".utf8) } }

    static func logFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
    }

    @Test func aCheckpointReplacesTheEventsBeforeItAndTheirFiles() async throws {
        try await LogTests.withScratchDirectory { dir in
            let log = try FileCompactingLog.open(directory: dir)
            #expect(try log.recover().isEmpty)
            for n in 0..<10 { try await log.append([Self.event(n)]).durable() }
            try await log.appendCheckpoint(Self.state("a", 3)).durable()
            try await log.append([Self.event(10), Self.event(11)]).durable()
            #expect(await eventually { log.log.metrics.checkpoints == 1 }, "the checkpoint became the log's start")
            await log.close()
            #expect(try Self.logFiles(dir) == ["00000002.log"], "the events before the checkpoint went with their file")

            let reopened = try FileCompactingLog.open(directory: dir)
            #expect(try reopened.recover() == CompactingLogContents(checkpoint: Self.state("a", 3), events: [Self.event(10), Self.event(11)]))
            #expect(throws: StreamsError.self) { _ = try reopened.recover() }
            #expect(reopened.stats.bytesSinceCheckpoint == 2 * (10 + 8))
            await reopened.close()
        }
    }

    @Test func aCheckpointLargerThanAWriteBatchIsWrittenInGroupsAndReadBackWhole() async throws {
        try await LogTests.withScratchDirectory { dir in
            let limits = DurableLogLimits(maxRecordPayloadBytes: 512, maxBatchBytes: 1_024)
            let log = try FileCompactingLog.open(directory: dir, logLimits: limits)
            let big = (0..<100).map { n in [UInt8](repeating: UInt8(n), count: 200) }
            try await log.append([Self.event(1)]).durable()
            try await log.appendCheckpoint(big).durable()
            #expect(log.log.metrics.batches >= 20, "\(log.log.metrics.batches) batches for 21 KB of checkpoint")
            await log.close()
            let reopened = try FileCompactingLog.open(directory: dir, logLimits: limits)
            #expect(try reopened.recover() == CompactingLogContents(checkpoint: big, events: []))
            await reopened.close()
        }
    }

    /// A checkpoint's write fails partway: the log stops, the incomplete checkpoint is ignored on
    /// recovery and nothing before it is removed.
    @Test func aCheckpointThatDidNotWhollyReachTheLogIsIgnored() async throws {
        try await LogTests.withScratchDirectory { dir in
            let limits = DurableLogLimits(maxRecordPayloadBytes: 512, maxBatchBytes: 1_024)
            let log = try FileCompactingLog.open(directory: dir, logLimits: limits)
            try await log.appendCheckpoint(Self.state("old", 2)).durable()
            try await log.append([Self.event(1)]).durable()
            log.log.holdWriter()
            let big = (0..<20).map { n in [UInt8](repeating: UInt8(n), count: 200) }
            let commit = try log.appendCheckpoint(big)
            log.log.faults.arm(.write, errno: ENOSPC)
            log.log.releaseWriter()
            await #expect(throws: StreamsError.self) { try await commit.durable() }
            await #expect(throws: StreamsError.self) { try await log.append([Self.event(2)]).durable() }
            await log.close()
            let reopened = try FileCompactingLog.open(directory: dir, logLimits: limits)
            #expect(try reopened.recover() == CompactingLogContents(checkpoint: Self.state("old", 2), events: [Self.event(1)]))
            #expect(reopened.log.metrics.checkpoints == 0)
            await reopened.close()
        }
    }

    /// Copies the log directory at every step the writer takes while a checkpoint is written and made the
    /// log's start (the new file, each batch, the base marker, each removal), as a crash there would
    /// leave it. Every copy reads back as the state before the checkpoint or after it, which are the
    /// same state: and after a reopen, it is the checkpoint's once its last group is durable.
    @Test(arguments: [1_024, 1 << 20])
    func aCrashAtAnyStepOfACheckpointLeavesTheSameState(maxBatchBytes: Int) async throws {
        try await LogTests.withScratchDirectory { root in
            let dir = root + "/log"
            let limits = DurableLogLimits(maxRecordPayloadBytes: 512, maxBatchBytes: maxBatchBytes)
            let log = try FileCompactingLog.open(directory: dir, logLimits: limits)
            let before = Self.state("first", 4)
            try await log.appendCheckpoint(before).durable()
            for n in 0..<30 { try await log.append([Self.event(n)]).durable() }

            let snapshots = Mutex<[String]>([])
            log.log.faults.observe { step in
                let copy = root + "/step-\(snapshots.withLock { $0.count })-\(step)"
                try? FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
                try? LogTests.copyDirectory(dir, to: copy)
                snapshots.withLock { $0.append(copy) }
            }
            let after = (0..<12).map { n in [UInt8](repeating: UInt8(n), count: 150) }
            try await log.appendCheckpoint(after).durable()
            #expect(await eventually { log.log.metrics.checkpoints == 1 }, "the second checkpoint moved the log's start")
            log.log.faults.observe(nil)
            await log.close()
            let finalFiles = try Self.logFiles(dir)

            let old = CompactingLogContents(checkpoint: before, events: (0..<30).map(Self.event))
            let new = CompactingLogContents(checkpoint: after, events: [])
            let copies = snapshots.withLock { $0 }
            #expect(copies.count >= 4, "a new file, a batch, the base marker, a removal: \(copies)")
            var sawNew = false
            for copy in copies {
                let reopened = try FileCompactingLog.open(directory: copy, logLimits: limits)
                let contents = try reopened.recover()
                #expect(contents == old || contents == new, "\(copy)")
                sawNew = sawNew || contents == new
                if contents == new {
                    #expect(await eventually { (try? Self.logFiles(copy)) == finalFiles },
                            "reopening finishes the checkpoint's removals: \(copy)")
                }
                try await reopened.append([Self.event(99)]).durable()
                await reopened.close()
                let again = try FileCompactingLog.open(directory: copy, logLimits: limits)
                let expected = contents == old ? old.events + [Self.event(99)] : [Self.event(99)]
                #expect(try again.recover() == CompactingLogContents(checkpoint: contents.checkpoint, events: expected), "\(copy)")
                await again.close()
            }
            #expect(sawNew)
            print("checkpoint crash points: \(copies.count) (\(copies.map { $0.split(separator: "-").last ?? "" }.joined(separator: " ")))")
        }
    }

    @Test func aCheckpointIsDueOnceTheEventsOutgrowItAndTheFloor() throws {
        let limits = CompactingLogLimits(minimumBytes: 1_000, growthFactor: 4)
        var schedule = CheckpointSchedule(limits: limits)
        schedule.appended(1_000)
        #expect(!schedule.isDue, "at the floor")
        schedule.appended(1)
        #expect(schedule.isDue)
        schedule.checkpointed(500)
        #expect(!schedule.isDue && schedule.stats.checkpoints == 1)
        schedule.appended(2_000)
        #expect(!schedule.isDue, "4 × the 500-byte checkpoint")
        schedule.appended(1)
        #expect(schedule.isDue)
    }

    @Test func theMemoryLogKeepsOnlyTheLastCheckpointAndLaterEventsForAnyReader() async throws {
        let log = MemoryCompactingLog(limits: CompactingLogLimits(minimumBytes: 30))
        try await log.append([Self.event(1)]).durable()
        #expect(try log.recover() == CompactingLogContents(events: [Self.event(1)]))
        try await log.append([Self.event(2), Self.event(3)]).durable()
        #expect(log.wantsCheckpoint)
        try await log.appendCheckpoint(Self.state("s", 2)).durable()
        try await log.append([Self.event(4)]).durable()
        #expect(try log.recover() == CompactingLogContents(checkpoint: Self.state("s", 2), events: [Self.event(4)]))
        #expect(try log.recover() == log.recover(), "read as often as asked")
        await log.close()
        #expect(throws: StreamsError.self) { _ = try log.append([Self.event(5)]) }
    }

    /// `whenDurable` reports each kind of commit once, without anyone awaiting it: the file log's group
    /// when its writer has made it durable (or failed it), a backend's wait when it returns, an immediate one at once.
    @Test func whenDurableReportsEveryKindOfCommitOnce() async throws {
        let reports = Mutex<[String]>([])
        func record(_ tag: String) -> @Sendable (StreamsError?) -> Void {
            { error in reports.withLock { $0.append("\(tag):\(error?.name ?? "ok")") } }
        }
        LogCommit.immediate.whenDurable(record("immediate"))
        #expect(reports.withLock { $0 } == ["immediate:ok"], "at once")
        LogCommit(waitingFor: {}).whenDurable(record("waited"))
        LogCommit(waitingFor: { () throws(StreamsError) in throw .storage("database gone") }).whenDurable(record("refused"))
        try await LogTests.withScratchDirectory { dir in
            let log = try FileCompactingLog.open(directory: dir)
            _ = try log.recover()
            try log.append([Self.event(1)]).whenDurable(record("file"))
            #expect(await eventually { reports.withLock { $0.contains("file:ok") } })
            log.log.faults.arm(.sync, errno: EIO)
            try log.append([Self.event(2)]).whenDurable(record("failed"))
            #expect(await eventually { reports.withLock { $0.contains("failed:storage_error") } })
            await log.close()
        }
        #expect(await eventually { reports.withLock { $0.count } == 5 })
        #expect(Set(reports.withLock { $0 }) == ["immediate:ok", "waited:ok", "refused:storage_error", "file:ok", "failed:storage_error"])
    }
}
