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
/// - `/metrics` needs a token when the acceptor is built with `metricsNeedToken` (the daemon sets it
///   when connections need one, unless `--metrics-anonymous`): a bearer token that verifies and
///   carries ``metricsScope`` or `streamkit::*` (metrics name every store), 401 without one, 403 for
///   a valid token without either scope.
///
/// - With a ``DaemonCluster``, a token made from the cluster secret (``ClusterCredential``) is accepted
///   too, as another daemon's link, and each new stream goes where the cluster's router says: to this
///   daemon's node, or forwarded to the store's owner. Store scopes are checked on every data frame
///   before the stream reaches here, so a client reaches through a forward only the stores it may use.
///
/// Every refusal is reported to the ``ServerEventLog`` with its reason, never with the token.
public struct DaemonAcceptor: StreamAcceptor {
    /// The scope that grants `/metrics` and nothing else, for a scraper's token.
    public static let metricsScope = "coordd::metrics"

    private let manager: NodeManager
    private let verifier: JWTVerifier?
    private let allowAnonymous: Bool
    private let metricsNeedToken: Bool
    private let events: ServerEventLog?
    private let nowSeconds: @Sendable () -> Int64
    private let plainResponder: @Sendable (HTTPRequestHead) -> HTTPResponse?
    private let cluster: DaemonCluster?

    /// Creates an acceptor.
    ///
    /// - Parameters:
    ///   - manager: routes each new stream to its store's node.
    ///   - verifier: checks bearer tokens; nil when no key is configured.
    ///   - allowAnonymous: connections without a token may use every store.
    ///   - metricsNeedToken: `/metrics` is answered only to a token with the metrics scope or every store.
    ///   - events: where refusals are reported.
    ///   - nowSeconds: the clock tokens are checked against (Unix seconds).
    ///   - respond: answers plain HTTP requests; nil → 404.
    ///   - cluster: routes and forwards streams, and accepts other daemons' links; nil serves every
    ///     store here.
    public init(
        manager: NodeManager, verifier: JWTVerifier?, allowAnonymous: Bool, metricsNeedToken: Bool = false,
        events: ServerEventLog? = nil, cluster: DaemonCluster? = nil,
        nowSeconds: @escaping @Sendable () -> Int64 = { SystemWallClock().nowMs() / 1_000 },
        respond: @escaping @Sendable (HTTPRequestHead) -> HTTPResponse? = { _ in nil }
    ) {
        self.manager = manager
        self.verifier = verifier
        self.allowAnonymous = allowAnonymous
        self.metricsNeedToken = metricsNeedToken
        self.events = events
        self.nowSeconds = nowSeconds
        plainResponder = respond
        self.cluster = cluster
    }

    /// The stores the request's bearer token grants, every store for an allowed anonymous request,
    /// or a 401 with the reason.
    public func authorize(_ request: HTTPRequestHead, peer: SocketAddress?) -> Result<any ConnectionAuthorization, HTTPResponse> {
        let token: String
        switch Self.bearerToken(in: request.headers) {
        case .invalid(let reason):
            return .failure(refuse(request, peer, reason: "invalid_authorization", reason))
        case .none:
            if allowAnonymous { return .success(AllStoresAuthorization()) }
            return .failure(refuse(request, peer, reason: "missing_token", "missing bearer token"))
        case .token(let found):
            token = found
        }
        if let link = cluster?.credential?.authorize(token: token, now: nowSeconds()) { return .success(link) }
        guard let verifier else {
            if allowAnonymous { return .success(AllStoresAuthorization()) }
            return .failure(refuse(request, peer, reason: "no_token_key",
                                   "this server verifies no tokens and refuses anonymous access"))
        }
        do throws(JWTRejection) {
            return .success(try verifier.authorize(token: token, now: nowSeconds()))
        } catch {
            return .failure(refuse(request, peer, reason: error.name, error.description))
        }
    }

    /// The answer to `/metrics` from a request without the credentials it needs, or nil to serve it.
    private func metricsRefusal(_ request: HTTPRequestHead) -> HTTPResponse? {
        guard metricsNeedToken else { return nil }
        let token: String
        switch Self.bearerToken(in: request.headers) {
        case .invalid(let reason):
            return refuse(request, nil, reason: "invalid_authorization", reason)
        case .none:
            return refuse(request, nil, reason: "missing_token", "missing bearer token")
        case .token(let found):
            token = found
        }
        guard let verifier else {
            return refuse(request, nil, reason: "no_token_key", "this server verifies no tokens")
        }
        let scopes: [String]
        do throws(JWTRejection) {
            scopes = try verifier.verify(token, now: nowSeconds()).scopes
        } catch {
            return refuse(request, nil, reason: error.name, error.description)
        }
        guard scopes.contains(Self.metricsScope) || scopes.contains(StoreScopes.allStoresScope) else {
            let detail = "the token's scopes grant neither \(Self.metricsScope) nor \(StoreScopes.allStoresScope)"
            events?.authRejected(reason: "insufficient_scope", detail: detail, peer: nil, path: String(request.path))
            return HTTPResponse.text(status: 403, detail + "\n", closeConnection: true)
        }
        return nil
    }

    /// Reports a refusal and answers it with 401 and the reason (`detail`) as a one-line body.
    private func refuse(_ request: HTTPRequestHead, _ peer: SocketAddress?, reason: String, _ detail: String) -> HTTPResponse {
        events?.authRejected(reason: reason, detail: detail, peer: peer, path: String(request.path))
        return Self.unauthorized(detail)
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
        try await accept(store: store, stream: stream, authorization: AllStoresAuthorization())
    }

    /// Hands the stream to its store's node, or to the forwarder when the cluster routes the store to
    /// another daemon.
    public func accept(store: WireUUID, stream: any BidiStream, authorization: any ConnectionAuthorization)
        async throws(StreamsError)
    {
        guard let cluster else { return try await manager.accept(store: store, stream: stream) }
        try await cluster.accept(store: store, stream: stream, authorization: authorization, manager: manager)
    }

    /// Serves a new stream at once when its store is open here and, in a cluster, owned here
    /// (``NodeManager/serveAtOnce(store:request:stream:)``); false otherwise, and nothing was done.
    public func serveAtOnce(store: WireUUID, request: [UInt8], stream: any BidiStream,
                            authorization: any ConnectionAuthorization) -> Bool {
        if let cluster, !cluster.router.servesHereNow(store) { return false }
        return manager.serveAtOnce(store: store, request: request, stream: stream)
    }

    /// The daemon's answer to a plain request (health, readiness, metrics), nil for 404; `/metrics`
    /// only with the credentials it needs.
    public func respond(to request: HTTPRequestHead) -> HTTPResponse? {
        if request.path == "/metrics", let refusal = metricsRefusal(request) { return refusal }
        return plainResponder(request)
    }

    /// 401 with the reason as a one-line body.
    private static func unauthorized(_ reason: String) -> HTTPResponse {
        HTTPResponse.text(status: 401, reason + "\n", headers: ["WWW-Authenticate": "Bearer"], closeConnection: true)
    }
}
