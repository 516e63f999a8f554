import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Transport

/// A daemon on the network for the auth, bad-input and reconnect tests: a node manager over memory
/// stores behind the daemon's acceptor and a WebSocket server on 127.0.0.1.
struct NetworkDaemon: Sendable {
    let manager: NodeManager
    let server: WebSocketServer

    /// Starts a daemon; `verifier` checks tokens at ``JWTFixture/now``.
    static func start(
        verifier: JWTVerifier? = nil, allowAnonymous: Bool = true, tls: TLSContext? = nil,
        http: HTTPLimits = .standard, manager: NodeManager? = nil, port: Int = 0
    ) async throws -> NetworkDaemon {
        let manager = manager ?? NodeManager { _ throws(StreamsError) in MemoryStore() }
        let acceptor = DaemonAcceptor(
            manager: manager, verifier: verifier, allowAnonymous: allowAnonymous, nowSeconds: { JWTFixture.now })
        let server = try await WebSocketServer.start(
            configuration: WebSocketServerConfiguration(host: "127.0.0.1", port: port, tls: tls, httpLimits: http),
            group: TestNetwork.group, acceptor: acceptor)
        return NetworkDaemon(manager: manager, server: server)
    }

    var port: Int { server.port }

    /// A provider for this daemon that gives up quickly.
    func provider(token: String? = nil, tls: TLSContext? = nil) throws -> WebSocketProvider {
        var limits = WebSocketClientLimits()
        limits.maxCallAttempts = 3
        limits.backoffInitialMs = 20
        return try WebSocketProvider(
            url: "\(tls == nil ? "ws" : "wss")://127.0.0.1:\(port)", token: { token }, tls: tls, group: TestNetwork.group,
            limits: limits)
    }

    /// Stops the server, then the nodes.
    func stop() async {
        await server.shutdown(graceMs: 1_000)
        await manager.close()
    }
}

/// An HS256 token for the test secret with `scopes` (a JSON array), expiring an hour after
/// ``JWTFixture/now`` unless told otherwise.
func hs256Token(scopes: String = #"["streamkit::*"]"#, exp: Int64? = JWTFixture.now + 3_600) -> String {
    TestJWT.hs256(claims: JWTFixture.claims(exp: exp, scopes: scopes), secret: JWTFixture.secret)
}

extension StreamsError {
    /// The error a throwing call ends with (any other error becomes `internal`), or nil when it succeeds.
    static func of(_ body: () async throws -> Void) async -> StreamsError? {
        do {
            try await body()
            return nil
        } catch {
            return error as? StreamsError ?? .internalError("\(error)")
        }
    }
}
