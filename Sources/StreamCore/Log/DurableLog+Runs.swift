#if canImport(Glibc)
import Glibc
#endif

/// Reading many records at once: the entries of a page of a read were mostly written together, so their
/// frames lie close to each other in the log. Reading each with a `pread` of its own cost a system call
/// and a 4 KiB copy per record, for records of a hundred bytes.
extension DurableLog {
    /// How far apart records may lie to share one `pread`: consecutive positions at most
    /// ``maxRunGapBytes`` apart, a run spanning at most ``maxRunBytes``. A gap of 64 KiB lets a run go on
    /// past a record of that size or past a few chunks of other segments, whose bytes are read and
    /// skipped; a 1 MiB run keeps the buffer of one read small.
    static let maxRunGapBytes: UInt64 = 64 << 10
    static let maxRunBytes: UInt64 = 1 << 20
    /// Read past a run's last record's start: that record's length is only known from its header, and
    /// most records are shorter than this. A longer one is read by itself.
    static let runTailBytes: UInt64 = 4096

    /// Reads back the records at `positions`, in their order, as ``read(at:)`` does each: records close
    /// together in one file are read with one `pread` per run of them.
    public func read(at positions: [LogPosition]) throws(StreamsError) -> [LogRecord] {
        var records: [LogRecord] = []
        records.reserveCapacity(positions.count)
        var start = positions.startIndex
        while start < positions.endIndex {
            var end = start + 1
            while end < positions.endIndex, Self.continuesRun(positions[end], after: positions[end - 1], from: positions[start]) {
                end += 1
            }
            try readRun(positions[start..<end], into: &records)
            start = end
        }
        return records
    }

    private static func continuesRun(_ next: LogPosition, after previous: LogPosition, from first: LogPosition) -> Bool {
        next.file == first.file && next.offset > previous.offset && next.offset - previous.offset <= maxRunGapBytes
            && next.offset - first.offset <= maxRunBytes
    }

    /// One `pread` from the run's first record to a tail past its last; each record found whole in it is
    /// taken from there, any other (longer than the tail, or in doubt) read by itself.
    private func readRun(_ run: ArraySlice<LogPosition>, into records: inout [LogRecord]) throws(StreamsError) {
        guard run.count > 1, let first = run.first, let last = run.last, let file = files.entry(first.file),
              first.offset >= UInt64(LogFormat.fileHeaderSize), first.offset < file.committedSize
        else {
            for position in run { records.append(try read(at: position)) }
            return
        }
        let end = min(last.offset + Self.runTailBytes, file.committedSize)
        var buffer = [UInt8](repeating: 0, count: Int(end - first.offset))
        do throws(IOError) {
            guard try LogFileIO.readFully(file.fd, into: &buffer, at: first.offset) == buffer.count else {
                throw IOError(errno: EIO, call: "pread")
            }
        } catch {
            throw LogErrors.io("reading \(first)", error)
        }
        let header = LogFormat.frameHeaderSize
        for position in run {
            let found = buffer.withUnsafeBytes { bytes -> Result<LogRecord, StreamsError>? in
                let at = Int(position.offset - first.offset)
                guard at + header <= bytes.count else { return nil }
                let frameEnd = at + header + LogFormat.payloadLength(bytes.baseAddress! + at)
                guard frameEnd <= bytes.count else { return nil }
                return Self.record(frame: UnsafeRawBufferPointer(rebasing: bytes[at..<frameEnd]), at: position)
            }
            if let found {
                records.append(try found.get())
            } else {
                records.append(try read(at: position))
            }
        }
    }
}
