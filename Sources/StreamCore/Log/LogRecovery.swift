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
    /// How long reading and replaying took.
    public var duration: Duration = .zero
}

/// The writer's starting point after recovery.
struct RecoveredLog {
    var report: LogRecoveryReport
    var lastFile: UInt32
    var lastFD: Int32
    var lastSize: UInt64
    var nextBatch: UInt64
}

/// Opens every file of a log directory in order, verifies and replays it, and repairs a torn tail.
///
/// A crash can only tear the last batch of the last file: the writer writes a batch only after the
/// previous one is durable, and starts a new file only after the previous file is complete. So
/// damage is repaired only there, and only if no committed batch follows it; anything else is
/// reported as an error naming the file and offset, and nothing is dropped.
enum LogRecovery {
    static func recover(
        directory: String, files: LogFileTable,
        replay: (LogPosition, UInt8, UnsafeRawBufferPointer) throws -> Void
    ) throws -> RecoveredLog {
        let started = ContinuousClock.now
        var report = LogRecoveryReport()
        try io("creating log directory \(directory)") { () throws(IOError) in try Posix.makeDirectory(directory) }
        var numbers = try io("listing \(directory)") { () throws(IOError) in
            try Posix.listDirectory(directory).compactMap(LogFormat.fileNumber(fromName:)).sorted()
        }
        for (previous, next) in zip(numbers, numbers.dropFirst()) where next != previous + 1 {
            throw StreamsError.storage(
                "log directory \(directory) is missing \(LogFormat.fileName(previous + 1)) (found \(LogFormat.fileName(next)))")
        }
        let marker = try io("reading the clean-shutdown marker in \(directory)") { () throws(IOError) in
            try LogCleanMarker.read(in: directory)
        }

        if let last = numbers.last, try removeIfHeaderNeverLanded(directory: directory, number: last) {
            report.removedFile = LogFormat.fileName(last)
            numbers.removeLast()
        }

        var nextBatch: UInt64?
        var last: (number: UInt32, fd: Int32, size: UInt64)?
        for number in numbers {
            let isLast = number == numbers.last
            let path = directory + "/" + LogFormat.fileName(number)
            let fd = try io("opening \(path)") { () throws(IOError) in try Posix.open(path, isLast ? O_RDWR : O_RDONLY) }
            var size: UInt64 = 0
            do {
                size = UInt64(try io("reading \(path)") { () throws(IOError) in try Posix.fileSize(fd) })
                try checkHeader(fd: fd, path: path, number: number, size: size)
                let scanner = LogFileScanner(fd: fd, path: path, number: number, size: size)
                let outcome = try scanner.scan(nextBatch: nextBatch, replay: replay)
                report.files += 1
                report.records += outcome.records
                report.batches += outcome.batches
                report.bytes += outcome.committedEnd
                if let batch = outcome.lastBatch { nextBatch = batch + 1 }
                if let damage = outcome.damage {
                    guard isLast else {
                        throw LogErrors.corrupt(path, damage.offset, "\(damage.reason) (not the last file, so not a torn write)")
                    }
                    if let marker, marker.file == number, marker.size == size {
                        throw LogErrors.corrupt(path, damage.offset, "\(damage.reason) in a log that was closed cleanly")
                    }
                    let follower = try io("reading \(path)") { () throws(IOError) in
                        try scanner.findCommitFrame(from: damage.offset + 1, minimumBatch: nextBatch ?? 0)
                    }
                    if let follower {
                        throw LogErrors.corrupt(
                            path, damage.offset, "\(damage.reason), and committed data follows at offset \(follower)")
                    }
                    try io("cutting the torn tail off \(path)") { () throws(IOError) in
                        try Posix.ftruncate(fd, Int64(outcome.committedEnd))
                        try Posix.fdatasync(fd)
                    }
                    report.truncation = .init(
                        file: LogFormat.fileName(number), offset: outcome.committedEnd,
                        bytesRemoved: size - outcome.committedEnd, reason: damage.reason)
                    size = outcome.committedEnd
                }
            } catch {
                try? Posix.close(fd)
                throw error
            }
            files.set(number, .init(fd: fd, committedSize: size))
            last = (number, fd, size)
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
            let fd = try io("creating the first log file in \(directory)") { () throws(IOError) in
                try LogFileIO.createFile(directory: directory, number: 1, faults: LogFaultInjector())
            }
            let size = UInt64(LogFormat.fileHeaderSize)
            files.set(1, .init(fd: fd, committedSize: size))
            last = (1, fd, size)
        }
        report.duration = ContinuousClock.now - started
        // `last` is set: either by the loop over existing files or by creating the first one just above.
        let writerStart = last!
        return RecoveredLog(
            report: report, lastFile: writerStart.number, lastFD: writerStart.fd, lastSize: writerStart.size,
            nextBatch: nextBatch ?? 1)
    }

    /// Checks the header of a file that has one (see ``removeIfHeaderNeverLanded``).
    private static func checkHeader(fd: Int32, path: String, number: UInt32, size: UInt64) throws(StreamsError) {
        var header = [UInt8](repeating: 0, count: LogFormat.fileHeaderSize)
        let count = try io("reading \(path)") { () throws(IOError) in
            try LogFileIO.readFully(fd, into: &header, at: 0)
        }
        let valid = count == header.count && header.withUnsafeBytes { LogFormat.isValidFileHeader($0, number: number) }
        if !valid { throw LogErrors.corrupt(path, 0, "not a version \(LogFormat.version) log file header for file \(number)") }
    }

    /// A new file's header is made durable before anything else is written to it, so a last file no
    /// longer than a header and without a valid one was being created when a crash came: it holds
    /// nothing and is removed. Returns true if it removed the file.
    private static func removeIfHeaderNeverLanded(directory: String, number: UInt32) throws(StreamsError) -> Bool {
        let path = directory + "/" + LogFormat.fileName(number)
        return try io("checking \(path)") { () throws(IOError) -> Bool in
            let fd = try Posix.open(path, O_RDONLY)
            defer { try? Posix.close(fd) }
            let size = try Posix.fileSize(fd)
            guard size <= Int64(LogFormat.fileHeaderSize) else { return false }
            var header = [UInt8](repeating: 0, count: LogFormat.fileHeaderSize)
            let count = try LogFileIO.readFully(fd, into: &header, at: 0)
            if count == header.count, header.withUnsafeBytes({ LogFormat.isValidFileHeader($0, number: number) }) {
                return false
            }
            try Posix.unlink(path)
            try Posix.syncDirectory(directory)
            return true
        }
    }

    /// Runs `body`, turning a failed system call into a storage error that says what was being done.
    private static func io<T>(_ what: @autoclosure () -> String, _ body: () throws(IOError) -> T) throws(StreamsError) -> T {
        do {
            return try body()
        } catch {
            throw LogErrors.io(what(), error)
        }
    }
}
