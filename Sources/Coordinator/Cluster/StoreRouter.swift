import StreamCore
import Synchronization

/// Another daemon of the cluster, as streams are forwarded to it.
public struct ClusterPeer: Sendable, Hashable, CustomStringConvertible {
    /// The peer's node id (`--cluster-node-id`), shown in errors and logs.
    public var nodeID: String
    /// How this daemon reaches the peer: its advertise URL (`ws://host:port` or `wss://…`).
    public var advertiseURL: String

    /// A peer reached at `advertiseURL`.
    public init(nodeID: String, advertiseURL: String) {
        self.nodeID = nodeID
        self.advertiseURL = advertiseURL
    }

    /// `node <id> at <url>`, for error messages.
    public var description: String { "node \(nodeID) at \(advertiseURL)" }
}

/// Where a store's streams are served.
public enum StoreRoute: Sendable, Hashable {
    /// By this daemon's own nodes.
    case local
    /// By another daemon: the stream is forwarded to it.
    case forward(to: ClusterPeer)
    /// By another daemon if it can be reached, else here: a store no daemon serves yet, which placement
    /// gives to that daemon. A stream forwarded here already is served here.
    case place(on: ClusterPeer)
}

/// Decides, for each new stream, whether this daemon serves its store or forwards it to the daemon
/// that does. Store ownership implements it; a daemon without a cluster uses ``LocalStoreRouter``.
///
/// When a route changes while streams are forwarded, whoever changed it calls
/// ``StreamForwarder/endForwarded(store:because:)`` so those streams end and their clients reopen them.
public protocol StoreRouter: Sendable {
    /// The route of `store` now; a transient error (`store_unavailable`) when no daemon may serve it
    /// yet (ownership is moving).
    func route(_ store: WireUUID) async throws(StreamsError) -> StoreRoute

    /// A stream of `store` forwarded by this route could not be opened, or the owner ended it with a
    /// transient error (it no longer serves the store, or is going away): a router that remembers routes
    /// forgets this one.
    func forwardFailed(_ store: WireUUID)

    /// True when `store` is known, without waiting, to be served here now: its streams may be served
    /// on the thread that read them. False when finding out means waiting (or the store is elsewhere).
    func servesHereNow(_ store: WireUUID) -> Bool
}

extension StoreRouter {
    /// Remembers nothing, so there is nothing to forget.
    public func forwardFailed(_ store: WireUUID) {}
}

/// Every store is served here: a daemon on its own.
public struct LocalStoreRouter: StoreRouter {
    /// The router.
    public init() {}

    /// Always ``StoreRoute/local``.
    public func route(_ store: WireUUID) async throws(StreamsError) -> StoreRoute { .local }

    /// Always true.
    public func servesHereNow(_ store: WireUUID) -> Bool { true }
}

/// A fixed table of stores served elsewhere, every other store served here: for tests and for
/// setups where placement is decided outside coordd.
public final class StaticStoreRouter: StoreRouter {
    private let routes: Mutex<[WireUUID: ClusterPeer]>

    /// A router sending each store in `routes` to its peer.
    public init(_ routes: [WireUUID: ClusterPeer] = [:]) {
        self.routes = Mutex(routes)
    }

    /// Sends `store` to `peer`, or serves it here when `peer` is nil. Streams already forwarded are
    /// not touched: end them with ``StreamForwarder/endForwarded(store:because:)``.
    public func set(_ store: WireUUID, to peer: ClusterPeer?) {
        routes.withLock { $0[store] = peer }
    }

    /// The peer in the table, else ``StoreRoute/local``.
    public func route(_ store: WireUUID) async throws(StreamsError) -> StoreRoute {
        routes.withLock { $0[store] }.map { .forward(to: $0) } ?? .local
    }

    /// True unless the table sends `store` elsewhere.
    public func servesHereNow(_ store: WireUUID) -> Bool {
        routes.withLock { $0[store] == nil }
    }
}
