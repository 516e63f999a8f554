import CoordClient
import Foundation
import StreamCore
import Transport

/// A system measured: coordd (on its file store, or on PostgreSQL with `--coordd-postgres URL`), or a peer
/// it is compared with.
enum System: String, CaseIterable, Sendable {
    case coordd
    case coorddPostgres = "coordd-postgres"
    case etcd
    case redis

    /// True for a coordd daemon, whatever its storage: the workloads drive both the same way.
    var isCoordd: Bool { self == .coordd || self == .coorddPostgres }
}

/// How coordbench reaches coordd: a connection (one WebSocket, shared by every stream opened on it),
/// and the daemon's PID when known, for CPU and memory figures.
struct CoorddTarget: Sendable {
    /// The daemon's process, when coordbench started it or was told its PID.
    var pid: Int32?
    /// Opens one new connection to the daemon.
    var connect: @Sendable () async throws -> CoorddConnection

    /// A client of `store` on a new connection.
    func client(store: WireUUID) async throws -> (CoordClient, CoorddConnection) {
        let connection = try await connect()
        return (CoordClient(provider: connection.provider, store: store), connection)
    }
}

/// One connection to coordd and how to close it.
struct CoorddConnection: Sendable {
    /// Opens the logical streams; every stream opened through it shares the connection.
    var provider: any StreamProvider
    /// Closes the connection (and every stream on it).
    var close: @Sendable () -> Void
}

/// A peer server: where it listens and its PID (for CPU and memory figures).
struct PeerTarget: Sendable {
    var endpoint: Endpoint
    var pid: Int32?
}

/// Everything a workload needs: the systems to measure, the client runtime and the sizes.
struct BenchEnvironment: Sendable {
    /// The event loops every peer driver connection runs on (one per core, like the daemon's).
    let loops: EventLoopGroup
    var coordd: CoorddTarget?
    /// A second coordd, on PostgreSQL; measured through ``focused(on:)``, which makes it `coordd`.
    var coorddPostgres: CoorddTarget?
    var etcd: PeerTarget?
    var redis: PeerTarget?
    var sizes: BenchSizes
    /// The store the coordd workloads use, when it was chosen beforehand (a cluster run places it and
    /// finds its owner first); nil: each workload run takes a new random one.
    var coorddStore: WireUUID?
    /// Where fan-out observers connect, when not to ``coordd`` (a cluster run puts them on a daemon that
    /// does not own the store, the workers and the changer on the owner).
    var coorddObservers: CoorddTarget?
    /// A tag unique to this run, in every key, stream and space name, so runs never see each other's data.
    let runTag: String

    /// The systems to measure, coordd first.
    var systems: [System] {
        var systems: [System] = []
        if coordd != nil { systems.append(.coordd) }
        if coorddPostgres != nil { systems.append(.coorddPostgres) }
        if etcd != nil { systems.append(.etcd) }
        if redis != nil { systems.append(.redis) }
        return systems
    }

    /// The server PID of `system`, when known.
    func pid(of system: System) -> Int32? {
        switch system {
        case .coordd: coordd?.pid
        case .coorddPostgres: coorddPostgres?.pid
        case .etcd: etcd?.pid
        case .redis: redis?.pid
        }
    }

    /// The environment a workload on `system` runs in: for `coordd-postgres`, its target is the coordd one,
    /// so every coordd session drives whichever daemon is measured.
    func focused(on system: System) -> BenchEnvironment {
        guard system == .coorddPostgres else { return self }
        var focused = self
        focused.coordd = coorddPostgres
        return focused
    }

    /// The etcd endpoint; only called for workloads run on etcd.
    var etcdEndpoint: Endpoint {
        guard let etcd else { preconditionFailure("an etcd workload ran without --peer etcd") }
        return etcd.endpoint
    }

    /// The Redis endpoint; only called for workloads run on Redis.
    var redisEndpoint: Endpoint {
        guard let redis else { preconditionFailure("a redis workload ran without --peer redis") }
        return redis.endpoint
    }

    /// The coordd target; only called for workloads run on coordd.
    var coorddTarget: CoorddTarget {
        guard let coordd else { preconditionFailure("a coordd workload ran without a coordd target") }
        return coordd
    }

    /// The store a coordd workload run uses: ``coorddStore``, else a new random one.
    func workloadStore() -> WireUUID { coorddStore ?? .random() }

    /// The coordd target fan-out observers connect to.
    var observerTarget: CoorddTarget { coorddObservers ?? coorddTarget }

    /// Connects to the etcd gateway.
    func etcdClient() async throws -> EtcdClient {
        try await EtcdClient.connect(to: etcdEndpoint, on: loops.next())
    }

    /// Connects to Redis.
    func redisClient() async throws -> RedisClient {
        try await RedisClient.connect(to: redisEndpoint, on: loops.next())
    }
}
