import CoordTestKit
import Dispatch
import Glibc
import StreamCore
import Synchronization
import Testing
@testable import Transport

/// What the runtime's tests share: bounded waiting, seeded bytes, recording handlers, and a
/// plain blocking socket to play the peer.
enum RuntimeTests {
    /// Polls `condition` every few milliseconds until it holds or `timeoutMs` passes; returns
    /// whether it held. Every wait in these tests goes through here, so none is unbounded.
    static func waitUntil(timeoutMs: Int = 20_000, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    /// Runs `body` on a thread of its own and waits for it without blocking the test's own thread
    /// (used for calls that block, such as `EventLoopGroup.shutdownGracefully`).
    static func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        // `body` cannot throw.
        try! await onBlockingThread(body)
    }
}


/// What a connection's handler saw, readable from the test's thread.
final class ConnectionProbe: Sendable {
    struct Record {
        var received: [UInt8] = []
        var writability: [Bool] = []
        var closed = false
        var closeError: IOError?
        var connection: TCPConnection?
    }

    let record = Mutex(Record())

    var received: [UInt8] { record.withLock { $0.received } }
    var receivedCount: Int { record.withLock { $0.received.count } }
    var writability: [Bool] { record.withLock { $0.writability } }
    var isClosed: Bool { record.withLock { $0.closed } }
    var closeError: IOError? { record.withLock { $0.closeError } }
    var connection: TCPConnection? { record.withLock { $0.connection } }
}

/// A handler that records into a probe and, when asked, echoes what it reads.
final class RecordingHandler: ConnectionHandler {
    let probe: ConnectionProbe
    let connection: TCPConnection
    let echoes: Bool

    init(_ connection: TCPConnection, probe: ConnectionProbe, echoes: Bool = false) {
        self.connection = connection
        self.probe = probe
        self.echoes = echoes
        probe.record.withLock { $0.connection = connection }
    }

    func didRead(_ bytes: UnsafeRawBufferPointer) {
        if echoes {
            connection.write(Array(bytes))
        } else {
            probe.record.withLock { $0.received.append(contentsOf: bytes) }
        }
    }

    func writabilityChanged(_ writable: Bool) {
        probe.record.withLock { $0.writability.append(writable) }
    }

    func didClose(_ error: IOError?) {
        probe.record.withLock {
            $0.closed = true
            $0.closeError = error
        }
    }
}

/// Hands out one probe per accepted connection, in accept order.
final class ProbeList: Sendable {
    private let probes = Mutex<[ConnectionProbe]>([])

    func add() -> ConnectionProbe {
        let probe = ConnectionProbe()
        probes.withLock { $0.append(probe) }
        return probe
    }

    var all: [ConnectionProbe] { probes.withLock { $0 } }
    var count: Int { probes.withLock { $0.count } }
}

/// A blocking client socket with receive and send timeouts: the simplest possible peer.
final class BlockingSocket: Sendable {
    let fd: Int32
    private let isClosed = Atomic<Bool>(false)

    /// Connects to `address`; every later send or receive gives up after `timeoutMs`.
    init(connectingTo address: SocketAddress, timeoutMs: Int = 10_000) throws(IOError) {
        let family = address.family == .ipv4 ? AF_INET : AF_INET6
        fd = try Posix.call("socket") { socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        let size = socklen_t(MemoryLayout<timeval>.size)
        // A throw from here on runs deinit (every property is set), which closes the socket.
        _ = try Posix.call("setsockopt") { setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, size) }
        _ = try Posix.call("setsockopt") { setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, size) }
        _ = try Posix.call("connect") { address.withSockAddr { Glibc.connect(fd, $0, $1) } }
    }

    deinit { close() }

    func close() {
        guard !isClosed.exchange(true, ordering: .relaxed) else { return }
        try? Posix.close(fd)
    }

    func send(_ bytes: [UInt8]) throws(IOError) {
        var sent = 0
        while sent < bytes.count {
            let count = try bytes.withUnsafeBytes { buffer in
                Result { () throws(IOError) in
                    try Posix.call("send") {
                        Glibc.send(fd, buffer.baseAddress! + sent, buffer.count - sent, Int32(MSG_NOSIGNAL))
                    }
                }
            }.get()
            sent += count
        }
    }

    /// Up to `maxBytes`; empty at the peer's end of stream. Throws `EAGAIN` on timeout.
    func receive(maxBytes: Int = 64 * 1024) throws(IOError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        let count = try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(IOError) in try Posix.call("recv") { recv(fd, raw.baseAddress, raw.count, 0) } }
        }.get()
        return Array(buffer.prefix(count))
    }

    /// Reads until `count` bytes arrived (or the stream ended first).
    func receive(exactly count: Int) throws(IOError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            let chunk = try receive(maxBytes: min(256 * 1024, count - bytes.count))
            if chunk.isEmpty { break }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }

    /// Reads until the end of stream; returns how many bytes came before it.
    func receiveUntilEnd() throws(IOError) -> Int {
        var total = 0
        while true {
            let chunk = try receive(maxBytes: 256 * 1024)
            if chunk.isEmpty { return total }
            total += chunk.count
        }
    }
}
