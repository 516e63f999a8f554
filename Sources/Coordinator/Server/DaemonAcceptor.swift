import StreamCore
import Transport

extension StoreScopes: ConnectionAuthorization {
    /// True when the token's scopes cover `store` (checked on every data frame).
    public func allows(store: WireUUID) -> Bool {
        allows(storeUUIDBytes: store.bytes)
    }
}

/// The daemon's ``StreamAcceptor``: bearer tokens decide which stores a connection may use, new streams
/// go to their store's node, and plain requests (`/healthz`, `/readyz`, `/metrics`) are answered by
/// the daemon's closure.
///
/// - `Authorization: Bearer <jwt>` (scheme in any case) is verified by the ``JWTVerifier``; its
///   `scopes` claim gives the stores (streamkit v1 §3.2). A missing, malformed or refused token is
///   answered 401 with the reason as the body.
/// - A browser, which cannot set `Authorization` on a WebSocket, sends the token in a
///   `Sec-WebSocket-Protocol` value instead (``WebSocketSubprotocol/bearerPrefix``); it is checked
///   the same way. A request carrying a token both ways is refused, so no one is unsure which counted.
/// - Without a verifier, or without a token, a connection is anonymous: allowed every store only when
///   the acceptor was built with `allowAnonymous` (the daemon sets it for loopback listeners or when
///   asked to), refused with 401 otherwise.
public struct DaemonAcceptor: StreamAcceptor {
    private let manager: NodeManager
    private let verifier: JWTVerifier?
    private let allowAnonymous: Bool
    private let nowSeconds: @Sendable () -> Int64
    private let plainResponder: @Sendable (HTTPRequestHead) -> HTTPResponse?

    /// Creates an acceptor.
    ///
    /// - Parameters:
    ///   - manager: routes each new stream to its store's node.
    ///   - verifier: checks bearer tokens; nil when no key is configured.
    ///   - allowAnonymous: connections without a token may use every store.
    ///   - nowSeconds: the clock tokens are checked against (Unix seconds).
    ///   - respond: answers plain HTTP requests; nil → 404.
    public init(
        manager: NodeManager, verifier: JWTVerifier?, allowAnonymous: Bool,
        nowSeconds: @escaping @Sendable () -> Int64 = { SystemWallClock().nowMs() / 1_000 },
        respond: @escaping @Sendable (HTTPRequestHead) -> HTTPResponse? = { _ in nil }
    ) {
        self.manager = manager
        self.verifier = verifier
        self.allowAnonymous = allowAnonymous
        self.nowSeconds = nowSeconds
        plainResponder = respond
    }

    /// The stores the request's bearer token grants, every store for an allowed anonymous request,
    /// or a 401 with the reason.
    public func authorize(_ request: HTTPRequestHead, peer: SocketAddress?) -> Result<any ConnectionAuthorization, HTTPResponse> {
        let token: String
        switch Self.bearerToken(in: request.headers) {
        case .invalid(let reason):
            return .failure(Self.unauthorized(reason))
        case .none:
            if allowAnonymous { return .success(AllStoresAuthorization()) }
            return .failure(Self.unauthorized("missing bearer token"))
        case .token(let found):
            token = found
        }
        guard let verifier else {
            if allowAnonymous { return .success(AllStoresAuthorization()) }
            return .failure(Self.unauthorized("this server verifies no tokens and refuses anonymous access"))
        }
        do throws(JWTRejection) {
            return .success(try verifier.authorize(token: token, now: nowSeconds()))
        } catch {
            return .failure(Self.unauthorized(error.description))
        }
    }

    /// The request's bearer token: from `Authorization`, or from a `Sec-WebSocket-Protocol` value.
    static func bearerToken(in headers: HTTPHeaders) -> WebSocketSubprotocol.BearerOffer {
        let offered = WebSocketSubprotocol.bearerToken(in: WebSocketSubprotocol.offered(in: headers))
        guard let header = headers["Authorization"] else { return offered }
        guard offered == .none else {
            return .invalid("a bearer token in both Authorization and Sec-WebSocket-Protocol; send one")
        }
        guard let token = JWTVerifier.bearerToken(fromAuthorization: header) else {
            return .invalid("the Authorization header is not \"Bearer <token>\"")
        }
        return .token(String(token))
    }

    /// Hands the stream to its store's node (opening the store on first use).
    public func accept(store: WireUUID, stream: any BidiStream) async throws(StreamsError) {
        try await manager.accept(store: store, stream: stream)
    }

    /// The daemon's answer to a plain request (health, readiness, metrics), nil for 404.
    public func respond(to request: HTTPRequestHead) -> HTTPResponse? {
        plainResponder(request)
    }

    /// 401 with the reason as a one-line body.
    private static func unauthorized(_ reason: String) -> HTTPResponse {
        HTTPResponse.text(status: 401, reason + "\n", headers: ["WWW-Authenticate": "Bearer"], closeConnection: true)
    }
}
