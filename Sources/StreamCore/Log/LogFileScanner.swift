#if canImport(Glibc)
import Glibc
#endif

/// Reads one log file front to back, verifies every frame and hands committed records to `replay`.
///
/// Records are replayed only when their batch's commit frame has been read, so a batch that a crash
/// cut short is never replayed. Zeros from the end of the last batch to the end of the file are the
/// writer's reserve (`LogWriter.reserve`), not damage: the data ends where they start. The file is read
/// in large chunks into one buffer that holds at least the current batch, and payloads are handed out as
/// pointers into that buffer: no allocation per record.
struct LogFileScanner {
    /// Bytes read per `pread` while scanning. 4 MiB amortises the call and the copy of a batch's
    /// unfinished head to the front of the buffer, while keeping the buffer small.
    static let readChunkBytes = 4 << 20

    /// What the scan found.
    struct Outcome {
        /// End of the last intact commit frame (the header's end if there is none).
        var committedEnd: UInt64
        /// The number of the last committed batch, if the file has one.
        var lastBatch: UInt64?
        /// Records replayed.
        var records = 0
        /// Committed batches read.
        var batches = 0
        /// Where the committed prefix stops before the end of the file, and why; nil if it reaches it
        /// or only zeros follow it.
        var damage: Damage?
    }

    /// Where and why a file's committed prefix stops.
    struct Damage {
        /// The offset of the first frame that is not part of the committed prefix.
        var offset: UInt64
        var reason: String
        /// True when an intact commit frame contradicts the log (a wrong batch number or record count):
        /// that is never a torn write, so recovery must not cut it off.
        var contradicts: Bool = false
    }

    let fd: Int32
    let number: UInt32
    let size: UInt64

    /// Scans the frames after the header, up to the first damage. `nextBatch` is the batch number the
    /// first commit frame must carry (nil if not known: the first file of the log). Throws only what
    /// reading or `replay` throws.
    func scan(
        nextBatch: UInt64?,
        replay: (LogPosition, UInt8, UnsafeRawBufferPointer) throws -> Void
    ) throws -> Outcome {
        var window = Window(fd: fd, size: size, base: UInt64(LogFormat.fileHeaderSize))
        defer { window.memory.deallocate() }
        var outcome = Outcome(committedEnd: UInt64(LogFormat.fileHeaderSize))
        var expected = nextBatch
        var starts: [Int] = []  // buffer indices of the current batch's record frames
        var cursor = 0
        var batchStart = 0

        while true {
            let available = window.filled - cursor
            if available < LogFormat.frameHeaderSize {
                if try window.fill(keepingFrom: &batchStart, cursor: &cursor, starts: &starts) { continue }
                if available > 0 {
                    outcome.damage = Damage(offset: window.offset(of: cursor), reason: "incomplete frame header at end of file")
                } else if !starts.isEmpty {
                    outcome.damage = Damage(offset: outcome.committedEnd, reason: "batch without commit frame at end of file")
                }
                break
            }
            let length = LogFormat.payloadLength(window.start + cursor)
            let need = LogFormat.frameHeaderSize + length
            if UInt64(need) > size - window.offset(of: cursor) {
                outcome.damage = Damage(offset: window.offset(of: cursor), reason: "frame of \(length) payload bytes runs past the end of the file")
                break
            }
            if available < need {
                if try window.fill(keepingFrom: &batchStart, cursor: &cursor, starts: &starts) { continue }
                outcome.damage = Damage(offset: window.offset(of: cursor), reason: "file ended while reading a frame it was long enough for")
                break
            }
            let frame = UnsafeRawBufferPointer(rebasing: window.memory[cursor..<(cursor + need)])
            guard LogFormat.isIntact(frame) else {
                outcome.damage = Damage(offset: window.offset(of: cursor), reason: "checksum mismatch")
                break
            }
            if frame[9] & LogFormat.commitFlag == 0 {
                starts.append(cursor)
                cursor += need
                continue
            }
            let offset = window.offset(of: cursor)
            guard let commit = LogFormat.commitContents(frame) else {
                outcome.damage = Damage(offset: offset, reason: "malformed commit frame", contradicts: true)
                break
            }
            if let expected, commit.batch != expected {
                outcome.damage = Damage(
                    offset: offset, reason: "batch \(commit.batch) where batch \(expected) was expected", contradicts: true)
                break
            }
            guard commit.recordCount == starts.count else {
                outcome.damage = Damage(
                    offset: offset, reason: "commit frame counts \(commit.recordCount) records, the batch has \(starts.count)",
                    contradicts: true)
                break
            }
            for start in starts {
                let payloadLength = LogFormat.payloadLength(window.start + start)
                let payloadStart = start + LogFormat.frameHeaderSize
                try replay(
                    LogPosition(file: number, offset: window.offset(of: start)),
                    window.memory[start + 8],
                    UnsafeRawBufferPointer(rebasing: window.memory[payloadStart..<(payloadStart + payloadLength)]))
            }
            outcome.records += starts.count
            outcome.batches += 1
            outcome.lastBatch = commit.batch
            expected = commit.batch + 1
            starts.removeAll(keepingCapacity: true)
            cursor += need
            batchStart = cursor
            outcome.committedEnd = window.offset(of: cursor)
        }
        if let damage = outcome.damage, damage.offset == outcome.committedEnd, try isZero(from: damage.offset) {
            outcome.damage = nil
        }
        return outcome
    }

    /// True when every byte from `start` to the end of the file is zero.
    func isZero(from start: UInt64) throws(IOError) -> Bool {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { chunk.deallocate() }
        var offset = start
        while offset < size {
            let want = Int(min(UInt64(chunk.count), size - offset))
            let got = try LogFileIO.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<want]), at: offset)
            guard got == want else { return false }
            if chunk[0..<got].contains(where: { $0 != 0 }) { return false }
            offset += UInt64(got)
        }
        return true
    }

    /// The offset of the first intact commit frame at or after `start` whose batch number is at least
    /// `minimumBatch`, or nil. Looks at every byte offset, because the frame boundaries after damage
    /// are unknown; cheap, since a candidate must first show a 12-byte length, kind 0 and the commit flag.
    func findCommitFrame(from start: UInt64, minimumBatch: UInt64) throws(IOError) -> UInt64? {
        let frameSize = LogFormat.commitFrameSize
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readChunkBytes, alignment: 16)
        defer { chunk.deallocate() }
        // A non-empty allocation always has a base address.
        let chunkStart = chunk.baseAddress!
        var chunkOffset = start
        while chunkOffset + UInt64(frameSize) <= size {
            let want = Int(min(UInt64(chunk.count), size - chunkOffset))
            let got = try LogFileIO.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<want]), at: chunkOffset)
            guard got >= frameSize else { return nil }
            for i in 0...(got - frameSize) {
                let p = chunkStart + i
                guard LogFormat.payloadLength(p) == LogFormat.commitPayloadSize,
                    p.load(fromByteOffset: 8, as: UInt8.self) == 0,
                    p.load(fromByteOffset: 9, as: UInt8.self) == LogFormat.commitFlag
                else { continue }
                let frame = UnsafeRawBufferPointer(start: p, count: frameSize)
                if LogFormat.isIntact(frame), let commit = LogFormat.commitContents(frame), commit.batch >= minimumBatch {
                    return chunkOffset + UInt64(i)
                }
            }
            // Overlap the next chunk by a frame less one byte, so a frame across the seam is seen.
            chunkOffset += UInt64(got - frameSize + 1)
        }
        return nil
    }
}

/// The part of the file in memory: `memory[0..<filled]` holds the file bytes from offset `base`.
private struct Window {
    let fd: Int32
    let size: UInt64
    var base: UInt64
    var memory: UnsafeMutableRawBufferPointer
    var filled = 0

    init(fd: Int32, size: UInt64, base: UInt64) {
        self.fd = fd
        self.size = size
        self.base = base
        let wanted = min(UInt64(LogFileScanner.readChunkBytes), size > base ? size - base : 0)
        memory = .allocate(byteCount: max(Int(wanted), 4096), alignment: 16)
    }

    /// The buffer's first byte; allocations here are never empty, so they always have an address.
    var start: UnsafeMutableRawPointer { memory.baseAddress! }

    func offset(of index: Int) -> UInt64 { base + UInt64(index) }

    /// Drops the bytes before `keepingFrom` (the current batch's start), moves the rest to the front,
    /// grows the buffer if it is mostly full, and reads more. Returns false at the end of the file.
    mutating func fill(keepingFrom keep: inout Int, cursor: inout Int, starts: inout [Int]) throws(IOError) -> Bool {
        if keep > 0 {
            let kept = filled - keep
            memmove(start, start + keep, kept)
            base += UInt64(keep)
            filled = kept
            cursor -= keep
            for i in starts.indices { starts[i] -= keep }
            keep = 0
        }
        let remainingInFile = size - offset(of: filled)
        if remainingInFile == 0 { return false }
        if memory.count - filled < LogFileScanner.readChunkBytes / 2 {
            // A batch bigger than the buffer (or a frame claiming a large length): grow, bounded by the file.
            let grown = UnsafeMutableRawBufferPointer.allocate(
                byteCount: filled + Int(min(UInt64(LogFileScanner.readChunkBytes), remainingInFile)), alignment: 16)
            // Never empty: it holds at least the bytes already read plus one more.
            grown.baseAddress!.copyMemory(from: start, byteCount: filled)
            memory.deallocate()
            memory = grown
        }
        let want = Int(min(UInt64(memory.count - filled), remainingInFile))
        guard want > 0 else { return false }
        let got = try LogFileIO.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: memory[filled..<(filled + want)]), at: offset(of: filled))
        filled += got
        return got > 0
    }
}
