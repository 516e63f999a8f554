import StreamCore
import Synchronization
import Transport

/// The daemon-to-daemon WebSocket mux connections forwarded streams travel on: one per peer, shared
/// by all the streams forwarded to it, dialled on first use and redialled when it breaks (by the
/// ``WebSocketProvider`` each link is).
///
/// Bounded per peer: ``ClusterLimits/maxForwardedStreamsPerPeer`` streams open and
/// ``ClusterLimits/maxPendingOpensPerPeer`` waiting for the link; past either a new stream is refused
/// at once with `store_unavailable`. A link that cannot be opened fails its waiting streams at once with
/// `store_unavailable` naming the peer, and is dropped, so a peer that left is not redialled forever.
public final class ClusterLinks: Sendable {
    /// One stream's place on a link, given back with ``release(_:)``. It names the link's provider, so
    /// a slot of a link that was dropped and made anew is not counted against the new one.
    struct Slot: Sendable {
        var peer: ClusterPeer
        fileprivate var provider: WebSocketProvider
    }

    private struct Link {
        var provider: WebSocketProvider
        var forwarded = 0
        var pending = 0
    }

    private struct State {
        var links: [ClusterPeer: Link] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    private let nodeID: String
    private let credential: ClusterCredential?
    private let limits: ClusterLimits
    private let tls: TLSContext?
    private let group: @Sendable () -> EventLoopGroup?
    private let nowSeconds: @Sendable () -> Int64

    /// Links from node `nodeID`.
    ///
    /// - Parameters:
    ///   - credential: the cluster secret a link's token is made from; nil sends no token (peers that
    ///     accept anonymous connections).
    ///   - tls: the client TLS context for `wss` advertise URLs; nil uses the system trust store.
    ///   - group: the event loops links run on, nil before they have started.
    public init(
        nodeID: String, credential: ClusterCredential?, limits: ClusterLimits = ClusterLimits(), tls: TLSContext? = nil,
        group: @escaping @Sendable () -> EventLoopGroup?,
        nowSeconds: @escaping @Sendable () -> Int64 = { SystemWallClock().nowMs() / 1_000 }
    ) {
        self.nodeID = nodeID
        self.credential = credential
        self.limits = limits
        self.tls = tls
        self.group = group
        self.nowSeconds = nowSeconds
    }

    /// Streams forwarded to `peer` now.
    public func forwardedCount(to peer: ClusterPeer) -> Int {
        state.withLock { $0.links[peer]?.forwarded ?? 0 }
    }

    /// Opens a stream to `store` at `peer` with `request` as its first message, holding one of the
    /// peer's slots until ``release(_:)``.
    func open(store: WireUUID, request: [UInt8], at peer: ClusterPeer) async throws(StreamsError)
        -> (stream: any BidiStream, slot: Slot)
    {
        let slot = Slot(peer: peer, provider: try reserve(peer))
        let stream: any BidiStream
        do {
            stream = try await slot.provider.callStream(store: store, request: request)
        } catch {
            // The link could not carry a new stream: it is broken, and its other streams with it.
            let dropped = state.withLock { s -> WebSocketProvider? in
                guard s.links[peer]?.provider === slot.provider else { return nil }
                return s.links.removeValue(forKey: peer)?.provider
            }
            await dropped?.close()
            throw .storeUnavailable(because: "the owner of store \(store), \(peer), cannot be reached: \(error.message)")
        }
        update(slot) { link in
            link.pending -= 1
            link.forwarded += 1
        }
        return (stream, slot)
    }

    /// Gives back the slot a stream opened by ``open(store:request:at:)`` held.
    func release(_ slot: Slot) {
        update(slot) { $0.forwarded -= 1 }
    }

    /// Changes the counts of `slot`'s link, unless that link has been dropped since.
    private func update(_ slot: Slot, _ change: (inout Link) -> Void) {
        state.withLock { s in
            guard var link = s.links[slot.peer], link.provider === slot.provider else { return }
            change(&link)
            s.links[slot.peer] = link
        }
    }

    /// Closes every link (their streams fail) and refuses further opens.
    public func close() async {
        let providers = state.withLock { s -> [WebSocketProvider] in
            s.closed = true
            defer { s.links = [:] }
            return s.links.values.map(\.provider)
        }
        for provider in providers { await provider.close() }
    }

    /// The link to `peer` (made on first use) with one more pending open, or why not.
    private func reserve(_ peer: ClusterPeer) throws(StreamsError) -> WebSocketProvider {
        // Made outside the lock; one made in a race is dropped unused (it dials only when first used).
        let made = state.withLock { $0.links[peer] == nil } ? makeProvider(peer) : nil
        return try state.withLock { s throws(StreamsError) -> WebSocketProvider in
            guard !s.closed else { throw .shuttingDown }
            if s.links[peer] == nil {
                guard let made else { throw .storeUnavailable(because: "the link to \(peer) was just dropped") }
                s.links[peer] = Link(provider: try made.get())
            }
            // Non-nil: set just above when missing.
            var link = s.links[peer]!
            guard link.pending < limits.maxPendingOpensPerPeer else {
                throw .storeUnavailable(because: "\(link.pending) streams already wait for the link to \(peer) "
                    + "(ClusterLimits.maxPendingOpensPerPeer)")
            }
            guard link.forwarded + link.pending < limits.maxForwardedStreamsPerPeer else {
                throw .storeUnavailable(because: "\(link.forwarded + link.pending) streams already forwarded to \(peer) "
                    + "(ClusterLimits.maxForwardedStreamsPerPeer)")
            }
            link.pending += 1
            s.links[peer] = link
            return link.provider
        }
    }

    /// A provider for `peer`'s advertise URL presenting the cluster token, or why there cannot be one.
    private func makeProvider(_ peer: ClusterPeer) -> Result<WebSocketProvider, StreamsError> {
        guard let group = group() else { return .failure(.shuttingDown) }
        let credential = credential
        let nodeID = nodeID
        let nowSeconds = nowSeconds
        do {
            return .success(try WebSocketProvider(
                url: peer.advertiseURL, token: { credential?.token(nodeID: nodeID, now: nowSeconds()) }, tls: tls,
                group: group, limits: limits.link))
        } catch {
            return .failure(.storeUnavailable(because: "\(peer) has an unusable advertise URL: \(error)"))
        }
    }
}
