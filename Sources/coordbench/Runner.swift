import CoordBenchKit
import Foundation

/// The workloads `coordbench` runs against coordd and its peers, in the order `all` runs them.
enum Workload: String, CaseIterable {
    case leaseRenew = "lease-renew"
    case leaseRenewPipelined = "lease-renew-pipelined"
    case leaseAcquire = "lease-acquire"
    case fanout
    case produce
    case connections

    /// Runs the workload on every system of `environment`, coordd first; a system that fails gets a row
    /// saying why, and the others still run.
    func run(_ environment: BenchEnvironment, progress: (WorkloadResult) -> Void) async -> [WorkloadResult] {
        var results: [WorkloadResult] = []
        for system in environment.systems {
            let produced: [WorkloadResult]
            do {
                produced = try await run(environment.focused(on: system), system: system)
            } catch {
                produced = [WorkloadResult(workload: title(environment.sizes), system: system.rawValue, operations: 0,
                                           elapsed: .zero, latencies: Samples(), notes: [("error", "\(error)")])]
            }
            for result in produced { progress(result) }
            results += produced
        }
        return results
    }

    /// The report title of the workload's (first) table, with its sizes.
    func title(_ sizes: BenchSizes) -> String {
        switch self {
        case .leaseRenew: "lease-renew (\(sizes.renewClients) clients)"
        case .leaseRenewPipelined: "lease-renew pipelined (\(sizes.renewClients) clients × \(sizes.pipelineDepth) in flight)"
        case .leaseAcquire: "lease-acquire durable (\(sizes.acquireClients) clients)"
        case .fanout: "fanout"
        case .produce: "produce durable (\(sizes.producers) producers × \(sizes.batch) records × \(sizes.payloadBytes) B)"
        case .connections:
            "connections (\(sizes.connections) workers, \(sizes.heartbeatMs) ms heartbeats, \(Report.format(sizes.holdSeconds)) s)"
        }
    }

    private func run(_ environment: BenchEnvironment, system: System) async throws -> [WorkloadResult] {
        switch self {
        case .leaseRenew:
            return [try await LeaseWorkloads.renew(environment, system: system, depth: 1)]
        case .leaseRenewPipelined:
            return [try await LeaseWorkloads.renew(environment, system: system, depth: environment.sizes.pipelineDepth)]
        case .leaseAcquire:
            return [try await LeaseWorkloads.acquire(environment, system: system)]
        case .fanout:
            var results: [WorkloadResult] = []
            for variant in environment.sizes.fanoutVariants {
                if !system.isCoordd && variant.observers > environment.sizes.peerMaxObservers { continue }
                do {
                    results += try await FanoutWorkload.run(environment, system: system, variant: variant)
                } catch {
                    results.append(WorkloadResult(workload: variant.name, system: system.rawValue, operations: 0, elapsed: .zero,
                                                  latencies: Samples(), notes: [("error", "\(error)")]))
                }
            }
            return results
        case .produce:
            return try await ProduceWorkload.run(environment, system: system)
        case .connections:
            return [try await ConnectionsWorkload.run(environment, system: system)]
        }
    }
}
