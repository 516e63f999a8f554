import CorePrimitives
import StreamCore
import Synchronization

/// The network front of the daemon: a listener whose connections speak TLS (optionally), HTTP/1.1
/// and the streamkit WebSocket mux at ``WebSocketServerConfiguration/path`` (streamkit v1 §3.2–3.4).
///
/// Each accepted connection lives on one loop of the group: its request head must arrive within the
/// header timeout; `GET <path>` upgrades once the ``StreamAcceptor`` authorizes it (401 before the
/// upgrade otherwise), any other request gets the acceptor's plain answer (404 by default) and the
/// connection closes. After the upgrade every text frame is one mux frame; a data frame on a new
/// channel opens a stream that the acceptor routes to its store.
public final class WebSocketServer: Sendable {
    /// The address bound (with the kernel's port when 0 was asked for).
    public let localAddress: SocketAddress
    private let listener: TCPListener
    private let connections: ServerConnections

    /// The bound port.
    public var port: Int { localAddress.port }

    /// Connections open now (before and after their upgrade).
    public var connectionCount: Int { connections.count }

    /// Connections open now that were upgraded to a WebSocket (not plain requests such as a scrape of
    /// `/metrics`, nor connections still in their handshake).
    public var webSocketCount: Int { connections.webSocketCount }

    private init(listener: TCPListener, connections: ServerConnections) {
        self.listener = listener
        self.connections = connections
        localAddress = listener.localAddress
    }

    /// Binds and starts accepting on `group`.
    public static func start(
        configuration: WebSocketServerConfiguration, group: EventLoopGroup, acceptor: any StreamAcceptor
    ) async throws(IOError) -> WebSocketServer {
        let connections = ServerConnections()
        let context = WebSocketServerContext(configuration: configuration, acceptor: acceptor, connections: connections)
        let listener = try await TCPListener.bind(host: configuration.host, port: configuration.port, group: group) { tcp in
            WebSocketConnection.accepted(tcp, context: context)
        }
        return WebSocketServer(listener: listener, connections: connections)
    }

    /// Stops accepting, ends every stream with `server shutting down` (a `mux::close` the peer reads
    /// after what it was already sent), closes each WebSocket with 1001 going away, flushes and closes
    /// the sockets. Whatever has not closed after `graceMs` is closed at once. Idempotent.
    public func shutdown(graceMs: Int) async {
        await listener.stop()
        let open = connections.beginShutdown()
        for connection in open {
            connection.tcp.execute { _ in connection.shutDown(.shuttingDown) }
        }
        let clock = ContinuousClock()
        let drained = connections.drained
        if await !drained.wait(until: clock.now + .milliseconds(max(0, graceMs)), clock: clock) {
            for connection in connections.snapshot() {
                connection.tcp.execute { _ in connection.closeNow() }
            }
            // Closing at once takes one turn of each loop; bounded so a stopped loop cannot hang this.
            _ = await drained.wait(until: clock.now + .seconds(1), clock: clock)
        }
    }

    /// Opened once the server is shutting down and its last connection has closed.
    public var drained: Latch { connections.drained }
}

/// The server's open connections, so a shutdown can reach each one.
final class ServerConnections: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: WebSocketConnection] = [:]
        /// The connections among them that were upgraded.
        var webSockets: Set<ObjectIdentifier> = []
        var shuttingDown = false
    }

    private let state = Mutex(State())
    /// Opened once shutting down with no connection left: what a drain waits for.
    let drained = Latch()

    var count: Int { state.withLock { $0.connections.count } }

    var webSocketCount: Int { state.withLock { $0.webSockets.count } }

    /// Records a new connection; false once the server is shutting down.
    func add(_ connection: WebSocketConnection) -> Bool {
        state.withLock { s in
            guard !s.shuttingDown else { return false }
            s.connections[ObjectIdentifier(connection)] = connection
            return true
        }
    }

    /// Records that a connection was upgraded to a WebSocket.
    func upgraded(_ connection: WebSocketConnection) {
        let id = ObjectIdentifier(connection)
        state.withLock { s in
            if s.connections[id] != nil { s.webSockets.insert(id) }
        }
    }

    /// Forgets a closed connection; true when it was an upgraded one.
    @discardableResult
    func remove(_ connection: WebSocketConnection) -> Bool {
        let id = ObjectIdentifier(connection)
        let (wasWebSocket, nowDrained) = state.withLock { s in
            s.connections[id] = nil
            return (s.webSockets.remove(id) != nil, s.shuttingDown && s.connections.isEmpty)
        }
        if nowDrained { drained.open() }
        return wasWebSocket
    }

    /// Refuses later connections and returns the open ones.
    func beginShutdown() -> [WebSocketConnection] {
        let open = state.withLock { s in
            s.shuttingDown = true
            return Array(s.connections.values)
        }
        if open.isEmpty { drained.open() }
        return open
    }

    func snapshot() -> [WebSocketConnection] {
        state.withLock { Array($0.connections.values) }
    }
}
