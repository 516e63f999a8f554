import Foundation
import Testing

@testable import StreamCore

struct LogGroupCommitTests {
    @Test func concurrentAppendsShareFlushesAndKeepEachAppendersOrder() async throws {
        let appenders = 8
        let appendsEach = 500
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            let positions = try await withThrowingTaskGroup(of: (Int, [LogPosition]).self) { tasks in
                for appender in 0..<appenders {
                    tasks.addTask {
                        var mine: [LogPosition] = []
                        for n in 0..<appendsEach {
                            mine += try await log.append([LogTests.record(appender * 100_000 + n)])
                        }
                        return (appender, mine)
                    }
                }
                var all: [Int: [LogPosition]] = [:]
                for try await (appender, mine) in tasks { all[appender] = mine }
                return all
            }
            let metrics = log.metrics
            await log.close()

            let total = appenders * appendsEach
            #expect(metrics.appends == total)
            #expect(metrics.syncs == metrics.batches)
            // Group commit: with eight appenders waiting on each flush, a flush carries several appends.
            #expect(metrics.syncs * 2 <= total, "\(metrics.syncs) fdatasync calls for \(total) appends")
            print("log group commit: \(total) appends in \(metrics.syncs) fdatasync calls")
            for appender in 0..<appenders {
                let mine = try #require(positions[appender])
                #expect(mine == mine.sorted(), "appender \(appender) out of order")
            }

            let replayed = try LogTests.replayAll(dir)
            #expect(replayed.count == total)
            var owner: [LogRecord: (appender: Int, n: Int)] = [:]
            for appender in 0..<appenders {
                for n in 0..<appendsEach { owner[LogTests.record(appender * 100_000 + n)] = (appender, n) }
            }
            var sequences = [[Int]](repeating: [], count: appenders)
            for entry in replayed {
                let (appender, n) = try #require(owner[entry.record])
                sequences[appender].append(n)
            }
            for appender in 0..<appenders {
                #expect(sequences[appender] == Array(0..<appendsEach), "appender \(appender): log order differs")
            }
        }
    }

    @Test func appendsOfOneTurnShareOneFlush() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            defer { log.close() }
            let before = log.metrics.batches
            // A thread that marks its turns, as an event loop's does, appends ten times in one turn.
            let (pending, batchesInTurn) = try await withCheckedThrowingContinuation {
                (done: CheckedContinuation<([PendingAppend], Int), any Error>) in
                Thread {
                    let end = ThreadTurnEnd()
                    ThreadTurn.mark(end)
                    do {
                        let pending = try (0..<10).map { try log.submit([LogTests.record($0)]) }
                        let batchesInTurn = log.metrics.batches
                        end.run()
                        done.resume(returning: (pending, batchesInTurn))
                    } catch {
                        done.resume(throwing: error)
                    }
                }.start()
            }
            #expect(batchesInTurn == before, "the writer is woken when the turn ends, not by the first append")
            for append in pending { _ = try await append.durable() }
            #expect(log.metrics.batches == before + 1, "one flush for the whole turn")
        }
    }

    @Test func queueBeyondMaxPendingAppendsFailsAtOnce() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir, limits: DurableLogLimits(maxPendingAppends: 2))
            defer { log.close() }
            log.holdWriter()
            let waiting = Task {
                try await withThrowingTaskGroup(of: [LogPosition].self) { tasks in
                    for i in 0..<2 { tasks.addTask { try await log.append([LogTests.record(i)]) } }
                    return try await tasks.reduce(into: 0) { $0 += $1.count }
                }
            }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while log.queue.pendingCount < 2, clock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
            #expect(log.queue.pendingCount == 2)

            // Queued without waiting for durability, so a queue with room cannot leave this test waiting on
            // the held writer.
            let error = #expect(throws: StreamsError.self) { _ = try log.submit([LogTests.record(3)]) }
            #expect(error?.isTransient == true)
            #expect(error?.message.contains("maxPendingAppends") == true)

            log.releaseWriter()
            #expect(try await waiting.value == 2)
            #expect(try await log.append([LogTests.record(4)]).count == 1)
        }
    }
}
