import Foundation
import Testing

@testable import StreamCore

/// The zeros the writer reserves past a file's data, so that batches overwrite zeros instead of
/// growing the file: where they are, what a crash leaves of them, and what a reopen makes of that.
struct LogReserveTests {
    /// The length of file `number` on disk and the bytes past `end`.
    static func tail(_ directory: String, _ number: UInt32, after end: UInt64) throws -> (length: Int, tail: ArraySlice<UInt8>) {
        let bytes = try LogTests.contents(LogTests.filePath(directory, number))
        return (bytes.count, bytes[min(Int(end), bytes.count)...])
    }

    /// The end of the data in the log's last file: the committed end the log reports.
    static func dataEnd(_ log: DurableLog, file: UInt32) -> UInt64 {
        log.files.entry(file)?.committedSize ?? 0
    }

    /// Copies the files of `log` (in `live`) to `crashed` while it is open, as a crash leaves them: every
    /// acknowledged batch, then the reserved zeros; then closes the log.
    static func copyAsACrashLeavesIt(_ log: DurableLog, from live: String, to crashed: String) async throws {
        try FileManager.default.createDirectory(atPath: crashed, withIntermediateDirectories: false)
        try LogTests.copyDirectory(live, to: crashed)
        await log.close()
    }

    @Test func batchesOverwriteZerosReservedAheadOfThem() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            defer { log.close() }
            _ = try await log.append([LogTests.record(0, size: 100)])
            let first = try Self.tail(dir, 1, after: Self.dataEnd(log, file: 1))
            #expect(first.length >= 4096, "a file grows by a page at least, not by a batch")
            #expect(first.tail.allSatisfy { $0 == 0 } && !first.tail.isEmpty)

            // Batches that fit in the reserve leave the file's length alone.
            for i in 1...10 { _ = try await log.append([LogTests.record(i, size: 100)]) }
            let later = try Self.tail(dir, 1, after: Self.dataEnd(log, file: 1))
            #expect(later.length == first.length)
            #expect(later.tail.allSatisfy { $0 == 0 } && !later.tail.isEmpty)

            // A busy file grows by as much as it holds, up to reserveBytes at a time.
            for i in 11..<60 { _ = try await log.append([LogTests.record(i, size: 1_000)]) }
            let grown = try Self.tail(dir, 1, after: Self.dataEnd(log, file: 1))
            #expect(grown.length > later.length && grown.length <= Int(Self.dataEnd(log, file: 1)) * 2 + 4096)
        }
    }

    @Test func aLogThatStoppedWithReservedZerosReopensWithEverythingAndNoTruncation() async throws {
        try await LogTests.withScratchDirectory { root in
            let live = root + "/live", crashed = root + "/crashed"
            let (log, _) = try LogTests.open(live)
            var appended: [LogTests.Replayed] = []
            for i in 0..<5 {
                let group = [LogTests.record(i), LogTests.record(100 + i)]
                appended += zip(try await log.append(group), group).map { LogTests.Replayed(position: $0, record: $1) }
            }
            let end = Self.dataEnd(log, file: 1)
            try await Self.copyAsACrashLeavesIt(log, from: live, to: crashed)
            #expect(try Self.tail(crashed, 1, after: end).tail.count > 0)

            let (reopened, replayed) = try LogTests.open(crashed)
            #expect(replayed == appended)
            #expect(reopened.recoveryReport.truncation == nil)
            #expect(!reopened.recoveryReport.cleanShutdown)
            #expect(Self.dataEnd(reopened, file: 1) == end)
            // The next batch goes where the data ends, over the zeros.
            let next = try await reopened.append([LogTests.record(99)])
            #expect(next == [LogPosition(file: 1, offset: end)])
            await reopened.close()
            #expect(try LogTests.replayAll(crashed).map(\.record) == appended.map(\.record) + [LogTests.record(99)])
        }
    }

    @Test func aCleanCloseCutsTheReserveOff() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            for i in 0..<3 { _ = try await log.append([LogTests.record(i)]) }
            let end = Self.dataEnd(log, file: 1)
            #expect(try Self.tail(dir, 1, after: end).length > Int(end))
            await log.close()
            #expect(try Self.tail(dir, 1, after: end).length == Int(end))
            let (reopened, replayed) = try LogTests.open(dir)
            defer { reopened.close() }
            #expect(reopened.recoveryReport.cleanShutdown)
            #expect(replayed.map(\.record) == (0..<3).map { LogTests.record($0) })
        }
    }

    @Test func onlyTheLastFileKeepsAReserve() async throws {
        try await LogTests.withScratchDirectory { dir in
            let limits = DurableLogLimits(fileRollBytes: 8_192)
            let (log, _) = try LogTests.open(dir, limits: limits)
            defer { log.close() }
            var last = LogPosition(file: 1, offset: 0)
            for i in 0..<40 where last.file < 3 { last = try await log.append([LogTests.record(i, size: 500)])[0] }
            #expect(last.file == 3)
            for number: UInt32 in [1, 2] {
                #expect(try Self.tail(dir, number, after: Self.dataEnd(log, file: number)).tail.isEmpty, "file \(number)")
            }
            let current = try Self.tail(dir, 3, after: Self.dataEnd(log, file: 3))
            #expect(!current.tail.isEmpty && current.length <= limits.fileRollBytes)
        }
    }

    @Test func aTornBatchInTheReserveIsStillCut() async throws {
        try await LogTests.withScratchDirectory { root in
            let live = root + "/live", crashed = root + "/crashed"
            let (log, _) = try LogTests.open(live)
            _ = try await log.append([LogTests.record(1)])
            let end = Self.dataEnd(log, file: 1)
            let torn = try await log.append([LogTests.record(2), LogTests.record(3)])
            let tornEnd = Self.dataEnd(log, file: 1)
            try await Self.copyAsACrashLeavesIt(log, from: live, to: crashed)

            // The second batch's records landed but its commit frame did not: zeros stand in its place.
            let path = LogTests.filePath(crashed, 1)
            var bytes = try LogTests.contents(path)
            let length = bytes.count
            for i in Int(tornEnd - UInt64(LogFormat.commitFrameSize))..<Int(tornEnd) { bytes[i] = 0 }
            try LogTests.write(bytes, to: path)

            let (reopened, replayed) = try LogTests.open(crashed)
            defer { reopened.close() }
            #expect(replayed.map(\.record) == [LogTests.record(1)])
            let truncation = reopened.recoveryReport.truncation
            #expect(truncation?.offset == end && torn[0].offset == end)
            #expect(truncation?.bytesRemoved == UInt64(length) - end)
        }
    }

    @Test func somethingOtherThanZerosAfterTheDataIsStillDamage() async throws {
        try await LogTests.withScratchDirectory { root in
            let live = root + "/live", crashed = root + "/crashed"
            let (log, _) = try LogTests.open(live)
            _ = try await log.append([LogTests.record(1)])
            let end = Self.dataEnd(log, file: 1)
            try await Self.copyAsACrashLeavesIt(log, from: live, to: crashed)
            let path = LogTests.filePath(crashed, 1)
            var bytes = try LogTests.contents(path)
            #expect(bytes.count > Int(end) + 100)
            bytes[Int(end) + 100] = 7
            try LogTests.write(bytes, to: path)

            let (reopened, replayed) = try LogTests.open(crashed)
            defer { reopened.close() }
            #expect(replayed.map(\.record) == [LogTests.record(1)])
            #expect(reopened.recoveryReport.truncation?.offset == end)
            #expect(reopened.recoveryReport.truncation?.reason == "checksum mismatch")
        }
    }

    @Test func noReserveWhenReserveBytesIsZero() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir, limits: DurableLogLimits(reserveBytes: 0))
            defer { log.close() }
            _ = try await log.append([LogTests.record(1)])
            _ = try await log.append([LogTests.record(2)])
            #expect(try Self.tail(dir, 1, after: Self.dataEnd(log, file: 1)).tail.isEmpty)
        }
    }
}
