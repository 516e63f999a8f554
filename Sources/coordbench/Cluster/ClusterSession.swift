import CoordBenchKit
import Foundation
import StreamCore
import Transport

/// How a cluster workload's clients reach the store's owner: connected to it, or to another daemon that
/// forwards their streams. Each is a column of the report; the ratio column is forwarded ÷ owner.
enum ClusterRoute: String, CaseIterable {
    case forwarded = "coordd-forwarded"
    case owner = "coordd-owner"

    /// The report's system for what is measured of the cluster as a whole (fail-over).
    static let clusterSystem = "coordd-cluster"
}

/// The workloads of a cluster run, in the order `all` runs them.
enum ClusterWorkload: String, CaseIterable {
    case leaseRenew = "lease-renew"
    case fanout
    case failover
}

/// A coordbench run against several coordd daemons on one PostgreSQL (`--cluster N`, or `--cluster-urls`):
/// `lease-renew` and `fanout` once through a daemon that does not own the store and once on its owner, in
/// the same run, and `failover`.
enum ClusterSession {
    /// Fan-out variants with more observers than this are left out: a daemon forwards at most 4,096
    /// streams to one peer (`ClusterLimits.maxForwardedStreamsPerPeer`).
    static let maxForwardedObservers = 4_000
    /// Fail-over rounds unless `--rounds` says otherwise.
    static let defaultRounds = 5

    /// True when the options ask for a cluster run.
    static func isRequested(_ options: Options) -> Bool {
        options.value("cluster") != nil || options.flag("cluster") || options.value("cluster-urls") != nil
    }

    static func run(_ workloadName: String, options: Options) async throws -> [WorkloadResult] {
        guard let workloads = ClusterWorkload.named(workloadName) else {
            throw PeerError("\(workloadName) does not run on a cluster (lease-renew, fanout, failover or all)")
        }
        ChildProcesses.installSignalHandlers()
        _ = try? OpenFileLimit.raiseToHardLimit()
        let loops = try EventLoopGroup()
        defer { loops.shutdownGracefully(graceMs: 1_000) }
        var environment = BenchEnvironment(loops: loops, sizes: try BenchSizes(options), runTag: BenchSession.runTag())
        for variant in environment.sizes.fanoutVariants where variant.observers > maxForwardedObservers {
            log("coordbench: \(variant.name) left out: more than \(maxForwardedObservers) observers cannot be forwarded to one daemon")
        }
        environment.sizes.fanoutVariants.removeAll { $0.observers > maxForwardedObservers }
        let peersDirectory = options.value("peers-dir") ?? "bench/.peers"
        guard let postgresURL = options.value("postgres-url") ?? BenchSession.stateValue(peersDirectory, "postgres.url") else {
            throw PeerError("no PostgreSQL for the cluster: start it with bench/peers.sh start, or give --postgres-url")
        }
        let daemons: ClusterDaemons
        if let list = options.value("cluster-urls") {
            daemons = try await ClusterDaemons.attach(urls: try ClusterURLs.parse(list), postgresURL: postgresURL, loops: loops)
        } else {
            guard let count = options.int("cluster") else { throw PeerError("--cluster takes the number of daemons") }
            daemons = try await ClusterDaemons.start(count: count, postgresURL: postgresURL, options: options, environment: environment)
        }
        defer { daemons.stopAll() }
        let owners = StoreOwners(daemons: daemons, loops: loops)
        log("coordbench: run \(environment.runTag); cluster: "
            + daemons.all.map { "\($0.nodeID) at \($0.url)" }.joined(separator: ", "))
        var results: [WorkloadResult] = []
        do {
            for workload in workloads {
                let started = ContinuousClock.now
                let produced = try await run(workload, environment: environment, daemons: daemons, owners: owners, options: options)
                for result in produced { log(Report.table([result])) }
                results += produced
                log("coordbench: \(workload.rawValue) took \(Report.format((ContinuousClock.now - started).seconds)) s")
            }
        } catch {
            await owners.close()
            throw error
        }
        await owners.close()
        return results
    }

    private static func run(_ workload: ClusterWorkload, environment: BenchEnvironment, daemons: ClusterDaemons,
                            owners: StoreOwners, options: Options) async throws -> [WorkloadResult] {
        let count = daemons.all.count
        switch workload {
        case .leaseRenew:
            var results: [WorkloadResult] = []
            for route in ClusterRoute.allCases {
                results += await measured(Workload.leaseRenew.title(environment.sizes), route: route, daemons: count) {
                    let routed = try await routedEnvironment(environment, route: route, daemons: daemons, owners: owners, observersOnly: false)
                    return [try await LeaseWorkloads.renew(routed, system: .coordd, depth: 1)]
                }
            }
            return results
        case .fanout:
            var results: [WorkloadResult] = []
            for variant in environment.sizes.fanoutVariants {
                for route in ClusterRoute.allCases {
                    // The workers and the changer are on the owner either way; only the observers move.
                    results += await measured(variant.name, route: route, daemons: count) {
                        let routed = try await routedEnvironment(environment, route: route, daemons: daemons, owners: owners, observersOnly: true)
                        return try await FanoutWorkload.run(routed, system: .coordd, variant: variant)
                    }
                }
            }
            return results
        case .failover:
            return [try await FailoverWorkload.run(environment, daemons: daemons, owners: owners,
                                                   rounds: options.int("rounds") ?? defaultRounds)]
        }
    }

    /// `environment` with a new store placed on the cluster and the clients pointed at its owner, or at
    /// another daemon (all of them, or with `observersOnly` only the fan-out's observers). A different
    /// daemon opens each store, so the owner need not be the same daemon every time.
    private static func routedEnvironment(_ environment: BenchEnvironment, route: ClusterRoute, daemons: ClusterDaemons,
                                          owners: StoreOwners, observersOnly: Bool) async throws -> BenchEnvironment {
        let store = WireUUID.random()
        let members = daemons.all
        let opener = members[Int.random(in: 0..<members.count)]
        let (owner, front) = try await owners.place(store, through: opener)
        let entry = route == .owner ? owner : front
        log("coordbench: store \(store) owned by \(owner.nodeID); \(observersOnly ? "observers" : "clients") on \(entry.nodeID)")
        var routed = environment
        routed.coorddStore = store
        if observersOnly {
            routed.coordd = owner.target(loops: environment.loops)
            routed.coorddObservers = entry.target(loops: environment.loops)
        } else {
            routed.coordd = entry.target(loops: environment.loops)
        }
        return routed
    }

    /// The results of `run` on `route`, labelled; a run that fails gives a row saying why, and the other
    /// route still runs (as a failing system does in a run of the peers).
    private static func measured(_ title: String, route: ClusterRoute, daemons: Int,
                                 _ run: () async throws -> [WorkloadResult]) async -> [WorkloadResult] {
        let results: [WorkloadResult]
        do {
            results = try await run()
        } catch {
            log("coordbench: \(title) on \(route.rawValue) failed: \(error)")
            results = [WorkloadResult(workload: title, system: route.rawValue, operations: 0, elapsed: .zero, latencies: Samples(),
                                      notes: [("error", "\(error)")])]
        }
        return results.map { labelled($0, route: route, daemons: daemons) }
    }

    /// `result` under its route's system name, its workload naming the cluster's size.
    private static func labelled(_ result: WorkloadResult, route: ClusterRoute, daemons: Int) -> WorkloadResult {
        var labelled = result
        labelled.system = route.rawValue
        labelled.workload = "\(result.workload), \(daemons)-daemon cluster"
        return labelled
    }
}
