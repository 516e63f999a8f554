import CoordTestKit
import Foundation
import Synchronization
import Testing

@testable import StreamCore

/// The shared writer pool: a few threads write every log, a log on one thread at a time, and one log's
/// stalled disk or failed flush leaves the others writing.
struct LogWriterPoolTests {
    /// Opens `count` logs in subdirectories of `directory`.
    static func openLogs(_ directory: String, count: Int) async throws -> [DurableLog] {
        try await onBlockingThread { try (0..<count).map { try LogTests.open(directory + "/log-\($0)").0 } }
    }

    @Test func manyLogsAreWrittenByTheFewThreadsOfThePool() async throws {
        try await LogTests.withScratchDirectory { dir in
            let logs = try await Self.openLogs(dir, count: 200)
            try await withDeadline(seconds: 60) {
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for (index, log) in logs.enumerated() {
                        tasks.addTask {
                            for n in 0..<3 { _ = try await log.append([LogTests.record(index * 10 + n)]) }
                        }
                    }
                    try await tasks.waitForAll()
                }
            }
            #expect(LogWriterPool.shared.threadCount == LogWriterPoolLimits.threads,
                    "200 logs, \(LogWriterPool.shared.threadCount) writer threads")
            for log in logs { await log.close() }
            for index in [0, 99, 199] {
                #expect(try LogTests.replayAll(dir + "/log-\(index)").map(\.record)
                        == (0..<3).map { LogTests.record(index * 10 + $0) })
            }
        }
    }

    @Test func aLogWhoseFlushStallsDoesNotStopTheOthers() async throws {
        try await LogTests.withScratchDirectory { dir in
            let stalled = try LogTests.open(dir + "/stalled").0
            let others = try await Self.openLogs(dir, count: 20)
            stalled.faults.stallSyncs()
            let stalledDone = Atomic<Bool>(false)
            let stalledAppend = Task {
                defer { stalledDone.store(true, ordering: .releasing) }
                return try await stalled.append([LogTests.record(1)])
            }
            #expect(await eventually { stalled.faults.stalledSyncs == 1 }, "the stalled log's writer waits in its flush")
            try await withDeadline(seconds: 30) {
                for (index, log) in others.enumerated() { _ = try await log.append([LogTests.record(index)]) }
            }
            let stalledFinished = stalledDone.load(ordering: .acquiring)
            #expect(!stalledFinished, "the stalled append is still waiting while the others went on")
            stalled.faults.resumeSyncs()
            #expect(try await stalledAppend.value.count == 1)
            await stalled.close()
            for log in others { await log.close() }
        }
    }

    @Test func aLogWhoseFlushFailedDoesNotStopTheOthers() async throws {
        try await LogTests.withScratchDirectory { dir in
            let failing = try LogTests.open(dir + "/failing").0
            let other = try LogTests.open(dir + "/other").0
            failing.faults.arm(.sync, errno: EIO)
            await #expect(throws: StreamsError.self) { try await failing.append([LogTests.record(1)]) }
            await #expect(throws: StreamsError.self) { try await failing.append([LogTests.record(2)]) }
            for n in 0..<5 { _ = try await other.append([LogTests.record(n)]) }
            await failing.close()
            await other.close()
            #expect(try LogTests.replayAll(dir + "/other").count == 5)
        }
    }

    /// Closes wait without holding a thread of the concurrency pool: eight closes (four times the
    /// machine's cores at most) waiting on held writers leave the pool free to serve other logs.
    @Test(.timeLimit(.minutes(1)))
    func closingBusyLogsHoldsNoThreadAndFinishesTheirAppends() async throws {
        try await LogTests.withScratchDirectory { dir in
            let busy = try await Self.openLogs(dir, count: 8)
            let other = try LogTests.open(dir + "/other").0
            for log in busy { log.holdWriter() }
            let appends = busy.map { log in Task { try await log.append([LogTests.record(7)]) } }
            #expect(await eventually { busy.allSatisfy { $0.queue.pendingCount == 1 } })
            let closes = busy.map { log in Task { await log.close() } }
            try await withDeadline(seconds: 30) {
                for n in 0..<5 { _ = try await other.append([LogTests.record(n)]) }
            }
            for log in busy { log.releaseWriter() }
            for close in closes { await close.value }
            for append in appends { #expect(try await append.value.count == 1, "queued before the close: written") }
            await #expect(throws: StreamsError.self) { try await busy[0].append([LogTests.record(8)]) }
            await other.close()
            for index in 0..<8 {
                let replayed = try LogTests.open(dir + "/log-\(index)")
                #expect(replayed.1.map(\.record) == [LogTests.record(7)])
                #expect(replayed.0.recoveryReport.cleanShutdown)
                await replayed.0.close()
            }
        }
    }

    @Test func appendsFailAtOnceWhenNoWriterThreadCanStart() async throws {
        try await LogTests.withScratchDirectory { dir in
            let pool = LogWriterPool(threads: 2) { _, _ throws(IOError) in throw IOError(errno: EAGAIN, call: "pthread_create") }
            let log = try DurableLog.open(directory: dir, limits: .init(), pool: pool) { _, _, _ in }
            let error = await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(1)]) }
            #expect(error?.isTransient == true)
            #expect(error?.message.contains("no log writer thread could be started") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("pthread_create") == true, "\(error?.message ?? "")")
            await log.close()
            #expect(pool.threadCount == 0)
        }
    }
}
