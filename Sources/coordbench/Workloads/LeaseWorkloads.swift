import CoordBenchKit
import StreamCore

/// The lease workloads: renewals of held leases (one in flight per client, and pipelined), and
/// durable acquire/release cycles on fresh keys.
enum LeaseWorkloads {
    /// `lease-renew`: `renewClients` clients each hold one lease and renew it in a loop, `depth`
    /// renewals in flight per client (1: one request in flight).
    static func renew(_ environment: BenchEnvironment, system: System, depth: Int) async throws -> WorkloadResult {
        let clients = environment.sizes.renewClients
        let store = environment.workloadStore()
        let outcome: ClosedLoopOutcome
        let pid = environment.pid(of: system)
        switch system {
        case .coordd, .coorddPostgres:
            outcome = try await runClosedLoop(clients: clients, sizes: environment.sizes, serverPID: pid) {
                try await CoorddRenewSession(environment: environment, store: store, index: $0, depth: depth)
            }
        case .etcd:
            outcome = try await runClosedLoop(clients: clients, sizes: environment.sizes, serverPID: pid) {
                try await EtcdRenewSession(environment: environment, index: $0, depth: depth)
            }
        case .redis:
            outcome = try await runClosedLoop(clients: clients, sizes: environment.sizes, serverPID: pid) {
                try await RedisRenewSession(environment: environment, index: $0, depth: depth)
            }
        }
        let name = (depth == 1 ? Workload.leaseRenew : Workload.leaseRenewPipelined).title(environment.sizes)
        return outcome.result(workload: name, system: system,
                              notes: depth == 1 ? [] : [("latency", "of a round of \(depth) renewals")])
    }

    /// `lease-acquire`: `acquireClients` clients each acquire a lease on a fresh key and release it,
    /// one request in flight; an operation is one acquire + release.
    static func acquire(_ environment: BenchEnvironment, system: System) async throws -> WorkloadResult {
        let clients = environment.sizes.acquireClients
        let store = WireUUID.random()
        let pid = environment.pid(of: system)
        let outcome: ClosedLoopOutcome
        switch system {
        case .coordd, .coorddPostgres:
            outcome = try await runClosedLoop(clients: clients, sizes: environment.sizes, serverPID: pid) {
                try await CoorddAcquireSession(environment: environment, store: store, index: $0)
            }
        case .etcd:
            outcome = try await runClosedLoop(clients: clients, sizes: environment.sizes, serverPID: pid) {
                try await EtcdAcquireSession(environment: environment, index: $0)
            }
        case .redis:
            outcome = try await runClosedLoop(clients: clients, sizes: environment.sizes, serverPID: pid) {
                try await RedisAcquireSession(environment: environment, index: $0)
            }
        }
        return outcome.result(workload: Workload.leaseAcquire.title(environment.sizes), system: system,
                              notes: [("op", "acquire + release of a fresh key")])
    }
}

extension ClosedLoopOutcome {
    /// The report row of this run.
    func result(workload: String, system: System, metrics: [Metric] = [], notes: [(String, String)] = []) -> WorkloadResult {
        WorkloadResult(workload: workload, system: system.rawValue, operations: operations, elapsed: elapsed,
                       latencies: latencies, serverCPUMicrosPerOp: serverCPUMicrosPerOp,
                       metrics: metrics + (clientCPUMicrosPerOp.map { [Metric("client CPU µs/op", $0)] } ?? []), notes: notes)
    }
}
