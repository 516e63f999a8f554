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
        let path = options.value("coordd") ?? defaultCoorddPath
        // The connections workload's workers renew every heartbeat period; a TTL of three periods is
        // the streamkit rule, so the daemon's floor is set to that rather than its 30 s default.
        let floorSeconds = max(1, 3 * environment.sizes.heartbeatMs / 1_000)
        let daemon = try await CoorddProcess.start(path: path, presenceTTLFloor: "\(floorSeconds)s") { endpoint in
            await isReady(endpoint, loops: loops)
        }
        let url = "ws://\(daemon.endpoint)"
        environment.coordd = CoorddTarget(pid: daemon.pid) { try await CoorddConnection.open(url: url, loops: loops) }
        return daemon
    }

    /// True when the daemon at `endpoint` answers `/readyz` with 200.
    private static func isReady(_ endpoint: Endpoint, loops: EventLoopGroup) async -> Bool {
        guard let http = try? await HTTPConnection.connect(to: endpoint, on: loops.next()) else { return false }
        defer { http.close() }
        return (try? await http.get("/readyz"))?.status == 200
    }
}
