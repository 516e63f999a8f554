@testable import Coordinator
import CoordTestKit
import Foundation
@testable import StreamCore
import Testing

/// `coordd check` on logs damaged in each way `docs/storage.md` lists as stopping the open: the report
/// names the file and offset, `--dry-run` changes nothing, and `--repair` cuts the log back to its last
/// committed batch before the damage, after which the store opens with exactly the entries before it.
@Suite struct StoreCheckTests {
    /// A data directory with one store of `chunks` chunks of 3 entries, one log batch each.
    struct DamagedStore {
        let root: TemporaryDirectory
        let store = WireUUID.random()
        let logLimits: DurableLogLimits

        var directory: String { root.path + "/" + store.description }

        init(chunks: Int, fileRollBytes: Int = 64 << 20, closeCleanly: Bool = false) async throws {
            root = try TemporaryDirectory(prefix: "coordd-check")
            logLimits = DurableLogLimits(fileRollBytes: fileRollBytes)
            let fileStore = try FileStore(directory: root.path + "/" + store.description, logLimits: logLimits)
            for chunk in 0..<chunks {
                let first = UInt64(chunk * 3 + 1)
                _ = try await fileStore.append(AppendRequest(space: "s", segment: "g", records: makeRecords(3, from: first)))
            }
            await fileStore.close()
            if !closeCleanly { try FileManager.default.removeItem(atPath: directory + "/" + LogFormat.cleanMarkerName) }
        }

        func path(_ file: UInt32) -> String { directory + "/" + LogFormat.fileName(file) }

        /// Where each committed batch of file `number` starts, and where the file's batches end.
        func batchStarts(_ number: UInt32) throws -> (starts: [Int], end: Int) {
            let bytes = try FileBytes.contents(path(number))
            var starts = [LogFormat.fileHeaderSize]
            var offset = LogFormat.fileHeaderSize
            while offset + LogFormat.frameHeaderSize <= bytes.count {
                let length = bytes[offset..<(offset + 4)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                let commit = bytes[offset + 9] & LogFormat.commitFlag != 0
                offset += LogFormat.frameHeaderSize + length
                if commit { starts.append(offset) }
            }
            return (Array(starts.dropLast()), starts.last ?? offset)
        }

        func check(repair: Bool = false, dryRun: Bool = false) -> (StoreCheck.Status, String) {
            var lines: [String] = []
            var options = StoreCheckOptions()
            options.dataDirectory = root.path
            options.repair = repair
            options.dryRun = dryRun
            let status = StoreCheck.run(options) { lines.append($0) }
            return (status, lines.joined(separator: "\n"))
        }

        /// The last sequence of the store's segment once it opens.
        /// The segment's last sequence, read by opening the store; closed before it returns, so a check
        /// right after finds the logs free (a close left to a task of its own raced with it under load).
        func lastSequence() async throws -> UInt64 {
            let store = try FileStore(directory: directory, logLimits: logLimits)
            let last = store.status(space: "s", segment: "g")?.lastSequence ?? 0
            await store.close()
            return last
        }
    }

    /// One way to damage a store, what the report must say, and the chunks left after the repair.
    struct Damage: Sendable, CustomTestStringConvertible {
        var name: String
        var fileRollBytes = 64 << 20
        var closeCleanly = false
        /// Damages the store; returns the text the report must contain.
        var apply: @Sendable (DamagedStore) throws -> String
        var chunksLeft: Int

        var testDescription: String { name }
    }

    static let damages: [Damage] = [
        Damage(name: "damage followed by committed data", apply: { store in
            let batch = try store.batchStarts(1).starts[2]
            try FileBytes.flipByte(at: batch + 12, in: store.path(1))
            return "damage at offset \(batch): checksum mismatch, and committed data follows"
        }, chunksLeft: 2),
        Damage(name: "damage in a file that is not the last", fileRollBytes: 400, apply: { store in
            let batch = try store.batchStarts(1).starts[1]
            try FileBytes.flipByte(at: batch + 12, in: store.path(1))
            return "damage at offset \(batch): checksum mismatch (not the last file, so not a torn write)"
        }, chunksLeft: 1),
        Damage(name: "a missing file", fileRollBytes: 400, apply: { store in
            try FileManager.default.removeItem(atPath: store.path(2))
            return "00000002.log: the file is missing"
        }, chunksLeft: 2),
        Damage(name: "a bad file header on a file with data", fileRollBytes: 400, apply: { store in
            try FileBytes.flipByte(at: 3, in: store.path(2))
            return "damage at offset 0: not a version 1 log file header for file 2"
        }, chunksLeft: 2),
        Damage(name: "a commit frame that contradicts the log", apply: { store in
            var bytes = try FileBytes.contents(store.path(1))
            let commit = try store.batchStarts(1).starts[4] - LogFormat.commitFrameSize
            bytes[commit + LogFormat.frameHeaderSize] = 99  // batch 4 claims to be batch 99
            bytes.withUnsafeMutableBytes { raw in
                let frame = UnsafeMutableRawBufferPointer(rebasing: raw[commit..<(commit + LogFormat.commitFrameSize)])
                frame.storeBytes(of: LogFormat.frameChecksum(UnsafeRawBufferPointer(frame)).littleEndian, toByteOffset: 4, as: UInt32.self)
            }
            try FileBytes.write(bytes, to: store.path(1))
            return "damage at offset \(commit): batch 99 where batch 4 was expected"
        }, chunksLeft: 3),
        Damage(name: "tail damage in a log closed cleanly", closeCleanly: true, apply: { store in
            let batch = try store.batchStarts(1).starts[4]
            try FileBytes.flipByte(at: batch + 12, in: store.path(1))
            return "damage at offset \(batch): checksum mismatch in a log that was closed cleanly"
        }, chunksLeft: 4),
    ]

    @Test(arguments: damages)
    func damageThatStopsTheOpenIsReportedAndRepairedBackToTheLastCommittedBatch(_ damage: Damage) async throws {
        let store = try await DamagedStore(chunks: 5, fileRollBytes: damage.fileRollBytes, closeCleanly: damage.closeCleanly)
        defer { store.root.remove() }
        let expected = try damage.apply(store)
        await #expect(throws: StreamsError.self, "the store does not open") { _ = try await store.lastSequence() }

        let (status, report) = store.check()
        #expect(status == .damaged, "\(report)")
        #expect(report.contains(expected), "\(report)")
        #expect(report.contains("(the open stops here)"), "\(report)")

        let before = try FileManager.default.contentsOfDirectory(atPath: store.directory).sorted().map {
            (name: $0, bytes: try? FileBytes.contents(store.directory + "/" + $0))
        }
        let (dryStatus, dryReport) = store.check(dryRun: true)
        #expect(dryStatus == .damaged && dryReport.contains("repair: would "), "\(dryReport)")
        let after = try FileManager.default.contentsOfDirectory(atPath: store.directory).sorted().map {
            (name: $0, bytes: try? FileBytes.contents(store.directory + "/" + $0))
        }
        #expect(before.map(\.name) == after.map(\.name) && before.map(\.bytes) == after.map(\.bytes), "a dry run changes nothing")

        let (repairStatus, repairReport) = store.check(repair: true)
        #expect(repairStatus == .opens, "\(repairReport)")
        #expect(repairReport.contains("repaired: the log opens"), "\(repairReport)")
        #expect(dryReport.replacingOccurrences(of: "repair: would ", with: "repair: ").contains(
            repairReport.split(separator: "\n").filter { $0.contains("repair: ") }.joined(separator: "\n")),
                "the repair did what the dry run said")
        #expect(try await store.lastSequence() == UInt64(damage.chunksLeft * 3), "every chunk before the damage, nothing after")
        #expect(store.check().0 == .opens)
    }

    @Test func aTornTailIsReportedAsOneTheOpenCutsOff() async throws {
        let store = try await DamagedStore(chunks: 3)
        defer { store.root.remove() }
        let (_, end) = try store.batchStarts(1)
        try FileBytes.write(Array(try FileBytes.contents(store.path(1))[0..<(end - 5)]), to: store.path(1))
        let (status, report) = store.check()
        #expect(status == .opens, "\(report)")
        #expect(report.contains("(a torn tail: the open cuts it off)"), "\(report)")
        #expect(try await store.lastSequence() == 6)
    }

    @Test func zerosReservedAfterTheLastBatchAreReportedAsSuchNotAsDamage() async throws {
        let store = try await DamagedStore(chunks: 3)
        defer { store.root.remove() }
        let bytes = try FileBytes.contents(store.path(1))
        // What a crash leaves of the zeros the log's writer reserves ahead of its batches.
        try FileBytes.write(bytes + [UInt8](repeating: 0, count: 5_000), to: store.path(1))
        let (status, report) = store.check()
        #expect(status == .opens, "\(report)")
        #expect(report.contains("\(bytes.count) bytes (then 5000 bytes of zeros reserved for later batches)"), "\(report)")
        #expect(!report.contains("damage"), "\(report)")
        #expect(try await store.lastSequence() == 9)
    }

    @Test func damageInTheLeaseLogIsReportedUnderTheLeaseLog() async throws {
        let store = try await DamagedStore(chunks: 1)
        defer { store.root.remove() }
        let leases = try FileCompactingLog.open(directory: store.directory + "/" + FileStore.leaseLogDirectory)
        for n in 0..<4 { try await leases.append([[UInt8(n)]]).durable() }
        await leases.close()
        try FileBytes.flipByte(at: LogFormat.fileHeaderSize + 11, in: store.directory + "/leases/00000001.log")
        let (status, report) = store.check(repair: true)
        #expect(status == .opens, "\(report)")
        #expect(report.contains("lease log \(store.directory)/leases"), "\(report)")
        #expect(report.contains("repair: cut 00000001.log at offset 16"), "\(report)")
    }

    @Test func theCheckRefusesADirectoryInUse() async throws {
        let store = try await DamagedStore(chunks: 1)
        defer { store.root.remove() }
        let lock = try DataDirectoryLock.acquire(directory: store.root.path)
        let (status, report) = store.check()
        #expect(status == .cannotCheck)
        #expect(report.contains("is in use by another coordd process (pid \(getpid()))"), "\(report)")
        lock.release()
        #expect(store.check().0 == .opens)
    }

    @Test(arguments: [
        (["check"], StoreCheckOptions()),
        (["check", "--data-dir", "/d", "--repair"], StoreCheckOptions(dataDirectory: "/d", repair: true)),
        (["check", "--store=00000000-0000-4000-8000-000000000001", "--dry-run"],
         StoreCheckOptions(store: .defaultStore, dryRun: true)),
    ])
    func checkArgumentsAreParsedNextToTheDaemonsOptions(_ arguments: [String], _ expected: StoreCheckOptions) throws {
        #expect(try DaemonConfiguration.parse(arguments: arguments, environment: [:]) == .check(expected))
        var fromEnvironment = expected
        if !arguments.contains(where: { $0.hasPrefix("--data-dir") }) { fromEnvironment.dataDirectory = "/env" }
        #expect(try DaemonConfiguration.parse(arguments: arguments, environment: ["COORDD_DATA_DIR": "/env"]) == .check(fromEnvironment))
        #expect(throws: DaemonConfigurationError.self) { _ = try DaemonConfiguration.parse(arguments: arguments + ["--bogus"], environment: [:]) }
        #expect(throws: DaemonConfigurationError.self) { _ = try DaemonConfiguration.parse(arguments: ["check", "--store", "x"], environment: [:]) }
    }
}
