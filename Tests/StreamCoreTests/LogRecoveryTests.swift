import Foundation
import Testing

@testable import StreamCore

struct LogRecoveryTests {
    /// Writes `groups` as separate appends (so separate batches) and returns their positions.
    static func build(_ dir: String, _ groups: [[LogRecord]], limits: DurableLogLimits = .init()) async throws -> [[LogPosition]] {
        let (log, _) = try LogTests.open(dir, limits: limits)
        defer { log.close() }
        var positions: [[LogPosition]] = []
        for group in groups { positions.append(try await log.append(group)) }
        return positions
    }

    /// Cuts the last file at every offset from the start of the last group to its end; each time,
    /// reopening must give exactly the earlier groups, report the cut, and accept new appends.
    static func checkEveryCutOfLastGroup(lastGroupSize: Int) async throws {
        try await LogTests.withScratchDirectory { root in
            let original = root + "/original"
            let groups = [[LogTests.record(1)], [LogTests.record(2), LogTests.record(3)],
                          (0..<lastGroupSize).map { LogTests.record(10 + $0, size: 20 + $0) }]
            let positions = try await build(original, groups)
            let lastStart = Int(positions[2][0].offset)
            let file = try LogTests.contents(LogTests.filePath(original, 1))
            let earlier = Array(groups[0..<2].joined())
            #expect(lastStart < file.count)

            for cut in lastStart..<file.count {
                let dir = root + "/cut-\(cut)"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
                try LogTests.write(Array(file[0..<cut]), to: LogTests.filePath(dir, 1))

                let (log, replayed) = try LogTests.open(dir)
                #expect(replayed.map(\.record) == earlier, "cut at \(cut)")
                let truncation = log.recoveryReport.truncation
                if cut == lastStart {
                    #expect(truncation == nil, "cut at \(cut)")
                } else {
                    #expect(truncation?.file == "00000001.log", "cut at \(cut)")
                    #expect(truncation?.offset == UInt64(lastStart), "cut at \(cut)")
                    #expect(truncation?.bytesRemoved == UInt64(cut - lastStart), "cut at \(cut)")
                }
                _ = try await log.append([LogTests.record(99)])
                await log.close()
                #expect(try LogTests.replayAll(dir).map(\.record) == earlier + [LogTests.record(99)], "cut at \(cut)")
                try FileManager.default.removeItem(atPath: dir)
            }
        }
    }

    @Test func tornLastRecordIsCutAtEveryByteOffset() async throws {
        try await Self.checkEveryCutOfLastGroup(lastGroupSize: 1)
    }

    @Test func tornMultiRecordLastGroupIsCutWhole() async throws {
        try await Self.checkEveryCutOfLastGroup(lastGroupSize: 3)
    }

    @Test func zeroedTailIsTheEndOfTheData() async throws {
        try await LogTests.withScratchDirectory { dir in
            let positions = try await Self.build(dir, [[LogTests.record(1)], [LogTests.record(2), LogTests.record(3)]])
            let path = LogTests.filePath(dir, 1)
            var bytes = try LogTests.contents(path)
            let start = Int(positions[1][0].offset)
            // A crash can leave the file longer than the data that reached it: zeros where the write was.
            // Zeros after the last batch are what the writer reserves ahead of its batches, so they are
            // not damage: the data ends where they start, and nothing needs cutting.
            for i in start..<bytes.count { bytes[i] = 0 }
            try LogTests.write(bytes, to: path)
            try FileManager.default.removeItem(atPath: dir + "/" + LogFormat.cleanMarkerName)  // as after a crash
            let (log, replayed) = try LogTests.open(dir)
            #expect(replayed.map(\.record) == [LogTests.record(1)])
            #expect(log.recoveryReport.truncation == nil)
            #expect(try await log.append([LogTests.record(4)]) == [positions[1][0]])
            await log.close()
            #expect(try LogTests.replayAll(dir).map(\.record) == [LogTests.record(1), LogTests.record(4)])
        }
    }

    /// Byte offsets inside the second of five single-record batches: length, checksum, kind, flags,
    /// payload, and (past the record) its batch's commit frame.
    @Test(arguments: [0, 3, 5, 8, 9, 12, 33, 34 + 0, 34 + 9, 34 + 15])
    func damageBeforeCommittedDataStopsTheOpenNamingFileAndOffset(byte: Int) async throws {
        try await LogTests.withScratchDirectory { dir in
            let positions = try await Self.build(dir, (0..<5).map { [LogTests.record($0)] })  // 24-byte payloads
            let recordStart = Int(positions[1][0].offset)
            let damaged = recordStart + byte
            try LogTests.flipByte(at: damaged, in: LogTests.filePath(dir, 1))
            // The frame that fails: the record itself, or its commit frame right after its 34 bytes.
            let frameStart = byte < 34 ? recordStart : recordStart + 34
            let error = #expect(throws: StreamsError.self) { try LogTests.open(dir) }
            #expect(error?.message.contains("00000001.log") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("offset \(frameStart)") == true, "\(error?.message ?? "")")
            #expect(error?.isTransient == true)
        }
    }

    @Test func committedDataFoundBeyondAReadChunkAfterTheDamage() async throws {
        try await LogTests.withScratchDirectory { dir in
            let large = LogFileScanner.readChunkBytes + 1000
            let positions = try await Self.build(dir, [[LogTests.record(1)], [LogTests.record(2, size: large)]])
            let damaged = positions[1][0].offset
            // Damage the large record's length: its frame boundaries are lost, and the search for a
            // commit frame must cross a read-chunk boundary to find the batch's own commit frame.
            try LogTests.flipByte(at: Int(damaged) + 2, in: LogTests.filePath(dir, 1))
            try FileManager.default.removeItem(atPath: dir + "/" + LogFormat.cleanMarkerName)
            let error = #expect(throws: StreamsError.self) { try LogTests.open(dir) }
            let commit = damaged + UInt64(LogFormat.frameHeaderSize + large)
            #expect(error?.message.contains("offset \(damaged)") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("committed data follows at offset \(commit)") == true, "\(error?.message ?? "")")
        }
    }

    @Test func damageInAnEarlierFileStopsTheOpen() async throws {
        try await LogTests.withScratchDirectory { dir in
            let limits = DurableLogLimits(fileRollBytes: 256)
            let positions = try await Self.build(dir, (0..<20).map { [LogTests.record($0, size: 60)] }, limits: limits)
            let lastInFirstFile = try #require(positions.map { $0[0] }.filter { $0.file == 1 }.last)
            // Even damage to the last record of a file is not a torn write if a later file exists.
            try LogTests.flipByte(at: Int(lastInFirstFile.offset) + 20, in: LogTests.filePath(dir, 1))
            let error = #expect(throws: StreamsError.self) { try LogTests.open(dir, limits: limits) }
            #expect(error?.message.contains("00000001.log") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("offset \(lastInFirstFile.offset)") == true, "\(error?.message ?? "")")
        }
    }

    @Test func shortenedEarlierFileStopsTheOpen() async throws {
        try await LogTests.withScratchDirectory { dir in
            let limits = DurableLogLimits(fileRollBytes: 256)
            _ = try await Self.build(dir, (0..<20).map { [LogTests.record($0, size: 60)] }, limits: limits)
            let path = LogTests.filePath(dir, 1)
            let bytes = try LogTests.contents(path)
            try LogTests.write(Array(bytes.dropLast(5)), to: path)
            let error = #expect(throws: StreamsError.self) { try LogTests.open(dir, limits: limits) }
            #expect(error?.message.contains("00000001.log") == true, "\(error?.message ?? "")")
        }
    }

    @Test func missingFileInTheMiddleStopsTheOpen() async throws {
        try await LogTests.withScratchDirectory { dir in
            let limits = DurableLogLimits(fileRollBytes: 256)
            _ = try await Self.build(dir, (0..<20).map { [LogTests.record($0, size: 60)] }, limits: limits)
            try FileManager.default.removeItem(atPath: LogTests.filePath(dir, 2))
            let error = #expect(throws: StreamsError.self) { try LogTests.open(dir, limits: limits) }
            #expect(error?.message.contains("00000002.log") == true, "\(error?.message ?? "")")
        }
    }

    @Test(arguments: [0, 7, 16])
    func lastFileWhoseHeaderNeverLandedIsRemoved(headerBytes: Int) async throws {
        try await LogTests.withScratchDirectory { dir in
            _ = try await Self.build(dir, [[LogTests.record(1)]])
            // As if a crash came while file 2 was being created: its header is missing or torn.
            try LogTests.write(Array(LogFormat.fileHeader(number: 2).prefix(headerBytes)).map { $0 ^ 0x55 },
                               to: LogTests.filePath(dir, 2))
            let (log, replayed) = try LogTests.open(dir)
            #expect(replayed.map(\.record) == [LogTests.record(1)])
            #expect(log.recoveryReport.removedFile == "00000002.log")
            let next = try await log.append([LogTests.record(2)])
            #expect(next[0].file == 1)
            await log.close()
            #expect(!FileManager.default.fileExists(atPath: LogTests.filePath(dir, 2)))
        }
    }

    @Test func damagedHeaderWithDataAfterItStopsTheOpen() async throws {
        try await LogTests.withScratchDirectory { dir in
            _ = try await Self.build(dir, [[LogTests.record(1)]])
            try LogTests.flipByte(at: 2, in: LogTests.filePath(dir, 1))
            let error = #expect(throws: StreamsError.self) { try LogTests.open(dir) }
            #expect(error?.message.contains("00000001.log is damaged at offset 0") == true, "\(error?.message ?? "")")
        }
    }

    @Test func damagedTailOfACleanlyClosedLogIsAnErrorNotATornWrite() async throws {
        try await LogTests.withScratchDirectory { dir in
            let positions = try await Self.build(dir, [[LogTests.record(1)], [LogTests.record(2)]])
            let path = LogTests.filePath(dir, 1)
            var bytes = try LogTests.contents(path)
            for i in (bytes.count - 5)..<bytes.count { bytes[i] = 0 }  // the last commit frame, size unchanged
            try LogTests.write(bytes, to: path)
            let error = #expect(throws: StreamsError.self) { try LogTests.open(dir) }
            #expect(error?.message.contains("closed cleanly") == true, "\(error?.message ?? "")")

            // Without the marker the same bytes look like a torn write: the unconfirmed batch goes.
            try FileManager.default.removeItem(atPath: dir + "/" + LogFormat.cleanMarkerName)
            let (log, replayed) = try LogTests.open(dir)
            defer { log.close() }
            #expect(replayed.map(\.record) == [LogTests.record(1)])
            #expect(log.recoveryReport.truncation?.offset == positions[1][0].offset)
        }
    }

    @Test func damagedRecordFollowedByItsOwnCommitFrameIsAnError() async throws {
        try await LogTests.withScratchDirectory { dir in
            // The last batch's commit frame is intact, so the batch was written whole; a bad record in
            // it is damage to data that may have been acknowledged, not a torn write, and is not dropped.
            let positions = try await Self.build(dir, [[LogTests.record(1)], [LogTests.record(2)]])
            try FileManager.default.removeItem(atPath: dir + "/" + LogFormat.cleanMarkerName)
            try LogTests.flipByte(at: Int(positions[1][0].offset) + 12, in: LogTests.filePath(dir, 1))
            let error = #expect(throws: StreamsError.self) { try LogTests.open(dir) }
            #expect(error?.message.contains("offset \(positions[1][0].offset)") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("committed data follows") == true, "\(error?.message ?? "")")
        }
    }

    @Test func replayErrorsStopTheOpenUnchanged() async throws {
        struct Refused: Error {}
        try await LogTests.withScratchDirectory { dir in
            _ = try await Self.build(dir, [[LogTests.record(1)]])
            #expect(throws: Refused.self) { try DurableLog.open(directory: dir) { _, _, _ in throw Refused() } }
        }
    }
}
