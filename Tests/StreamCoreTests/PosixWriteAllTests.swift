import Dispatch
import Foundation
import Glibc
import StreamCore
import Testing

/// The one write loop for streams: every byte arrives, in order, though a pipe takes only part of a
/// large write at a time.
@Suite struct PosixWriteAllTests {
    @Test func aWriteLargerThanThePipeArrivesWholeThroughShortWrites() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // Four times the default pipe capacity (64 KiB), so write(2) must return short at least once.
        let sent = (0..<(256 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let received = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var got: [UInt8] = []
        // A thread of its own: the write below blocks this one until the reader drains the pipe.
        Thread {
            var buffer = [UInt8](repeating: 0, count: 16 << 10)
            // Bounded: ends at end of file, which closing the write end below brings.
            while true {
                let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                got.append(contentsOf: buffer[..<n])
            }
            received.signal()
        }.start()
        try sent.withUnsafeBytes { try Posix.writeAll(writeEnd, $0) }
        close(writeEnd)
        #expect(received.wait(timeout: .now() + 30) == .success)
        close(readEnd)
        #expect(got == sent)
    }

    @Test func aPipeWithoutReaderIsAnErrorNotATrap() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        // Ignored and left so, as the daemon and coordctl run: restoring the default mid-suite could kill
        // the process when another test writes to a closed socket.
        signal(SIGPIPE, SIG_IGN)
        defer { close(fds[1]) }
        #expect(throws: IOError(errno: EPIPE, call: "write")) {
            try [UInt8]([1, 2, 3]).withUnsafeBytes { try Posix.writeAll(fds[1], $0) }
        }
    }
}
