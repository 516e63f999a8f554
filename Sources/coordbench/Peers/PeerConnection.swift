import StreamCore
import Synchronization
import Transport

/// Where a peer listens: always a loopback address in coordbench.
struct Endpoint: Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    var description: String { "\(host):\(port)" }

    /// Parses `HOST:PORT`.
    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        host = String(text[..<colon])
        self.port = port
    }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// A peer closed the connection, or answered something the driver cannot use.
struct PeerError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}

/// Bytes received on one connection, handed from its event loop to the one task that reads them.
final class Inbox: Sendable {
    private struct State {
        var pending: [UInt8] = []
        var ended = false
        var error: IOError?
    }

    private let state = Mutex(State())
    private let wakeup = Wakeup()

    /// Called on the loop with bytes just read.
    func deliver(_ bytes: UnsafeRawBufferPointer) {
        state.withLock { $0.pending.append(contentsOf: bytes) }
        wakeup.signal()
    }

    /// Called on the loop when the connection closed.
    func finish(_ error: IOError?) {
        state.withLock {
            $0.ended = true
            $0.error = error
        }
        wakeup.signal()
    }

    /// Waits for bytes and takes all that arrived; empty once the connection has ended and everything
    /// was taken (with the error it ended with).
    func take() async -> (bytes: [UInt8], error: IOError?) {
        while true {
            let taken = state.withLock { s -> (bytes: [UInt8], error: IOError?)? in
                if !s.pending.isEmpty {
                    defer { s.pending = [] }
                    return (s.pending, nil)
                }
                return s.ended ? ([], s.error) : nil
            }
            if let taken { return taken }
            // Cancellation also wakes the waiter; a cancelled reader ends as if the connection had.
            if Task.isCancelled { return ([], nil) }
            await wakeup.wait()
        }
    }
}

/// The loop-side half: hands reads and the close to the inbox.
private final class InboxHandler: ConnectionHandler {
    let inbox: Inbox

    init(inbox: Inbox) { self.inbox = inbox }

    func didRead(_ bytes: UnsafeRawBufferPointer) { inbox.deliver(bytes) }
    func writabilityChanged(_ writable: Bool) {}
    func didClose(_ error: IOError?) { inbox.finish(error) }
}

/// A client TCP connection over the project's epoll runtime, read by one task at a time: the byte
/// layer under the RESP and HTTP drivers. Requests are written through the connection's loop; replies
/// are parsed in the reading task from a buffer of the bytes not consumed yet.
final class PeerConnection {
    let connection: TCPConnection
    private let inbox: Inbox
    /// The loop the connection reads on.
    var eventLoop: EventLoop { connection.loop }
    private var buffer: [UInt8] = []
    private var start = 0

    private init(connection: TCPConnection, inbox: Inbox) {
        self.connection = connection
        self.inbox = inbox
    }

    /// Connects to `endpoint` on `loop`.
    static func connect(to endpoint: Endpoint, on loop: EventLoop) async throws -> PeerConnection {
        let inbox = Inbox()
        let connection = try await TCPConnection.connect(host: endpoint.host, port: endpoint.port, on: loop) { _ in
            InboxHandler(inbox: inbox)
        }
        return PeerConnection(connection: connection, inbox: inbox)
    }

    /// Queues `bytes` for sending (written at the end of the loop's current turn).
    func send(_ bytes: [UInt8]) {
        connection.execute { $0.write(bytes) }
    }

    /// Closes the connection after flushing what was queued.
    func close() {
        connection.execute { $0.close() }
    }

    /// Closes the connection from any task; a read waiting in the owning task then ends.
    var closer: @Sendable () -> Void {
        let connection = self.connection
        return { connection.execute { $0.close() } }
    }

    /// Calls `parse` with the bytes received and not consumed yet until it returns a value. `parse`
    /// says how many bytes it consumed; it returns nil when it needs more, which are then awaited.
    /// Throws when the connection ends first.
    func read<T>(_ parse: (UnsafeRawBufferPointer) throws -> (value: T?, consumed: Int)) async throws -> T {
        while true {
            let (value, consumed) = try buffer.withUnsafeBytes { try parse(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            start += consumed
            if let value {
                compact()
                return value
            }
            let (more, error) = await inbox.take()
            guard !more.isEmpty else {
                throw PeerError("connection closed" + (error.map { ": \($0)" } ?? " by the peer"))
            }
            if start == buffer.count {
                buffer = more
                start = 0
            } else {
                buffer.append(contentsOf: more)
            }
        }
    }

    /// Drops consumed bytes once they are most of the buffer, so it does not grow with the traffic.
    private func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 64 * 1024 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
