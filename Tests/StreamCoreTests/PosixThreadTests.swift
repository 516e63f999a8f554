import Glibc
import StreamCore
import Synchronization
import Testing

struct PosixThreadTests {
    /// A started thread runs its body under the name given (cut to the 15 bytes Linux keeps).
    @Test func aStartedThreadRunsItsBodyUnderItsName() async throws {
        let seen = Mutex<String?>(nil)
        let done = ThreadSemaphore()
        try Posix.startDetachedThread(name: "coordd-test-thread-name") {
            let fd = Glibc.open("/proc/thread-self/comm", O_RDONLY)
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            Glibc.close(fd)
            seen.withLock { $0 = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) }
            done.signal()
        }
        // The body signals at once; waiting on a thread of its own keeps the pool free.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            do {
                try Posix.startDetachedThread(name: "waiter") {
                    done.wait()
                    continuation.resume()
                }
            } catch {
                continuation.resume()
            }
        }
        #expect(seen.withLock { $0 } == "coordd-test-thr\n")
    }
}
