import StreamCore
import Transport

/// A daemon's part in a cluster, for its streams: where each store is served, the forwarder that
/// takes streams to other daemons, and the credential those daemons present to it.
public struct DaemonCluster: Sendable {
    /// Where each store is served.
    public let router: any StoreRouter
    /// Takes the streams of stores served elsewhere to their owner.
    public let forwarder: StreamForwarder
    /// The shared secret of daemon-to-daemon links; nil when none is configured (links then present no
    /// token and no connection is taken for a daemon's).
    public let credential: ClusterCredential?

    /// A cluster part routing by `router` and forwarding with `forwarder`.
    public init(router: any StoreRouter, forwarder: StreamForwarder, credential: ClusterCredential?) {
        self.router = router
        self.forwarder = forwarder
        self.credential = credential
    }

    /// Serves a new stream here or forwards it to its store's owner. A stream that another daemon
    /// forwarded is never forwarded again: when this daemon does not serve its store either (the two
    /// disagree while ownership moves), it is refused with `store_unavailable`, and the client reopens.
    func accept(store: WireUUID, stream: any BidiStream, authorization: any ConnectionAuthorization, manager: NodeManager)
        async throws(StreamsError)
    {
        let route = try await router.route(store)
        if case .local = route {
            try await manager.accept(store: store, stream: stream)
            return
        }
        if let forwarder = authorization as? ClusterAuthorization {
            switch route {
            case .forward(let peer): throw Self.notForwardedAgain(store, to: peer, free: false, by: forwarder)
            case .place(let peer): throw Self.notForwardedAgain(store, to: peer, free: true, by: forwarder)
            case .local: break
            }
        }
        let request = try await StreamForwarder.request(of: stream)
        do throws(StreamsError) {
            try await serve(store: store, request: request, stream: stream, route: route, manager: manager)
        } catch where error.name == StreamsError.storeUnavailable.name {
            // The link could not carry it (the forwarder has made the router forget a remembered owner):
            // routed once more from what PostgreSQL says now, so an owner that just left costs no error.
            let fresh = try await router.route(store)
            try await serve(store: store, request: request, stream: stream, route: fresh, manager: manager)
        }
    }

    /// Serves `stream`, its request read already, by `route`; throws `store_unavailable` untouched when a
    /// forward could not be opened.
    private func serve(store: WireUUID, request: [UInt8], stream: any BidiStream, route: StoreRoute, manager: NodeManager)
        async throws(StreamsError)
    {
        switch route {
        case .local:
            try await manager.accept(store: store, stream: ReplayedRequestStream(request, then: stream))
        case .forward(let peer):
            try await forwarder.forward(store: store, request: request, stream: stream, to: peer)
        case .place(let peer):
            do throws(StreamsError) {
                try await forwarder.forward(store: store, request: request, stream: stream, to: peer)
            } catch where error.name == StreamsError.storeUnavailable.name {
                // Placement is a preference: a store whose preferred daemon cannot be reached is served here.
                try await manager.accept(store: store, stream: ReplayedRequestStream(request, then: stream))
            }
        }
    }

    /// The refusal of a stream another daemon forwarded here for a store this one would send to `peer`.
    /// For a `free` store too: that daemon saw an owner that is gone, or a placement this one does not
    /// share, and the client's next attempt is routed afresh rather than the store taken here against
    /// placement (a stale route would otherwise take a store back from the daemon it was just handed to).
    private static func notForwardedAgain(_ store: WireUUID, to peer: ClusterPeer, free: Bool, by forwarder: ClusterAuthorization)
        -> StreamsError
    {
        .storeUnavailable(because: "node \(forwarder.nodeID) forwarded a stream for store \(store) here, but "
            + (free ? "no daemon owns it and placement puts it on \(peer)" : "this node routes it to \(peer); a stream is forwarded at most once"))
    }
}
