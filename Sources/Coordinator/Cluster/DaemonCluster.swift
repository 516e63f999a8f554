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
        switch try await router.route(store) {
        case .local:
            try await manager.accept(store: store, stream: stream)
        case .forward(let peer):
            if let forwarder = authorization as? ClusterAuthorization {
                throw .storeUnavailable(because: "node \(forwarder.nodeID) forwarded a stream for store \(store) here, "
                    + "but this node routes it to \(peer); a stream is forwarded at most once")
            }
            try await self.forwarder.forward(store: store, stream: stream, to: peer)
        case .place(let peer):
            // Forwarded here already: this daemon takes it (the forwarding one placed it here).
            guard !(authorization is ClusterAuthorization) else {
                try await manager.accept(store: store, stream: stream)
                return
            }
            let request = try await StreamForwarder.request(of: stream)
            do throws(StreamsError) {
                try await forwarder.forward(store: store, request: request, stream: stream, to: peer)
            } catch where error.name == StreamsError.storeUnavailable.name {
                // Placement is a preference: a store whose preferred daemon cannot be reached is served here.
                try await manager.accept(store: store, stream: ReplayedRequestStream(request, then: stream))
            }
        }
    }
}
