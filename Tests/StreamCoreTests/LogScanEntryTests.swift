import CoordTestKit
import Testing

@testable import StreamCore

/// The log scanner's public parsing entry point, which the `log_scan` fuzz target drives.
@Suite struct LogScanEntryTests {
    private static func frames(_ batches: [(batch: UInt64, records: [[UInt8]])]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (batch, records) in batches {
            for record in records {
                record.withUnsafeBytes { LogFormat.appendFrame(kind: 1, flags: 0, payload: $0, to: &bytes) }
            }
            LogFormat.appendCommitFrame(batch: batch, recordCount: UInt32(records.count), to: &bytes)
        }
        return bytes
    }

    private func scan(_ frames: [UInt8]) throws -> LogFileScanSummary {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        return try LogInspection.scanFrames(frames, scratchPath: directory.path + "/scan")
    }

    @Test func committedBatchesAreCountedAndATornTailIsDamage() throws {
        let whole = Self.frames([(1, [Array("hello".utf8), []]), (2, [[7]])])
        let summary = try scan(whole)
        #expect(summary == LogFileScanSummary(
            records: 3, batches: 2, committedEnd: UInt64(LogFormat.fileHeaderSize + whole.count), damage: nil))
        let torn = try scan(whole + Self.frames([(3, [[1, 2, 3]])]).dropLast(4))
        #expect(torn.records == 3 && torn.committedEnd == summary.committedEnd && torn.damage != nil)
    }

    @Test(arguments: [[], [0], [UInt8](repeating: 0xFF, count: 64), [UInt8](repeating: 0, count: 10)])
    func arbitraryBytesAreDamageNeverATrap(_ bytes: [UInt8]) throws {
        let summary = try scan(bytes)
        #expect(summary.records == 0)
        #expect(summary.committedEnd == UInt64(LogFormat.fileHeaderSize))
    }

    /// The fuzzer's seeds are made by `fuzz/make-corpus.py`; this keeps them in the format the scanner reads.
    @Test func theSeedCorpusHoldsRealBatches() throws {
        // Tests/StreamCoreTests/ThisFile.swift → the repository root.
        let root = String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")
        let bytes = try FileBytes.contents("/" + root + "/fuzz/corpus/log_scan/one-batch")
        let summary = try scan(bytes)
        #expect(summary.records == 2 && summary.batches == 1 && summary.damage == nil)
    }
}
