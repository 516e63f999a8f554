import CoordBenchKit
import Foundation
import Synchronization
import Transport

/// One daemon of the measured cluster: its node id, where clients reach it, and its process when this
/// run started it.
struct ClusterMember: Sendable {
    /// Its position in the cluster (the order of `--cluster-urls`, or of starting).
    var index: Int
    /// Its `--cluster-node-id`.
    var nodeID: String
    /// `ws://host:port`.
    var url: String
    /// The process, when coordbench started it (only then can the fail-over workload kill it).
    var process: CoorddProcess?

    /// How the workloads reach it. No PID: the server CPU of a forwarded request is spent on two
    /// daemons, so a cluster run reports none rather than half of it.
    func target(loops: EventLoopGroup) -> CoorddTarget {
        let url = url
        return CoorddTarget(pid: nil) { try await CoorddConnection.open(url: url, loops: loops) }
    }
}

/// The daemons of a cluster run: N started by coordbench on one PostgreSQL (`--cluster N`; stopped by
/// PID when the run ends, restartable one by one), or running ones given by URL (`--cluster-urls`).
final class ClusterDaemons: Sendable {
    private let members: Mutex<[ClusterMember]>
    /// The database every daemon of the cluster shares.
    let postgresURL: String
    /// The ownership TTL the started daemons were given (`--ownership-ttl`); nil: coordd's default.
    let ownershipTTL: String?
    /// True when coordbench started the daemons (and may kill and restart them).
    let started: Bool
    private let launch: (@Sendable (_ member: ClusterMember, _ port: Int?) async throws -> CoorddProcess)?
    private let secretFile: String?

    /// Bytes of the cluster secret coordbench writes for the daemons it starts (coordd asks for 32 at least).
    static let secretBytes = 48
    /// Longest wait for a running daemon's `/readyz` to name it (its first renewal round comes a third of
    /// its ownership TTL after it started).
    static let attachTimeoutSeconds = 60.0

    private init(members: [ClusterMember], postgresURL: String, ownershipTTL: String?, started: Bool,
                 launch: (@Sendable (ClusterMember, Int?) async throws -> CoorddProcess)?, secretFile: String?) {
        self.members = Mutex(members)
        self.postgresURL = postgresURL
        self.ownershipTTL = ownershipTTL
        self.started = started
        self.launch = launch
        self.secretFile = secretFile
    }

    /// The daemons now, in order.
    var all: [ClusterMember] { members.withLock { $0 } }

    /// The daemon with `nodeID`, if it is one of the cluster's.
    func member(nodeID: String) -> ClusterMember? { all.first { $0.nodeID == nodeID } }

    /// Starts `count` daemons of `--coordd PATH` on `postgresURL`, each with its own node id and port and
    /// the same cluster secret, and waits until every one is ready.
    static func start(count: Int, postgresURL: String, options: Options, environment: BenchEnvironment) async throws -> ClusterDaemons {
        guard count >= 2 else { throw PeerError("--cluster needs at least 2 daemons") }
        let secretFile = NSTemporaryDirectory() + "coordbench-cluster-secret-\(UUID().uuidString)"
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<secretBytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        guard FileManager.default.createFile(atPath: secretFile, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        else { throw PeerError("cannot write the cluster secret to \(secretFile)") }
        let ttl = options.value("ownership-ttl")
        let storage = ["--storage", "postgres", "--postgres-url", postgresURL]
        let launch: @Sendable (ClusterMember, Int?) async throws -> CoorddProcess = { member, port in
            try await BenchSession.startCoordd(
                options: options, environment: environment, storage: storage, port: port,
                arguments: ["--cluster-node-id", member.nodeID, "--cluster-secret-file", secretFile]
                    + (ttl.map { ["--ownership-ttl", $0] } ?? []))
        }
        let daemons = ClusterDaemons(members: [], postgresURL: postgresURL, ownershipTTL: ttl, started: true, launch: launch,
                                     secretFile: secretFile)
        do {
            for index in 0..<count {
                var member = ClusterMember(index: index, nodeID: "coordbench-\(environment.runTag)-\(index)", url: "", process: nil)
                let process = try await launch(member, nil)
                member.process = process
                member.url = "ws://\(process.endpoint)"
                daemons.members.withLock { $0.append(member) }
            }
        } catch {
            daemons.stopAll()
            throw error
        }
        return daemons
    }

    /// The running daemons at `urls`, each named by its own `/readyz` (its `self=yes` line).
    static func attach(urls: [String], postgresURL: String, loops: EventLoopGroup) async throws -> ClusterDaemons {
        var members: [ClusterMember] = []
        for (index, url) in urls.enumerated() {
            guard let endpoint = ClusterURLs.hostPort(of: url).flatMap(Endpoint.init) else { throw PeerError("not a daemon URL: \(url)") }
            let deadline = ContinuousClock.now + .seconds(attachTimeoutSeconds)
            var nodeID: String?
            while nodeID == nil {
                if let http = try? await HTTPConnection.connect(to: endpoint, on: loops.next()) {
                    if let response = try? await http.get("/readyz") {
                        let lines = ClusterStatusLine.parse(readyz: String(decoding: response.body, as: UTF8.self))
                        nodeID = lines.first(where: \.isSelf)?.nodeID
                    }
                    http.close()
                }
                if nodeID != nil { break }
                guard ContinuousClock.now < deadline else {
                    throw PeerError("\(url) named no cluster node in its /readyz within \(Int(attachTimeoutSeconds)) s (is it running with --storage postgres?)")
                }
                try await Task.sleep(for: .milliseconds(500))
            }
            members.append(ClusterMember(index: index, nodeID: nodeID ?? "", url: url, process: nil))
        }
        return ClusterDaemons(members: members, postgresURL: postgresURL, ownershipTTL: nil, started: false, launch: nil, secretFile: nil)
    }

    /// Kills daemon `index` with SIGKILL (a crash); only for daemons this run started.
    func kill(_ index: Int) {
        all[index].process?.kill9()
    }

    /// Starts daemon `index` again after ``kill(_:)``: the same node id (as an operator restarts a
    /// daemon), on the same port when it is still free.
    func restart(_ index: Int) async throws {
        guard let launch else { throw PeerError("only daemons coordbench started can be restarted") }
        var member = all[index]
        let oldPort = member.process?.endpoint.port
        let process: CoorddProcess
        do {
            process = try await launch(member, oldPort)
        } catch {
            log("coordbench: daemon \(member.nodeID) did not restart on port \(oldPort.map(String.init) ?? "?"), trying another: \(error)")
            process = try await launch(member, nil)
        }
        member.process = process
        member.url = "ws://\(process.endpoint)"
        members.withLock { $0[index] = member }
    }

    /// Stops every daemon this run started (SIGTERM, then SIGKILL) and removes the secret file.
    func stopAll() {
        for member in all { member.process?.stop() }
        if let secretFile { try? FileManager.default.removeItem(atPath: secretFile) }
    }
}
