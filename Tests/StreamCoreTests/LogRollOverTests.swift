import Foundation
import Testing

@testable import StreamCore

struct LogRollOverTests {
    static let limits = DurableLogLimits(fileRollBytes: 512)

    @Test func filesRollAtTheLimitAndReadsWorkAcrossThem() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir, limits: Self.limits)
            var appended: [LogTests.Replayed] = []
            for i in 0..<100 {
                let group = (0..<(1 + i % 3)).map { LogTests.record(i * 10 + $0, size: 40) }
                let positions = try await log.append(group)
                appended += zip(positions, group).map { LogTests.Replayed(position: $0, record: $1) }
            }
            for entry in appended { #expect(try log.read(at: entry.position) == entry.record) }
            await log.close()

            let files = Set(appended.map(\.position.file))
            #expect(files.count >= 5)
            #expect(files == Set(1...UInt32(files.count)))
            for number in files {
                let size = try LogTests.contents(LogTests.filePath(dir, number)).count
                #expect(size <= Self.limits.fileRollBytes, "file \(number) is \(size) bytes")
            }
            let (reopened, replayed) = try LogTests.open(dir, limits: Self.limits)
            defer { reopened.close() }
            #expect(replayed == appended)
            #expect(reopened.recoveryReport.files == files.count)
            for entry in appended { #expect(try reopened.read(at: entry.position) == entry.record) }
        }
    }

    @Test func concurrentAppendersRollFilesWithoutLosingOrder() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir, limits: Self.limits)
            let all = try await withThrowingTaskGroup(of: [LogTests.Replayed].self) { tasks in
                for appender in 0..<4 {
                    tasks.addTask {
                        var mine: [LogTests.Replayed] = []
                        for n in 0..<60 {
                            let group = (0..<(1 + n % 2)).map { LogTests.record(appender * 1000 + n * 2 + $0, size: 30) }
                            let positions = try await log.append(group)
                            mine += zip(positions, group).map { LogTests.Replayed(position: $0, record: $1) }
                        }
                        return mine
                    }
                }
                return try await tasks.reduce(into: []) { $0 += $1 }
            }
            await log.close()
            let replayed = try LogTests.replayAll(dir, limits: Self.limits)
            #expect(replayed == all.sorted { $0.position < $1.position })
            #expect(Set(replayed.map(\.position.file)).count >= 5)
        }
    }

    @Test func aGroupLargerThanAFileGetsAFileOfItsOwn() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir, limits: Self.limits)
            let small = try await log.append([LogTests.record(1)])
            let large = try await log.append((0..<4).map { LogTests.record(10 + $0, size: 200) })
            let after = try await log.append([LogTests.record(2)])
            await log.close()
            #expect(small[0].file == 1)
            #expect(Set(large.map(\.file)) == [2])
            #expect(after[0].file == 3)
            #expect(try LogTests.replayAll(dir, limits: Self.limits).count == 6)
        }
    }
}
