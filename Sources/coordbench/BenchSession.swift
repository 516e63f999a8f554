import CoordBenchKit
import Foundation
import Transport

/// One coordbench run: the systems set up from the options, the workloads run on each, everything
/// started stopped again however the run ends.
enum BenchSession {
    static func run(_ workloads: [Workload], options: Options) async throws -> [WorkloadResult] {
        ChildProcesses.installSignalHandlers()
        // Thousands of connections (the connections workload) need thousands of descriptors.
        _ = try? OpenFileLimit.raiseToHardLimit()
        let loops = try EventLoopGroup()
        defer { loops.shutdownGracefully(graceMs: 1_000) }
        let sizes = try BenchSizes(options)
        var environment = BenchEnvironment(loops: loops, sizes: sizes, runTag: Self.runTag())
        let peersDirectory = options.value("peers-dir") ?? "bench/.peers"
        for name in options.all("peer") {
            guard let system = System(rawValue: name), !system.isCoordd else { throw PeerError("unknown peer \(name) (etcd or redis)") }
            let target = try peerTarget(system, options: options, directory: peersDirectory)
            switch system {
            case .etcd: environment.etcd = target
            case .redis: environment.redis = target
            case .coordd, .coorddPostgres: break
            }
        }
        var daemon = try await coordd(options: options, environment: &environment)
        defer { daemon?.stop() }
        var postgresDaemon = try await coorddPostgres(options: options, environment: &environment)
        defer { postgresDaemon?.stop() }
        log("coordbench: run \(environment.runTag); systems: \(environment.systems.map(\.rawValue).joined(separator: ", "))"
            + (environment.sizes.clientsOnLoops ? "; clients on their connections' loops" : ""))
        var results: [WorkloadResult] = []
        for workload in workloads {
            // A daemon this run started is started afresh for `connections`, so its memory is that of
            // the workers and not what the allocator kept from the fan-out's 11,000 connections.
            if workload == .connections, workloads.first != .connections {
                if let previous = daemon {
                    previous.stop()
                    daemon = try await coordd(options: options, environment: &environment)
                }
                if let previous = postgresDaemon {
                    previous.stop()
                    postgresDaemon = try await coorddPostgres(options: options, environment: &environment)
                }
            }
            let started = ContinuousClock.now
            results += await workload.run(environment) { result in
                log(Report.table([result]))
            }
            log("coordbench: \(workload.rawValue) took \(Report.format((ContinuousClock.now - started).seconds)) s")
        }
        return results
    }

    /// Where a peer listens and its PID: from the options, else from the state bench/peers.sh wrote.
    private static func peerTarget(_ system: System, options: Options, directory: String) throws -> PeerTarget {
        let name = system.rawValue
        let stateEndpoint = stateValue(directory, "\(name).port").flatMap(Int.init).map { Endpoint(host: "127.0.0.1", port: $0) }
        guard let endpoint = options.value(name).flatMap(Endpoint.init) ?? stateEndpoint else {
            throw PeerError("\(name) is not running: start it with bench/peers.sh start, or pass --\(name) HOST:PORT")
        }
        let pid = options.int("\(name)-pid").map(Int32.init) ?? stateValue(directory, "\(name).pid").flatMap(Int32.init)
        return PeerTarget(endpoint: endpoint, pid: pid)
    }

    static func stateValue(_ directory: String, _ file: String) -> String? {
        (try? String(contentsOfFile: directory + "/" + file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A tag unique to this run (time-based, so names sort by run).
    static func runTag() -> String {
        "r" + String(UInt64(Date().timeIntervalSince1970 * 1_000), radix: 36)
    }
}

/// A line on standard error (progress; the report goes to standard output).
func log(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
