import Foundation
import Testing

@testable import StreamCore

/// Storage errors carry the failed system call, so the daemon tells a full disk or exhausted
/// descriptors apart by errno, never by message text; and a log knows its size on disk.
struct StorageCauseTests {
    @Test(arguments: [
        (ENOSPC, "pwrite", ResourceShortage.disk), (EDQUOT, "fdatasync", .disk), (EMFILE, "open", .descriptors),
        (ENFILE, "accept4", .descriptors), (ENOMEM, "mmap", .memory), (ENOBUFS, "sendmsg", .memory),
        (EAGAIN, IOError.threadCreateCall, .threads),
    ])
    func aShortageIsReadFromTheErrno(_ errno: Int32, _ call: String, _ shortage: ResourceShortage) {
        #expect(IOError(errno: errno, call: call).shortage == shortage)
    }

    @Test(arguments: [(EIO, "pwrite"), (EAGAIN, "read"), (EACCES, "open"), (ENOENT, "open")])
    func otherFailuresAreNoShortage(_ errno: Int32, _ call: String) {
        #expect(IOError(errno: errno, call: call).shortage == nil)
    }

    @Test func equalityIgnoresTheCauseAndAnotherMessageKeepsIt() {
        let cause = IOError(errno: ENOSPC, call: "pwrite")
        let error = StreamsError.storage("log write failed", cause: cause)
        #expect(error == .storage("log write failed"), "clients see code, name and message only")
        #expect(error.with(message: "other").cause == cause)
        #expect(Set([error, .storage("log write failed")]).count == 1)
    }

    @Test func aFailedWriteCarriesItsCallAndErrno() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            log.faults.arm(.write, errno: ENOSPC)
            let error = await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(1)]) }
            #expect(error?.cause == IOError(errno: ENOSPC, call: "pwrite"))
            #expect(error?.cause?.shortage == .disk)
            await log.close()
        }
    }

    @Test func aFailedFlushLeavesEveryLaterAppendWithTheSameCause() async throws {
        try await LogTests.withScratchDirectory { dir in
            let (log, _) = try LogTests.open(dir)
            log.faults.arm(.sync, errno: ENOSPC)
            let first = await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(1)]) }
            let later = await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(2)]) }
            #expect(first?.cause?.call == "fdatasync" && first?.cause?.shortage == .disk)
            #expect(later?.message.contains("read-only") == true && later?.cause?.shortage == .disk)
            await log.close()
        }
    }

    @Test func aWriterThreadThatCannotStartIsAThreadShortage() async throws {
        try await LogTests.withScratchDirectory { dir in
            let pool = LogWriterPool(threads: 1) { _, _ throws(IOError) in throw IOError.threadCreate(EAGAIN) }
            let log = try DurableLog.open(directory: dir, limits: .init(), pool: pool) { _, _, _ in }
            let error = await #expect(throws: StreamsError.self) { try await log.append([LogTests.record(1)]) }
            #expect(error?.cause?.shortage == .threads)
            await log.close()
        }
    }

    @Test func aStoreThatCannotCreateItsDirectoryCarriesTheCause() throws {
        let error = #expect(throws: StreamsError.self) { _ = try FileStore(directory: "/proc/coordd-cannot-be-here") }
        #expect(error?.cause != nil && error?.cause?.call == "mkdir")
    }

    @Test func theCommittedBytesOfALogAreItsFilesOnDiskLessTheReserve() async throws {
        try await LogTests.withScratchDirectory { dir in
            var limits = DurableLogLimits()
            limits.fileRollBytes = 4_096
            let (log, _) = try LogTests.open(dir, limits: limits)
            for i in 0..<40 { _ = try await log.append([LogTests.record(i, size: 200)]) }
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".log") }.sorted()
            #expect(files.count > 1, "the log rolled")
            func size(_ name: String) throws -> Int {
                (try FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int) ?? 0
            }
            // Every file but the last ends with its data; the last holds the zeros reserved after it.
            let earlier = try files.dropLast().reduce(0) { $0 + (try size($1)) }
            let last = try size(files.last!)
            let lastData = log.files.entry(UInt32(files.count))?.committedSize ?? 0
            #expect(log.committedBytes == UInt64(earlier) + lastData)
            #expect(UInt64(last) > lastData && last <= limits.fileRollBytes)
            #expect(log.diskBytes == UInt64(earlier + last))
            await log.close()
            // A clean close cuts the reserve off: the files on disk are then exactly the committed bytes.
            let closed = try files.reduce(0) { $0 + (try size($1)) }
            #expect(log.committedBytes == UInt64(closed) && log.diskBytes == UInt64(closed))
        }
    }
}
