import Foundation
import Testing

@testable import StreamCore

struct LogAppendReplayTests {
    @Test func reopenReplaysExactlyWhatWasAppendedInOrder() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, initial) = try LogTests.open(dir)
            #expect(initial.isEmpty)
            var appended: [LogTests.Replayed] = []
            for i in 0..<50 {
                let group = (0..<(1 + i % 4)).map { LogTests.record(i * 10 + $0, size: (i * 37) % 300, kind: UInt8(i % 5)) }
                let positions = try await log.append(group)
                #expect(positions.count == group.count)
                appended += zip(positions, group).map { LogTests.Replayed(position: $0, record: $1) }
            }
            await log.close()

            let replayed = try LogTests.replayAll(dir)
            #expect(replayed == appended)
            #expect(appended.map(\.position) == appended.map(\.position).sorted())
        }
    }

    @Test func readReturnsEachAppendedRecord() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            defer { log.close() }
            let records = [LogTests.record(1, size: 0), LogTests.record(2, size: 5000), LogTests.record(3, size: 4086)]
            let positions = try await log.append(records)
            for (position, record) in zip(positions, records) {
                #expect(try log.read(at: position) == record)
            }
        }
    }

    @Test func reopenedLogAppendsAfterWhatItReplayed() async throws {
        try await LogTests.withScratchDirectory { dir in
            for round in 0..<3 {
                let (log, replayed) = try LogTests.open(dir)
                #expect(replayed.map(\.record) == (0..<round).map { LogTests.record($0) })
                let positions = try await log.append([LogTests.record(round)])
                #expect(positions.first! > (replayed.last?.position ?? LogPosition(file: 0, offset: 0)))
                #expect(try log.read(at: positions[0]) == LogTests.record(round))
                await log.close()
            }
        }
    }

    @Test func cleanCloseIsReportedAndACrashIsNot() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (first, _) = try LogTests.open(dir)
            #expect(!first.recoveryReport.cleanShutdown)
            _ = try await first.append([LogTests.record(1)])
            await first.close()

            let (second, _) = try LogTests.open(dir)
            #expect(second.recoveryReport.cleanShutdown)
            #expect(second.recoveryReport.records == 1)
            #expect(second.recoveryReport.truncation == nil)
            #expect(!FileManager.default.fileExists(atPath: dir + "/" + LogFormat.cleanMarkerName))
            _ = try await second.append([LogTests.record(2)])
            // Not closed: as after a crash, the next open must not claim a clean shutdown.
            let copy = dir + "-crashed"
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            try LogTests.copyDirectory(dir, to: copy)
            await second.close()

            let (third, replayed) = try LogTests.open(copy)
            defer { third.close() }
            #expect(!third.recoveryReport.cleanShutdown)
            #expect(replayed.map(\.record) == [LogTests.record(1), LogTests.record(2)])
        }
    }

    @Test func emptyAppendWritesNothing() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            defer { log.close() }
            #expect(try await log.append([]).isEmpty)
            #expect(log.metrics.batches == 0)
        }
    }

    @Test func oversizedRecordOrGroupIsRejectedWithoutWriting() async throws {
        try await LogTests.withScratchDirectory { dir in
            let limits = DurableLogLimits(maxRecordPayloadBytes: 100, maxBatchBytes: 300)
            let (log, _) = try LogTests.open(dir, limits: limits)
            defer { log.close() }
            let tooLarge = await #expect(throws: StreamsError.self) {
                try await log.append([LogTests.record(1, size: 101)])
            }
            #expect(tooLarge?.name == "limit_exceeded")
            #expect(tooLarge?.message.contains("maxRecordPayloadBytes") == true)
            let groupTooLarge = await #expect(throws: StreamsError.self) {
                try await log.append((0..<3).map { LogTests.record($0, size: 100) })
            }
            #expect(groupTooLarge?.message.contains("maxBatchBytes") == true)
            #expect(try await log.append([LogTests.record(1, size: 100)]).count == 1)
            #expect(log.metrics.appends == 1)
        }
    }

    @Test func readOfAPositionWithoutARecordFails() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            defer { log.close() }
            let position = try await log.append([LogTests.record(1, size: 40)])[0]
            for bogus in [
                LogPosition(file: position.file, offset: position.offset + 3),  // inside the record
                LogPosition(file: position.file, offset: 0),  // the file header
                LogPosition(file: position.file, offset: 100_000),  // past the end
                LogPosition(file: 9, offset: position.offset),  // no such file
            ] {
                let error = #expect(throws: StreamsError.self) { try log.read(at: bogus) }
                #expect(error?.isTransient == true)
            }
        }
    }

    @Test func appendAfterCloseFailsAndReadsStillWork() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            let position = try await log.append([LogTests.record(1)])[0]
            await log.close()
            await log.close()  // closing twice is harmless
            let error = await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(2)]) }
            #expect(error?.isTransient == true)
            #expect(try log.read(at: position) == LogTests.record(1))
        }
    }
}
