import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Transport

/// Two in-process daemons on 127.0.0.1 sharing a cluster secret: `owner` serves every store; `front`
/// routes ``store`` to `owner` and serves every other store itself. Both verify client tokens, so the
/// front's link gets in only with the cluster credential.
struct ForwardingCluster: Sendable {
    /// The store the front forwards.
    static let store = WireUUID(high: 0x5101, low: 0x0001)
    /// A store the front serves itself.
    static let otherStore = WireUUID(high: 0x5101, low: 0x0002)

    let scratch: TemporaryDirectory
    let owner: Daemon
    let front: Daemon
    let router: StaticStoreRouter
    let peer: ClusterPeer

    static func start(ownerRouter: StaticStoreRouter = StaticStoreRouter()) async throws -> ForwardingCluster {
        let scratch = try TemporaryDirectory(prefix: "coordd-forwarding")
        try FileBytes.write(Array(repeating: UInt8(ascii: "c"), count: 40), to: scratch.path + "/cluster")
        try FileBytes.write(JWTFixture.secret, to: scratch.path + "/clients")
        let owner = try await Daemon.start(configuration(scratch), logger: Logger(sink: { _ in }), loopCount: 1, router: ownerRouter)
        let peer = ClusterPeer(nodeID: "owner", advertiseURL: "ws://127.0.0.1:\(owner.localAddress.port)")
        let router = StaticStoreRouter([store: peer])
        let front = try await Daemon.start(configuration(scratch), logger: Logger(sink: { _ in }), loopCount: 1, router: router)
        return ForwardingCluster(scratch: scratch, owner: owner, front: front, router: router, peer: peer)
    }

    private static func configuration(_ scratch: TemporaryDirectory) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.storage = .memory
        configuration.shutdownGraceMs = 2_000
        configuration.clusterSecretFile = scratch.path + "/cluster"
        configuration.jwtHS256SecretFile = scratch.path + "/clients"
        return configuration
    }

    /// A provider to `daemon` that gives up quickly, with a client token for `scopes` valid for an hour.
    static func provider(_ daemon: Daemon, scopes: String = #"["streamkit::*"]"#) throws -> WebSocketProvider {
        var limits = WebSocketClientLimits()
        limits.maxCallAttempts = 2
        limits.backoffInitialMs = 20
        let expiry = SystemWallClock().nowMs() / 1_000 + 3_600
        let token = TestJWT.hs256(claims: JWTFixture.claims(exp: expiry, scopes: scopes), secret: JWTFixture.secret)
        return try WebSocketProvider(url: "ws://127.0.0.1:\(daemon.localAddress.port)", token: { token },
                                     group: TestNetwork.group, limits: limits)
    }

    /// Streams the owner serves for the forwarded store now.
    func ownerStreams() async throws -> Int {
        try await owner.nodes.node(for: Self.store).openStreamCount
    }

    /// A segment subscription opened through the front (on a segment with one entry, so the owner answers
    /// at once), after its first status arrived; and the provider it is on.
    func subscriptionThroughFront() async throws -> (WebSocketProvider, any BidiStream) {
        let provider = try Self.provider(front)
        try await CoordClient(provider: provider, store: Self.store).produce(space: "s", segment: "g", records: makeRecords(1))
        let stream = try await provider.callStream(store: Self.store, request: SubscribeToSegmentStatus(space: "s", segment: "g"))
        guard try await stream.receive() != nil else { throw StreamsError.streamClosed("the subscription ended at once") }
        return (provider, stream)
    }

    func stop() async {
        await front.shutdown()
        await owner.shutdown()
        scratch.remove()
    }
}
