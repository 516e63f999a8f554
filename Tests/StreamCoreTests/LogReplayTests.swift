import Testing

@testable import StreamCore

struct LogReplayTests {
    /// Replay reads files in chunks of `LogFileScanner.readChunkBytes` and keeps the current batch in
    /// memory: batches that straddle a chunk boundary, and batches and records larger than a chunk,
    /// must come through whole and in order.
    @Test func replayCrossesReadChunksAndBatchesLargerThanAChunk() async throws {
        try await LogTests.withScratchDirectory { dir in
            let chunk = LogFileScanner.readChunkBytes
            var groups: [[LogRecord]] = []
            for g in 0..<40 { groups.append((0..<1000).map { LogTests.record(g * 1000 + $0, size: 150) }) }
            groups.append([LogTests.record(-1, size: chunk + chunk / 4)])  // one record larger than a chunk
            groups.append([LogTests.record(-2, size: chunk / 2 + 7), LogTests.record(-3, size: chunk / 2 + 11),
                           LogTests.record(-4, size: 33)])  // a batch larger than a chunk
            for g in 40..<60 { groups.append((0..<1000).map { LogTests.record(g * 1000 + $0, size: 150) }) }

            let (log, _) = try LogTests.open(dir)
            var expected: [LogTests.Replayed] = []
            for group in groups {
                let positions = try await log.append(group)
                expected += zip(positions, group).map { LogTests.Replayed(position: $0, record: $1) }
            }
            await log.close()
            #expect(expected.last!.position.offset > UInt64(3 * chunk))

            let (reopened, replayed) = try LogTests.open(dir)
            defer { reopened.close() }
            #expect(replayed.count == expected.count)
            #expect(replayed == expected)
            #expect(reopened.recoveryReport.records == expected.count)
            #expect(reopened.recoveryReport.batches == groups.count)
            print("log replay: \(expected.count) records in \(reopened.recoveryReport.duration)")
        }
    }
}
