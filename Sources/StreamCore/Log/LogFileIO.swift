#if canImport(Glibc)
import Glibc
#endif

/// File operations the log repeats, built on ``Posix``.
enum LogFileIO {
    /// Reads until `buffer` is full or the file ends; returns the bytes read.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(IOError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try Posix.pread(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), offset: Int64(offset) + Int64(done))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// ``readFully(_:into:at:)`` into the bytes of `array` from index `from`.
    static func readFully(_ fd: Int32, into array: inout [UInt8], from start: Int = 0, at offset: UInt64) throws(IOError) -> Int {
        // Array's closure-taking accessors rethrow untyped errors; carry the typed one out by hand.
        var result: Result<Int, IOError> = .success(0)
        array.withUnsafeMutableBytes { buffer in
            do throws(IOError) {
                result = .success(try readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]), at: offset))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// `pwrite` of all of `bytes[range]` at `offset`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ range: Range<Int>? = nil, at offset: UInt64) throws(IOError) {
        var failure: IOError?
        bytes.withUnsafeBytes { raw in
            do throws(IOError) {
                try Posix.pwriteAll(fd, UnsafeRawBufferPointer(rebasing: raw[range ?? 0..<raw.count]), offset: Int64(offset))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Writes zeros over `range` of the file.
    static func writeZeros(_ fd: Int32, _ range: Range<UInt64>) throws(IOError) {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let count = Int(min(UInt64(zeros.count), range.upperBound - offset))
            try writeAll(fd, zeros, 0..<count, at: offset)
            offset += UInt64(count)
        }
    }

    /// The source of ``writeZeros(_:_:)``: one for the process, written from as often as needed.
    private static let zeros = [UInt8](repeating: 0, count: 64 << 10)

    /// Creates file `number` in `directory` holding only its header, and makes it and its directory
    /// entry durable before any record goes in, so that a crash can never leave records behind a
    /// header that did not reach the disk. Returns the open descriptor (read-write).
    static func createFile(directory: String, number: UInt32, faults: LogFaultInjector) throws(IOError) -> Int32 {
        let path = directory + "/" + LogFormat.fileName(number)
        let fd = try Posix.open(path, O_RDWR | O_CREAT | O_EXCL)
        do throws(IOError) {
            try faults.check(.write)
            try writeAll(fd, LogFormat.fileHeader(number: number), at: 0)
            try faults.check(.sync)
            try Posix.fdatasync(fd)
            try Posix.syncDirectory(directory)
            return fd
        } catch {
            try? Posix.close(fd)
            try? Posix.unlink(path)
            throw error
        }
    }
}

/// The messages of the errors the log raises.
enum LogErrors {
    /// Damage that recovery must not repair by itself: names the file and the offset.
    static func corrupt(_ path: String, _ offset: UInt64, _ reason: String) -> StreamsError {
        .storage("log file \(path) is damaged at offset \(offset): \(reason)")
    }

    /// A failed system call while doing `what`, carried as the error's cause.
    static func io(_ what: String, _ error: IOError) -> StreamsError {
        .storage("\(what) failed: \(error)", cause: error)
    }
}
