import Foundation
import Testing

@testable import StreamCore

struct LogFaultTests {
    @Test func failedWriteFailsThatAppendAndStopsTheLogUntilReopened() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            let first = try await log.append([LogTests.record(1)])
            _ = try await log.append([LogTests.record(2)])

            log.faults.arm(.write, errno: ENOSPC)
            let error = await #expect(throws: StreamsError.self) {
                try await log.append([LogTests.record(3, size: 400), LogTests.record(4, size: 400)])
            }
            #expect(error?.isTransient == true)
            #expect(error?.name == "storage_error")
            #expect(error?.message.contains("No space left on device") == true, "\(error?.message ?? "")")

            // No fault is armed any more, yet writing stays off: a later group must never be durable
            // after an earlier one failed.
            let later = await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(5)]) }
            #expect(later?.isTransient == true && later?.message.contains("read-only") == true, "\(later?.message ?? "")")
            #expect(try log.read(at: first[0]) == LogTests.record(1))
            await log.close()

            // The half-written batch has no commit frame: the reopen cuts it off and writes again.
            let (reopened, replayed) = try LogTests.open(dir)
            #expect(replayed.map(\.record) == [LogTests.record(1), LogTests.record(2)])
            #expect(reopened.recoveryReport.truncation != nil)
            _ = try await reopened.append([LogTests.record(6)])
            await reopened.close()
            #expect(try LogTests.replayAll(dir).map(\.record) == [LogTests.record(1), LogTests.record(2), LogTests.record(6)])
        }
    }

    @Test func failedFlushMakesTheLogReadOnly() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            let first = try await log.append([LogTests.record(1)])

            log.faults.arm(.sync, errno: EIO)
            let failed = await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(2)]) }
            #expect(failed?.isTransient == true)
            #expect(failed?.message.contains("Input/output error") == true, "\(failed?.message ?? "")")

            // No fault is armed any more, yet writing stays off: the earlier flush may have lost data.
            let later = await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(3)]) }
            #expect(later?.isTransient == true)
            #expect(later?.message.contains("read-only") == true, "\(later?.message ?? "")")
            #expect(try log.read(at: first[0]) == LogTests.record(1))
            await log.close()

            // The unacknowledged group may or may not have reached the disk, but only whole.
            let (reopened, replayed) = try LogTests.open(dir)
            defer { reopened.close() }
            let records = replayed.map(\.record)
            #expect(records == [LogTests.record(1)] || records == [LogTests.record(1), LogTests.record(2)])
            #expect(!reopened.recoveryReport.cleanShutdown)
            _ = try await reopened.append([LogTests.record(4)])
        }
    }

    @Test func failedWriteOfANewFileHeaderStopsTheLog() async throws {
        try await LogTests.withScratchDirectory { dir in
            let limits = DurableLogLimits(fileRollBytes: 128)
            let (log, _) = try LogTests.open(dir, limits: limits)
            _ = try await log.append([LogTests.record(1, size: 60)])
            log.faults.arm(.write, errno: ENOSPC)
            // Does not fit in file 1: the roll to file 2 fails while writing its header.
            let error = await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(2, size: 60)]) }
            #expect(error?.message.contains("00000002.log") == true, "\(error?.message ?? "")")
            #expect(!FileManager.default.fileExists(atPath: LogTests.filePath(dir, 2)))
            await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(3, size: 60)]) }
            await log.close()
            let (reopened, replayed) = try LogTests.open(dir, limits: limits)
            #expect(replayed.map(\.record) == [LogTests.record(1, size: 60)])
            let later = try await reopened.append([LogTests.record(4, size: 60)])
            #expect(later[0].file == 2)
            await reopened.close()
        }
    }

    /// Groups queued behind a batch whose write fails are never written, even in a later batch: the
    /// file store pipelines chunks of one segment, and none may become durable after a gap.
    @Test func failedWriteFailsItsBatchAndEveryGroupQueuedAfterIt() async throws {
        try await LogTests.withScratchDirectory { dir in
            // Two 400-byte groups fit in a batch: the four queued go out as two batches.
            let limits = DurableLogLimits(maxRecordPayloadBytes: 512, maxBatchBytes: 1_024)
            let (log, _) = try LogTests.open(dir, limits: limits)
            log.holdWriter()
            let results = Task {
                await withTaskGroup(of: Bool.self) { tasks in
                    for i in 0..<4 { tasks.addTask { (try? await log.append([LogTests.record(i, size: 400)])) != nil } }
                    return await tasks.reduce(into: [Bool]()) { $0.append($1) }
                }
            }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while log.queue.pendingCount < 4, clock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
            #expect(log.queue.pendingCount == 4)
            log.faults.arm(.write, errno: EIO)
            log.releaseWriter()
            // Only the first batch's write failed (the fault fires once), yet the second batch is failed too.
            #expect(await results.value == [false, false, false, false])
            #expect(log.metrics.batches == 0)
            await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(9)]) }
            await log.close()
            #expect(try LogTests.replayAll(dir, limits: limits).isEmpty)
        }
    }
}
