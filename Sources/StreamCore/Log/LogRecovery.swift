#if canImport(Glibc)
import Glibc
#endif

/// What `open` found and repaired, for the caller to log or act on.
public struct LogRecoveryReport: Sendable, Hashable {
    /// A torn tail that was cut off the last file: the unacknowledged end of the last batch a crash
    /// interrupted.
    public struct Truncation: Sendable, Hashable {
        /// The file that was cut (e.g. `00000003.log`).
        public var file: String
        /// The new end of that file: the end of its last intact batch.
        public var offset: UInt64
        /// How many bytes were cut off.
        public var bytesRemoved: UInt64
        /// What was wrong at the first bad byte, e.g. `checksum mismatch`.
        public var reason: String
    }

    /// Log files read.
    public var files = 0
    /// Records handed to `replay`.
    public var records = 0
    /// Committed batches read.
    public var batches = 0
    /// Bytes of committed log data read, headers and framing included.
    public var bytes: UInt64 = 0
    /// True when the previous run closed the log cleanly (it was not interrupted).
    public var cleanShutdown = false
    /// The torn tail that was removed, if there was one.
    public var truncation: Truncation?
    /// A last file whose header a crash cut short while it was being created (it held no records)
    /// and which was therefore removed.
    public var removedFile: String?
    /// Files older than the base a checkpoint set, which a crash kept the checkpoint from removing;
    /// removed now.
    public var leftoverFilesRemoved: [String] = []
    /// How long reading and replaying took.
    public var duration: Duration = .zero
}

/// The writer's starting point after recovery.
struct RecoveredLog {
    var report: LogRecoveryReport
    var firstFile: UInt32
    var lastFile: UInt32
    var lastFD: Int32
    /// The end of the last file's committed data.
    var lastSize: UInt64
    /// The last file's length on disk: its data and any zeros the writer reserved after it.
    var lastAllocated: UInt64
    var nextBatch: UInt64
}

/// The files of a log directory: those of the log, from its base on, and leftovers before the base.
struct LogDirectoryListing {
    /// The log's files in order, from the base on.
    var numbers: [UInt32]
    /// Files before the base (an interrupted checkpoint's removals), in order.
    var leftovers: [UInt32]
    /// The first file named by the base marker, if there is one.
    var base: UInt32?
    /// The first file the log is missing and the file found in its place (nil when none is found),
    /// if the numbering has a gap.
    var missing: (file: UInt32, found: UInt32?)?
}

/// How the scan of one file turned out.
struct LogFileVerdict {
    /// What the scanner read (records, batches, the committed end).
    var outcome: LogFileScanner.Outcome
    /// Damage at the tail of the last file that a crash explains and that the open cuts off.
    var torn: LogFileScanner.Damage?
    /// Damage that stops the open: where it starts and why.
    var broken: (offset: UInt64, reason: String)?
}

/// Opens every file of a log directory in order, verifies and replays it, and repairs a torn tail.
///
/// A crash can only tear the last batch of the last file: the writer writes a batch only after the
/// previous one is durable, and starts a new file only after the previous file is complete. So
/// damage is repaired only there, and only if no committed batch follows it; anything else is
/// reported as an error naming the file and offset, and nothing is dropped. `coordd check` reads
/// logs with the same pieces (``listing(directory:)``, ``examine``), so it judges damage exactly as
/// the open does.
enum LogRecovery {
    static func recover(
        directory: String, files: LogFileTable,
        replay: (LogPosition, UInt8, UnsafeRawBufferPointer) throws -> Void
    ) throws -> RecoveredLog {
        let started = ContinuousClock.now
        var report = LogRecoveryReport()
        try io("creating log directory \(directory)") { () throws(IOError) in try Posix.makeDirectory(directory) }
        let listing = try listing(directory: directory)
        if let missing = listing.missing {
            throw StreamsError.storage(
                "log directory \(directory) is missing \(LogFormat.fileName(missing.file))"
                    + (missing.found.map { " (found \(LogFormat.fileName($0)))" } ?? ""))
        }
        if !listing.leftovers.isEmpty {
            try io("removing files before the base in \(directory)") { () throws(IOError) in
                for number in listing.leftovers { try Posix.unlink(directory + "/" + LogFormat.fileName(number)) }
                try Posix.syncDirectory(directory)
            }
            report.leftoverFilesRemoved = listing.leftovers.map(LogFormat.fileName)
        }
        var numbers = listing.numbers
        let marker = try io("reading the clean-shutdown marker in \(directory)") { () throws(IOError) in
            try LogCleanMarker.read(in: directory)
        }

        if let last = numbers.last, try headerNeverLanded(directory: directory, number: last) {
            try io("removing \(LogFormat.fileName(last)) from \(directory)") { () throws(IOError) in
                try Posix.unlink(directory + "/" + LogFormat.fileName(last))
                try Posix.syncDirectory(directory)
            }
            report.removedFile = LogFormat.fileName(last)
            numbers.removeLast()
        }

        var nextBatch: UInt64?
        var last: (number: UInt32, fd: Int32, size: UInt64, length: UInt64)?
        for number in numbers {
            let isLast = number == numbers.last
            let path = directory + "/" + LogFormat.fileName(number)
            let fd = try io("opening \(path)") { () throws(IOError) in try Posix.open(path, isLast ? O_RDWR : O_RDONLY) }
            // The file's length on disk, and the end of its committed data: zeros the writer reserved
            // may lie between the two, and readers and the writer go by the end of the data.
            var length: UInt64 = 0
            var committed: UInt64 = 0
            do {
                length = UInt64(try io("reading \(path)") { () throws(IOError) in try Posix.fileSize(fd) })
                let verdict = try examine(
                    fd: fd, path: path, number: number, size: length, nextBatch: nextBatch, isLast: isLast, marker: marker,
                    replay: replay)
                if let broken = verdict.broken { throw LogErrors.corrupt(path, broken.offset, broken.reason) }
                let outcome = verdict.outcome
                report.files += 1
                report.records += outcome.records
                report.batches += outcome.batches
                report.bytes += outcome.committedEnd
                if let batch = outcome.lastBatch { nextBatch = batch + 1 }
                if let damage = verdict.torn {
                    try io("cutting the torn tail off \(path)") { () throws(IOError) in
                        try Posix.ftruncate(fd, Int64(outcome.committedEnd))
                        try Posix.fdatasync(fd)
                    }
                    report.truncation = .init(
                        file: LogFormat.fileName(number), offset: outcome.committedEnd,
                        bytesRemoved: length - outcome.committedEnd, reason: damage.reason)
                    length = outcome.committedEnd
                }
                committed = outcome.committedEnd
            } catch {
                try? Posix.close(fd)
                throw error
            }
            files.set(number, fd: fd, committedSize: committed)
            last = (number, fd, committed, length)
        }

        if let marker, let last, marker.file == last.number, marker.size == last.size, report.truncation == nil {
            report.cleanShutdown = true
        }
        if marker != nil {
            try io("removing the clean-shutdown marker in \(directory)") { () throws(IOError) in
                try LogCleanMarker.remove(in: directory)
            }
        }
        if last == nil {
            // A new log starts at file 1 (or at its base, should that file have been created but never
            // have received its header).
            let number = listing.base ?? 1
            let fd = try io("creating the first log file in \(directory)") { () throws(IOError) in
                try LogFileIO.createFile(directory: directory, number: number, faults: LogFaultInjector())
            }
            let size = UInt64(LogFormat.fileHeaderSize)
            files.set(number, fd: fd, committedSize: size)
            last = (number, fd, size, size)
        }
        report.duration = ContinuousClock.now - started
        // `last` is set: either by the loop over existing files or by creating the first one just above.
        let writerStart = last!
        return RecoveredLog(
            report: report, firstFile: numbers.first ?? writerStart.number, lastFile: writerStart.number,
            lastFD: writerStart.fd, lastSize: writerStart.size, lastAllocated: writerStart.length, nextBatch: nextBatch ?? 1)
    }

    /// The log's files, honouring the base marker: files before the base are leftovers, and the files
    /// from the base on must be numbered without a gap.
    static func listing(directory: String) throws(StreamsError) -> LogDirectoryListing {
        let all = try io("listing \(directory)") { () throws(IOError) in
            try Posix.listDirectory(directory).compactMap(LogFormat.fileNumber(fromName:)).sorted()
        }
        let base = try LogBaseMarker.read(in: directory)?.file
        let numbers = all.filter { $0 >= base ?? 0 }
        var listing = LogDirectoryListing(numbers: numbers, leftovers: all.filter { $0 < base ?? 0 }, base: base)
        if let base, numbers.first != base {
            listing.missing = (base, numbers.first)
        } else if let (previous, next) = zip(numbers, numbers.dropFirst()).first(where: { $1 != $0 + 1 }) {
            listing.missing = (previous + 1, next)
        }
        return listing
    }

    /// Checks the header of file `number` and scans it, judging any damage as the open does: damage at
    /// the tail of the last file is torn (cut off) unless the log was closed cleanly or committed data
    /// follows it; any other damage, and any contradiction, is broken. Throws only I/O errors and what
    /// `replay` throws.
    static func examine(
        fd: Int32, path: String, number: UInt32, size: UInt64, nextBatch: UInt64?, isLast: Bool, marker: LogCleanMarker?,
        replay: (LogPosition, UInt8, UnsafeRawBufferPointer) throws -> Void
    ) throws -> LogFileVerdict {
        var header = [UInt8](repeating: 0, count: LogFormat.fileHeaderSize)
        let count = try io("reading \(path)") { () throws(IOError) in
            try LogFileIO.readFully(fd, into: &header, at: 0)
        }
        guard count == header.count, header.withUnsafeBytes({ LogFormat.isValidFileHeader($0, number: number) }) else {
            return LogFileVerdict(
                outcome: .init(committedEnd: 0),
                broken: (0, "not a version \(LogFormat.version) log file header for file \(number)"))
        }
        let scanner = LogFileScanner(fd: fd, number: number, size: size)
        let outcome = try scanner.scan(nextBatch: nextBatch, replay: replay)
        var verdict = LogFileVerdict(outcome: outcome)
        guard let damage = outcome.damage else { return verdict }
        if damage.contradicts {
            verdict.broken = (damage.offset, damage.reason)
        } else if !isLast {
            verdict.broken = (damage.offset, "\(damage.reason) (not the last file, so not a torn write)")
        } else if let marker, marker.file == number, marker.size == size {
            verdict.broken = (damage.offset, "\(damage.reason) in a log that was closed cleanly")
        } else {
            let minimumBatch = outcome.lastBatch.map { $0 + 1 } ?? nextBatch ?? 0
            let follower = try io("reading \(path)") { () throws(IOError) in
                try scanner.findCommitFrame(from: damage.offset + 1, minimumBatch: minimumBatch)
            }
            if let follower {
                verdict.broken = (damage.offset, "\(damage.reason), and committed data follows at offset \(follower)")
            } else {
                verdict.torn = damage
            }
        }
        return verdict
    }

    /// A new file's header is made durable before anything else is written to it, so a last file no
    /// longer than a header and without a valid one was being created when a crash came: it holds
    /// nothing, and the open removes it.
    static func headerNeverLanded(directory: String, number: UInt32) throws(StreamsError) -> Bool {
        let path = directory + "/" + LogFormat.fileName(number)
        return try io("checking \(path)") { () throws(IOError) -> Bool in
            let fd = try Posix.open(path, O_RDONLY)
            defer { try? Posix.close(fd) }
            let size = try Posix.fileSize(fd)
            guard size <= Int64(LogFormat.fileHeaderSize) else { return false }
            var header = [UInt8](repeating: 0, count: LogFormat.fileHeaderSize)
            let count = try LogFileIO.readFully(fd, into: &header, at: 0)
            return !(count == header.count && header.withUnsafeBytes { LogFormat.isValidFileHeader($0, number: number) })
        }
    }

    /// Runs `body`, turning a failed system call into a storage error that says what was being done.
    static func io<T>(_ what: @autoclosure () -> String, _ body: () throws(IOError) -> T) throws(StreamsError) -> T {
        do {
            return try body()
        } catch {
            throw LogErrors.io(what(), error)
        }
    }
}
