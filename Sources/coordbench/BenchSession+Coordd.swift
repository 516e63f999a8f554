import Foundation
import Transport

extension BenchSession {
    /// Where coordbench looks for the daemon when neither `--coordd` nor `--coordd-url` is given.
    static let defaultCoorddPath = ".build/release/coordd"

    /// Sets up the coordd target: a daemon started from `--coordd PATH` (returned, to be stopped), or
    /// the running one at `--coordd-url`. `--no-coordd` measures the peers alone.
    static func coordd(options: Options, environment: inout BenchEnvironment) async throws -> CoorddProcess? {
        if options.flag("no-coordd") { return nil }
        let loops = environment.loops
        if let url = options.value("coordd-url") {
            environment.coordd = CoorddTarget(pid: options.int("coordd-pid").map(Int32.init)) {
                try await CoorddConnection.open(url: url, loops: loops)
            }
            return nil
        }
        let daemon = try await startCoordd(options: options, environment: environment, storage: ["--storage", "file"])
        environment.coordd = daemon.target(loops: loops)
        return daemon
    }

    /// With `--coordd-postgres URL`, starts a second daemon of the same executable on that PostgreSQL
    /// database (returned, to be stopped), measured as the system `coordd-postgres`. Without a URL, the
    /// database of bench/peers.sh.
    static func coorddPostgres(options: Options, environment: inout BenchEnvironment) async throws -> CoorddProcess? {
        guard options.flag("coordd-postgres") || options.value("coordd-postgres") != nil else { return nil }
        let peersDirectory = options.value("peers-dir") ?? "bench/.peers"
        guard let url = options.value("coordd-postgres") ?? stateValue(peersDirectory, "postgres.url") else {
            throw PeerError("no PostgreSQL for --coordd-postgres: start it with bench/peers.sh start, or give its URL")
        }
        let daemon = try await startCoordd(options: options, environment: environment,
                                           storage: ["--storage", "postgres", "--postgres-url", url])
        environment.coorddPostgres = daemon.target(loops: environment.loops)
        return daemon
    }

    /// Starts a daemon of `--coordd PATH` with `storage` options; on `port` when given, with `arguments`
    /// after the others (a cluster daemon's flags).
    static func startCoordd(options: Options, environment: BenchEnvironment, storage: [String], port: Int? = nil,
                            arguments: [String] = []) async throws -> CoorddProcess {
        let path = options.value("coordd") ?? defaultCoorddPath
        let loops = environment.loops
        // The connections workload's workers renew every heartbeat period; a TTL of three periods is
        // the streamkit rule, so the daemon's floor is set to that rather than its 30 s default.
        let floorSeconds = max(1, 3 * environment.sizes.heartbeatMs / 1_000)
        return try await CoorddProcess.start(path: path, presenceTTLFloor: "\(floorSeconds)s", storage: storage, port: port,
                                             arguments: arguments) { endpoint in
            await isReady(endpoint, loops: loops)
        }
    }

    /// True when the daemon at `endpoint` answers `/readyz` with 200.
    static func isReady(_ endpoint: Endpoint, loops: EventLoopGroup) async -> Bool {
        guard let http = try? await HTTPConnection.connect(to: endpoint, on: loops.next()) else { return false }
        defer { http.close() }
        return (try? await http.get("/readyz"))?.status == 200
    }
}

extension CoorddProcess {
    /// How the workloads reach this daemon.
    func target(loops: EventLoopGroup) -> CoorddTarget {
        let url = "ws://\(endpoint)"
        return CoorddTarget(pid: pid) { try await CoorddConnection.open(url: url, loops: loops) }
    }
}
