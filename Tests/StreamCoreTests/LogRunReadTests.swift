import CorePrimitives
import Foundation
import Testing

@testable import StreamCore

/// Reading many records at once (`DurableLog.read(at:)` with positions) gives exactly what reading each
/// alone gives, whatever the records' sizes, files, gaps and order, and fails as a lone read of the first
/// bad position fails.
struct LogRunReadTests {
    /// Sizes around the edges of a run: empty, small, a frame that ends exactly at the tail read past a
    /// run's last start, one just longer, and records longer than the gap that ends a run.
    static let sizes = [0, 1, 90, 4086, 4087, 5000, 70_000, 150, 3, 200_000, 24]

    @Test func recordsReadTogetherAreTheRecordsReadAlone() async throws {
        try await LogTests.withScratchDirectory { dir in
            // Small files, so positions cross files.
            let (log, _) = try LogTests.open(dir, limits: DurableLogLimits(fileRollBytes: 256 << 10))
            defer { log.close() }
            var records: [LogRecord] = []
            var positions: [LogPosition] = []
            for round in 0..<6 {
                let group = Self.sizes.indices.map { LogTests.record(round * 100 + $0, size: Self.sizes[($0 + round) % Self.sizes.count]) }
                positions += try await log.append(group)
                records += group
            }
            #expect(Set(positions.map(\.file)).count > 1, "the records span several files")
            #expect(try log.read(at: positions) == records)

            var random = SplitMix64(seed: 5)
            var order = Array(positions.indices)
            for i in order.indices.reversed() { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            #expect(try log.read(at: order.map { positions[$0] }) == order.map { records[$0] }, "any order")
            #expect(try log.read(at: positions.reversed()) == records.reversed())
            let every3rd = Array(stride(from: 0, to: positions.count, by: 3))
            #expect(try log.read(at: every3rd.map { positions[$0] }) == every3rd.map { records[$0] }, "with gaps")
            #expect(try log.read(at: [positions[4], positions[4]]) == [records[4], records[4]], "twice")
            #expect(try log.read(at: []).isEmpty)
        }
    }

    /// Files laid out alike (one group of equal records each): a record of the second file lies where a
    /// different, intact record of the first does, so a read that took it from the wrong file would return
    /// the wrong record rather than fail.
    @Test func recordsAtTheSameOffsetsOfDifferentFilesAreToldApart() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir, limits: DurableLogLimits(fileRollBytes: 4096))
            defer { log.close() }
            var groups: [[LogPosition]] = []
            for file in 0..<3 {
                groups.append(try await log.append((0..<30).map { LogTests.record(file * 100 + $0, size: 100) }))
            }
            #expect(Set(groups.map { $0[0].file }).count == 3, "one group per file")
            #expect(groups[1][1].offset > groups[0][0].offset && groups[1][1].offset == groups[0][1].offset, "alike")
            #expect(try log.read(at: [groups[0][0], groups[1][1], groups[2][2]])
                == [LogTests.record(0, size: 100), LogTests.record(101, size: 100), LogTests.record(202, size: 100)])
        }
    }

    @Test func aDamagedRecordFailsTheReadAsItFailsAlone() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            defer { log.close() }
            let positions = try await log.append((0..<20).map { LogTests.record($0, size: 100) })
            try LogTests.flipByte(at: Int(positions[7].offset) + LogFormat.frameHeaderSize + 50,
                                  in: LogTests.filePath(dir, positions[7].file))
            let alone = #expect(throws: StreamsError.self) { try log.read(at: positions[7]) }
            let together = #expect(throws: StreamsError.self) { try log.read(at: positions) }
            #expect(together != nil && together == alone, "\(String(describing: together))")
            #expect(try log.read(at: Array(positions[0..<7])) == (0..<7).map { LogTests.record($0, size: 100) })
        }
    }

    @Test func aPositionWithoutARecordFailsTheReadAsItFailsAlone() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            defer { log.close() }
            let positions = try await log.append((0..<5).map { LogTests.record($0, size: 40) })
            let inside = LogPosition(file: positions[2].file, offset: positions[2].offset + 3)
            for bogus in [inside, LogPosition(file: positions[0].file, offset: 0),
                          LogPosition(file: positions[0].file, offset: 100_000), LogPosition(file: 9, offset: positions[0].offset)] {
                let alone = #expect(throws: StreamsError.self) { try log.read(at: bogus) }
                let together = #expect(throws: StreamsError.self) { try log.read(at: [positions[0], positions[1], bogus, positions[3]]) }
                #expect(together != nil && together == alone, "\(bogus): \(String(describing: together))")
            }
        }
    }
}
