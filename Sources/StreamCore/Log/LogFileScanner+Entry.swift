#if canImport(Glibc)
import Glibc
#endif

/// What scanning a log file's frames found, for the public parsing entry point.
public struct LogFileScanSummary: Sendable, Hashable {
    /// Records of committed batches that were handed out.
    public var records: Int
    /// Committed batches read.
    public var batches: Int
    /// End of the last intact commit frame.
    public var committedEnd: UInt64
    /// Why the committed prefix stops before the end of the file; nil when it reaches it.
    public var damage: String?
}

extension LogInspection {
    /// The log file scanner's parsing entry point for arbitrary bytes: scans `frames` as the frames after a
    /// log file's header (the header itself is checked separately, before any scan), exactly as recovery
    /// scans a file it opens, and returns what it found. The bytes are written to `scratchPath` (created
    /// or truncated) first, since the scanner reads a file with `pread`.
    public static func scanFrames(_ frames: [UInt8], scratchPath: String) throws -> LogFileScanSummary {
        let fd = try Posix.open(scratchPath, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        defer { try? Posix.close(fd) }
        let file = LogFormat.fileHeader(number: 1) + frames
        try file.withUnsafeBytes { try Posix.pwriteAll(fd, $0, offset: 0) }
        let outcome = try LogFileScanner(fd: fd, number: 1, size: UInt64(file.count)).scan(nextBatch: nil) { _, _, payload in
            // Touch every byte handed out, as replay does, so a payload outside the buffer is found.
            _ = payload.reduce(0 as UInt8) { $0 &+ $1 }
        }
        return LogFileScanSummary(
            records: outcome.records, batches: outcome.batches, committedEnd: outcome.committedEnd,
            damage: outcome.damage?.reason)
    }
}
