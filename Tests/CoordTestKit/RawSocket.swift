import Dispatch
import Glibc
import StreamCore

/// A plain blocking TCP client to 127.0.0.1 for tests that must send bytes no well-behaved client
/// would. Every blocking call runs on a Dispatch thread, never on the test's cooperative thread (the
/// server under test needs those threads to answer), and gives up after its timeout.
public final class RawSocket: Sendable {
    /// The descriptor.
    public let fd: Int32
    private let queue = DispatchQueue(label: "coordd.test.raw-socket")

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        Glibc.close(fd)
    }

    /// Connects to `127.0.0.1:port` and sends `initial` right away, in one step on a Dispatch thread: a
    /// test task may wait long for a thread on a loaded machine, and a server's header timeout runs
    /// from the connect, so the request must not wait for the task.
    /// With `receiveBufferBytes`, the socket's receive buffer is set that small before connecting, so a
    /// client that reads nothing makes the server hold what it sends instead of the kernel.
    public static func connect(port: Int, sending initial: [UInt8] = [], receiveBufferBytes: Int? = nil) async throws -> RawSocket {
        try await offPool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw IOError(errno: errno, call: "socket") }
            if var size = receiveBufferBytes.map(Int32.init) {
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard rc == 0 else {
                let error = IOError(errno: errno, call: "connect")
                Glibc.close(fd)
                throw error
            }
            let socket = RawSocket(fd: fd)
            // A server that refuses the bytes may close before all are sent; the reads then show it.
            try? socket.sendBlocking(initial)
            return socket
        }
    }

    /// Sends every byte (fails after 10 s without progress).
    public func send(_ bytes: [UInt8]) async throws {
        try await run { try self.sendBlocking(bytes) }
    }

    private func sendBlocking(_ bytes: [UInt8]) throws {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < bytes.count {
            // `bytes` is not empty here, so its base address is not nil.
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw IOError(errno: errno, call: "send")
            }
            sent += count
        }
    }

    /// Up to `maxBytes`; empty at the peer's end of stream (or a reset). Throws after `timeoutMs`
    /// without data.
    public func receive(maxBytes: Int = 64 * 1024, timeoutMs: Int = 5_000) async throws -> [UInt8] {
        let fd = self.fd
        return try await run {
            var timeout = timeval(tv_sec: timeoutMs / 1_000, tv_usec: (timeoutMs % 1_000) * 1_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: maxBytes)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count >= 0 { return Array(buffer.prefix(count)) }
                if errno == EINTR { continue }
                if errno == ECONNRESET { return [] }
                throw IOError(errno: errno, call: "recv")
            }
        }
    }

    /// Everything until the peer closes; throws when it has not closed within `timeoutMs`.
    public func receiveUntilClosed(timeoutMs: Int = 5_000) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        var all: [UInt8] = []
        while true {
            let left = deadline - ContinuousClock.now
            let leftMs = Int(left.wholeMilliseconds)
            guard leftMs > 0 else { throw IOError(errno: ETIMEDOUT, call: "receive until closed") }
            let chunk = try await receive(timeoutMs: leftMs)
            if chunk.isEmpty { return all }
            all.append(contentsOf: chunk)
        }
    }

    /// Stops sending (the peer reads its end of stream) without closing the descriptor.
    public func shutdownWrite() {
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result(catching: body)) }
        }
    }

    /// A queue of its own (serial queues get a thread even when the shared pool is busy).
    private static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "coordd.test.raw-socket.connect").async { continuation.resume(with: Result(catching: body)) }
        }
    }
}
