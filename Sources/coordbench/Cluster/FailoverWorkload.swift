import CoordBenchKit
import CoordClient
import Coordinator
import Foundation
import StreamCore

/// `failover` on a cluster coordbench started: per round, a lease is taken on a new store, its owner is
/// found and killed with SIGKILL, and a client connected to another daemon retries a renewal of that
/// lease until one is answered. The round's figure is the time from the kill to that answer; the killed
/// daemon is restarted (same node id) before the next round.
enum FailoverWorkload {
    /// Pause between a client's attempts while no daemon serves the store.
    static let retryInterval: Duration = .milliseconds(20)
    /// Longest wait for one attempt's answer before its connection is dropped and a new one tried.
    static let attemptTimeout: Duration = .seconds(2)

    static func run(_ environment: BenchEnvironment, daemons: ClusterDaemons, owners: StoreOwners, rounds: Int) async throws -> WorkloadResult {
        guard daemons.started else { throw PeerError("failover kills daemons, so it runs only on daemons coordbench started (--cluster N)") }
        let ttlMs = try daemons.ownershipTTL.map { text throws in
            do throws(DurationText.ParseError) { return try DurationText.milliseconds(text) } catch { throw PeerError("--ownership-ttl: \(error)") }
        } ?? DaemonConfiguration().ownershipTTLMs
        let ttl = Duration.milliseconds(ttlMs)
        // A crashed owner's stores are free once its ownership expires, at most a TTL after its last
        // renewal; the rest is the take-over and the client's retries.
        let roundLimit = ttl * 3 + .seconds(30)
        // The lease must outlive the fail-over, or the renewal that ends it would find it expired.
        let leaseTTL = max(Duration.seconds(environment.sizes.leaseTTLSeconds), roundLimit)
        var times = Samples()
        var seconds: [String] = []
        var notes: [(String, String)] = []
        for round in 0..<rounds {
            let store = WireUUID.random()
            let members = daemons.all
            let key = "failover/\(environment.runTag)/\(round)"
            // The store is opened through a different daemon each round; the cluster decides its owner.
            let opener = members[round % members.count]
            let (owner, front) = try await owners.place(store, through: opener)
            let (client, connection) = try await front.target(loops: environment.loops).client(store: store)
            var probe = (client: client, connection: connection)
            defer { probe.connection.close() }
            let granted = try await client.acquire(key: key, holder: "h", ttl: leaseTTL)
            guard granted.ok else { throw PeerError("fail-over round \(round): lease refused: \(granted.message)") }
            // The owner renews every TTL/3 from its take-over; a crash comes at any moment of that period.
            try await Task.sleep(for: .milliseconds(Int64.random(in: 0..<max(1, ttlMs / 3))))
            log("coordbench: fail-over round \(round + 1)/\(rounds): kill -9 of owner \(owner.nodeID), client on \(front.nodeID)")
            daemons.kill(owner.index)
            let killed = ContinuousClock.now
            var attempts = 0
            var lastError = ""
            var served: ContinuousClock.Instant?
            var leaseKept = true
            while served == nil, ContinuousClock.now - killed < roundLimit {
                attempts += 1
                let current = probe
                switch await answer(within: attemptTimeout, closing: current.connection.close, {
                    try await current.client.renew(key: key, holder: "h", ttl: leaseTTL)
                }) {
                case .success(let result):
                    served = ContinuousClock.now
                    leaseKept = result.ok
                case .failure(let error):
                    lastError = "\(error)"
                    try await Task.sleep(for: retryInterval)
                case nil:
                    lastError = "no answer in \(attemptTimeout)"
                    probe = try await front.target(loops: environment.loops).client(store: store)
                }
            }
            try await daemons.restart(owner.index)
            guard let served else {
                throw PeerError("fail-over round \(round + 1): no daemon served the store \(roundLimit) after the kill (\(attempts) attempts; last: \(lastError))")
            }
            let took = served - killed
            times.record(took)
            seconds.append(Report.format(took.seconds))
            log("coordbench: fail-over round \(round + 1): served again after \(Report.format(took.seconds)) s (\(attempts) attempts)")
            if !leaseKept { notes.append(("round \(round + 1)", "the lease was not kept across the fail-over")) }
        }
        return WorkloadResult(
            workload: "fail-over (kill -9 of the owner, \(daemons.all.count) daemons, ownership TTL \(DurationText.format(milliseconds: ttlMs)))",
            system: ClusterRoute.clusterSystem, operations: rounds, elapsed: .zero, latencies: times,
            metrics: [Metric("min ms", times.percentileMs(0))],
            notes: [("op", "kill → first renewal answered through another daemon"), ("seconds", seconds.joined(separator: " "))] + notes)
    }

    /// `operation`'s outcome, or nil when it has not ended within `limit`: then `closing` is called (it ends
    /// the request by closing its connection) and the operation's end is awaited.
    private static func answer<T: Sendable>(within limit: Duration, closing: @escaping @Sendable () -> Void,
                                            _ operation: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
        await withTaskGroup(of: Result<T, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await operation()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            if first == nil { closing() }
            group.cancelAll()
            return first
        }
    }
}
