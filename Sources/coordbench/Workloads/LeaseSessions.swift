import CoordClient
import Foundation
import StreamCore
import Transport

/// `lease-renew` on coordd: one lease per client, renewed by its holder (`depth` renewals in flight
/// at once on the client's connection in the pipelined variant), on the client's `lease_renewals`
/// stream, or on a stream per renewal with `--renew-per-stream`.
final class CoorddRenewSession: ClientSession {
    var closer: @Sendable () -> Void { connection.close }
    var eventLoop: EventLoop? { renewals?.eventLoop }
    private let client: CoordClient
    private let renewals: LeaseRenewalStream?
    private let connection: CoorddConnection
    private let key: String
    private let holder: String
    private let ttl: Duration
    private let depth: Int

    init(environment: BenchEnvironment, store: WireUUID, index: Int, depth: Int) async throws {
        (client, connection) = try await environment.coorddTarget.client(store: store)
        key = "renew/\(environment.runTag)/\(index)"
        holder = "holder-\(index)"
        ttl = .seconds(environment.sizes.leaseTTLSeconds)
        self.depth = depth
        let granted = try await client.acquire(key: key, holder: holder, ttl: ttl)
        guard granted.ok else { throw PeerError("coordd acquire \(key): \(granted.message)") }
        renewals = environment.sizes.renewPerStream ? nil : try await client.leaseRenewals()
    }

    func round() async throws -> Int {
        let (client, renewals, key, holder, ttl) = (self.client, self.renewals, self.key, self.holder, self.ttl)
        let renew: @Sendable () async throws -> LeaseResult = {
            if let renewals { return try await renewals.renew(key: key, holder: holder, ttl: ttl) }
            return try await client.renew(key: key, holder: holder, ttl: ttl)
        }
        if depth == 1 {
            try check(try await renew())
            return 1
        }
        if let renewals {
            // One batch, as Redis's client pipelines its commands in one write.
            for result in try await renewals.renew(keys: Array(repeating: key, count: depth), holder: holder, ttl: ttl) {
                try check(result)
            }
            return depth
        }
        try await withThrowingTaskGroup(of: LeaseResult.self) { group in
            for _ in 0..<depth { group.addTask { try await renew() } }
            for try await result in group { try check(result) }
        }
        return depth
    }

    private func check(_ result: LeaseResult) throws {
        guard result.ok else { throw PeerError("coordd renew \(key): \(result.message)") }
    }

    func finish() async {
        await renewals?.close()
        _ = try? await client.release(key: key, holder: holder)
        connection.close()
    }
}

/// `lease-renew` on etcd: a lease granted per client and attached to its key, refreshed with one
/// keep-alive request per round (carrying `depth` keep-alive messages in the pipelined variant).
final class EtcdRenewSession: ClientSession {
    var closer: @Sendable () -> Void { etcd.closer }
    var eventLoop: EventLoop? { etcd.eventLoop }
    private let etcd: EtcdClient
    private let lease: Int64
    private let depth: Int

    init(environment: BenchEnvironment, index: Int, depth: Int) async throws {
        etcd = try await environment.etcdClient()
        lease = try await etcd.grantLease(ttlSeconds: environment.sizes.leaseTTLSeconds)
        let key = Array("renew/\(environment.runTag)/\(index)".utf8)
        guard try await etcd.putIfAbsent(key: key, value: Array("holder-\(index)".utf8), lease: lease) else {
            throw PeerError("etcd: key \(index) already held")
        }
        self.depth = depth
    }

    func round() async throws -> Int {
        try await etcd.keepAlive(Array(repeating: lease, count: depth))
        return depth
    }

    func finish() async {
        try? await etcd.revokeLease(lease)
        etcd.close()
    }
}

/// `lease-renew` on Redis: a key set with `SET NX PX` per client, renewed with `PEXPIRE` (`depth`
/// commands pipelined in one write in the pipelined variant).
final class RedisRenewSession: ClientSession {
    var closer: @Sendable () -> Void { redis.closer }
    var eventLoop: EventLoop? { redis.eventLoop }
    private let redis: RedisClient
    private let key: [UInt8]
    private let ttlMs: [UInt8]
    private let depth: Int

    init(environment: BenchEnvironment, index: Int, depth: Int) async throws {
        redis = try await environment.redisClient()
        key = Array("renew:\(environment.runTag):\(index)".utf8)
        ttlMs = Array(String(environment.sizes.leaseTTLSeconds * 1_000).utf8)
        self.depth = depth
        let set = try await redis.command([Array("SET".utf8), key, Array("holder-\(index)".utf8), Array("NX".utf8), Array("PX".utf8), ttlMs])
        guard try set.checked("SET NX") == .simpleString("OK") else { throw PeerError("redis: key \(index) already held") }
    }

    func round() async throws -> Int {
        let command = [Array("PEXPIRE".utf8), key, ttlMs]
        let replies = depth == 1 ? [try await redis.command(command)] : try await redis.pipeline(Array(repeating: command, count: depth))
        for reply in replies {
            guard try reply.checked("PEXPIRE") == .integer(1) else { throw PeerError("redis: lease key expired") }
        }
        return depth
    }

    func finish() async {
        _ = try? await redis.command([Array("DEL".utf8), key])
        redis.close()
    }
}

/// `lease-acquire` on coordd: acquire a lease on a key never used before, then release it; both are
/// durable (the server answers after the log's fsync). On the client's `lease_ops` stream, or on a
/// stream per request with `--acquire-per-stream`.
final class CoorddAcquireSession: ClientSession {
    var closer: @Sendable () -> Void { connection.close }
    var eventLoop: EventLoop? { operations?.eventLoop }
    private let client: CoordClient
    private let connection: CoorddConnection
    private let operations: LeaseOperationStream?
    private let prefix: String
    private let ttl: Duration
    private var next = 0

    init(environment: BenchEnvironment, store: WireUUID, index: Int) async throws {
        (client, connection) = try await environment.coorddTarget.client(store: store)
        prefix = "acquire/\(environment.runTag)/\(index)/"
        ttl = .seconds(environment.sizes.leaseTTLSeconds)
        operations = environment.sizes.acquirePerStream ? nil : try await client.leaseOperations()
    }

    func round() async throws -> Int {
        next += 1
        let key = prefix + String(next)
        let granted: LeaseResult
        let released: LeaseResult
        if let operations {
            granted = try await operations.acquire(key: key, holder: "h", ttl: ttl)
            guard granted.ok else { throw PeerError("coordd acquire \(key): \(granted.message)") }
            released = try await operations.release(key: key, holder: "h")
        } else {
            granted = try await client.acquire(key: key, holder: "h", ttl: ttl)
            guard granted.ok else { throw PeerError("coordd acquire \(key): \(granted.message)") }
            released = try await client.release(key: key, holder: "h")
        }
        guard released.ok else { throw PeerError("coordd release \(key): \(released.message)") }
        return 1
    }

    func finish() async {
        await operations?.close()
        connection.close()
    }
}

/// `lease-acquire` on etcd: grant a lease, put the key if absent under it, then revoke the lease
/// (which deletes the key). A `deleterange` would leave the lease to expire later, and thousands of
/// expiring leases would load etcd during the workloads that follow.
final class EtcdAcquireSession: ClientSession {
    var closer: @Sendable () -> Void { etcd.closer }
    var eventLoop: EventLoop? { etcd.eventLoop }
    private let etcd: EtcdClient
    private let prefix: String
    private let ttlSeconds: Int
    private var next = 0

    init(environment: BenchEnvironment, index: Int) async throws {
        etcd = try await environment.etcdClient()
        prefix = "acquire/\(environment.runTag)/\(index)/"
        ttlSeconds = environment.sizes.leaseTTLSeconds
    }

    func round() async throws -> Int {
        next += 1
        let lease = try await etcd.grantLease(ttlSeconds: ttlSeconds)
        guard try await etcd.putIfAbsent(key: Array((prefix + String(next)).utf8), value: Array("h".utf8), lease: lease) else {
            throw PeerError("etcd: fresh key \(prefix)\(next) already held")
        }
        try await etcd.revokeLease(lease)
        return 1
    }

    func finish() async { etcd.close() }
}

/// `lease-acquire` on Redis: `SET key holder NX PX ttl` on a fresh key, then `DEL`; with
/// `appendfsync always` each is in the append-only file, fsynced, before Redis answers.
final class RedisAcquireSession: ClientSession {
    var closer: @Sendable () -> Void { redis.closer }
    var eventLoop: EventLoop? { redis.eventLoop }
    private let redis: RedisClient
    private let prefix: String
    private let ttlMs: [UInt8]
    private var next = 0

    init(environment: BenchEnvironment, index: Int) async throws {
        redis = try await environment.redisClient()
        prefix = "acquire:\(environment.runTag):\(index):"
        ttlMs = Array(String(environment.sizes.leaseTTLSeconds * 1_000).utf8)
    }

    func round() async throws -> Int {
        next += 1
        let key = Array((prefix + String(next)).utf8)
        let set = try await redis.command([Array("SET".utf8), key, Array("h".utf8), Array("NX".utf8), Array("PX".utf8), ttlMs])
        guard try set.checked("SET NX") == .simpleString("OK") else { throw PeerError("redis: fresh key already held") }
        guard try await redis.command([Array("DEL".utf8), key]).checked("DEL") == .integer(1) else {
            throw PeerError("redis: DEL found no key")
        }
        return 1
    }

    func finish() async { redis.close() }
}
