import StreamCore
import Synchronization
import Transport

/// TLS settings for ``CoordClient/connect(url:token:tls:store:limits:)``: whom to trust, and the client
/// certificate for mutual TLS. A `wss://` URL without settings trusts the system's certificate store.
public struct CoordTLS: Sendable, Hashable {
    /// A PEM file of the certificate authorities to trust instead of the system store.
    public var caFile: String?
    /// A PEM client certificate chain to present (mutual TLS); needs `privateKeyFile`.
    public var certificateFile: String?
    /// The private key of `certificateFile`.
    public var privateKeyFile: String?

    /// Creates TLS settings.
    public init(caFile: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
    }

    /// The client context these settings describe.
    func context() throws(CoordError) -> TLSContext {
        do {
            return try TLSContext(.client(
                trust: caFile.map { .certificateAuthorityFile($0) } ?? .systemDefault,
                certificateChainFile: certificateFile, privateKeyFile: privateKeyFile))
        } catch {
            throw .invalidRequest("TLS settings: \(error.message)")
        }
    }
}

/// The event loop and provider a client made by `connect` owns, closed once.
final class ClientConnection: Sendable {
    let group: EventLoopGroup
    let provider: WebSocketProvider
    private let closed = Atomic<Bool>(false)

    init(group: EventLoopGroup, provider: WebSocketProvider) {
        self.group = group
        self.provider = provider
    }

    func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await provider.close()
        // Stopping the loop joins its thread, which must not hold a thread of the concurrency pool.
        let group = self.group
        try? await Posix.runBlocking(name: "coordd-client-loops-stop") { group.shutdownGracefully(graceMs: 0) }
    }
}

extension CoordClient {
    /// A client of `store` on the coordd daemon at `url` (`ws://host:port` or `wss://host:port`), with its
    /// own event loop thread, closed by ``close()``.
    ///
    /// Nothing is sent until the first call. The connection is shared by every call and stream of the
    /// client (and of ``forStore(_:)`` copies). When it is lost, calls in flight and open streams fail with
    /// a transient ``CoordError/connectionFailed(name:message:)`` (``StreamsError`` `stream_closed` from
    /// the lower-level calls), the client dials again in the background with jittered exponential backoff
    /// (100 ms doubling to 10 s, ±20 %), and each new call makes up to `limits.maxCallAttempts` attempts
    /// to get a connection. Observers (``workers()``, ``workerChanges(sinceRevision:sinceEpoch:)``,
    /// ``watchLease(key:)``) and workers (``registerWorker(id:metadata:heartbeatIntervalMs:presenceOnly:)``)
    /// carry on over the new connection; a ``CoordSession`` does not, since its leases ended with it.
    ///
    /// - Parameters:
    ///   - token: a JWT sent as `Authorization: Bearer …`; none for a daemon that allows anonymous access.
    ///   - tls: trust and client certificate for `wss://`.
    ///   - store: the store every call addresses; the daemon's default store unless told otherwise.
    /// - Throws: ``CoordError/invalidRequest(_:)`` for a URL or TLS settings that cannot work.
    public static func connect(
        url: String, token: String? = nil, tls: CoordTLS? = nil, store: WireUUID = .defaultStore,
        limits: WebSocketClientLimits = WebSocketClientLimits()
    ) throws(CoordError) -> CoordClient {
        try connect(urls: [url], token: token, tls: tls, store: store, limits: limits)
    }

    /// A client of `store` on a cluster of coordd daemons, any of which serves every store: it connects to
    /// the first of `urls`, and when a dial fails (the daemon is gone, or draining) to the next, round the
    /// list, each call trying every daemon before it backs off. Otherwise as
    /// ``connect(url:token:tls:store:limits:)``; at most ``WebSocketClientLimits/maxURLs`` URLs.
    public static func connect(
        urls: [String], token: String? = nil, tls: CoordTLS? = nil, store: WireUUID = .defaultStore,
        limits: WebSocketClientLimits = WebSocketClientLimits()
    ) throws(CoordError) -> CoordClient {
        let context = try tls?.context()
        let group: EventLoopGroup
        do {
            group = try EventLoopGroup(loopCount: 1)
        } catch {
            throw .other(.internalError("cannot start an event loop: \(error)"))
        }
        do {
            let provider = try WebSocketProvider(urls: urls, token: { token }, tls: context, group: group, limits: limits)
            return CoordClient(provider: provider, store: store, connection: ClientConnection(group: group, provider: provider))
        } catch {
            group.shutdownGracefully(graceMs: 0)
            throw .invalidRequest(error.message)
        }
    }

    /// Closes what ``connect(url:token:tls:store:limits:)`` opened: open streams end with
    /// ``CoordError/clientClosed``, and later calls fail the same way. Does nothing for a client made over
    /// a provider of the caller's, who closes that provider.
    public func close() async {
        await connection?.close()
    }

    /// The same connection addressing another store.
    public func forStore(_ store: WireUUID) -> CoordClient {
        CoordClient(provider: provider, store: store, connection: connection)
    }
}

/// Connects (``CoordClient/connect(url:token:tls:store:limits:)``), runs `body` with the client, and closes
/// it when `body` ends, however it ends.
public func withCoordClient<T>(
    url: String, token: String? = nil, tls: CoordTLS? = nil, store: WireUUID = .defaultStore,
    limits: WebSocketClientLimits = WebSocketClientLimits(), isolation: isolated (any Actor)? = #isolation,
    _ body: (CoordClient) async throws -> T
) async throws -> T {
    let client = try CoordClient.connect(url: url, token: token, tls: tls, store: store, limits: limits)
    do {
        let result = try await body(client)
        await client.close()
        return result
    } catch {
        await client.close()
        throw error
    }
}
