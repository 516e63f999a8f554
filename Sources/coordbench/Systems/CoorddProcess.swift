import Foundation
import Glibc

/// A coordd daemon coordbench started itself: its own temporary data directory and a free loopback
/// port, stopped by PID (SIGTERM, then SIGKILL after a grace period) when the run ends.
final class CoorddProcess: Sendable {
    /// How long the daemon may take to answer `/readyz` after it was started.
    static let startTimeoutSeconds = 20.0
    /// How long a SIGTERM drain may take before SIGKILL (the daemon's own default grace is 10 s).
    static let stopTimeoutSeconds = 15.0

    /// The daemon's PID.
    let pid: Int32
    /// Where it listens.
    let endpoint: Endpoint
    private let process: Process
    private let dataDirectory: String
    private let logPath: String

    private init(process: Process, endpoint: Endpoint, dataDirectory: String, logPath: String) {
        self.process = process
        pid = process.processIdentifier
        self.endpoint = endpoint
        self.dataDirectory = dataDirectory
        self.logPath = logPath
    }

    /// Starts the daemon at `path` and waits until it is ready. `presenceTTLFloor` is passed as
    /// `--presence-ttl-floor` (the `connections` workload's 5 s heartbeats give a 15 s TTL with 15s);
    /// `storage` are the storage options (`--storage file` by default; the data directory is its own).
    /// `port` is a free loopback port unless given (a cluster daemon restarted on its old one);
    /// `arguments` are passed on after the others (the cluster flags).
    static func start(path: String, presenceTTLFloor: String, storage: [String] = ["--storage", "file"],
                      port: Int? = nil, arguments: [String] = [],
                      ready: (Endpoint) async -> Bool) async throws -> CoorddProcess {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw PeerError("no coordd executable at \(path) (build it with: swift build -c release --product coordd)")
        }
        let port = try port ?? freeLoopbackPort()
        let endpoint = Endpoint(host: "127.0.0.1", port: port)
        let dataDirectory = NSTemporaryDirectory() + "coordbench-coordd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let logPath = dataDirectory + ".log"
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else { throw PeerError("cannot create \(logPath)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [
            "--listen", endpoint.description, "--data-dir", dataDirectory,
            "--presence-ttl-floor", presenceTTLFloor, "--log-level", "warn",
        ] + storage + arguments
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let daemon = CoorddProcess(process: process, endpoint: endpoint, dataDirectory: dataDirectory, logPath: logPath)
        ChildProcesses.track(daemon.pid)
        let deadline = ContinuousClock.now + .seconds(startTimeoutSeconds)
        while ContinuousClock.now < deadline {
            if !process.isRunning { break }
            if await ready(endpoint) { return daemon }
            try await Task.sleep(for: .milliseconds(100))
        }
        let tail = (try? String(contentsOfFile: logPath, encoding: .utf8)).map { String($0.suffix(2_000)) } ?? ""
        daemon.stop()
        throw PeerError("coordd did not become ready within \(startTimeoutSeconds) s; its log ends:\n\(tail)")
    }

    /// Stops the daemon (SIGTERM, SIGKILL after ``stopTimeoutSeconds``), reaps it and removes its
    /// data directory. Idempotent.
    func stop() {
        if process.isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(Self.stopTimeoutSeconds)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        ChildProcesses.forget(pid)
        try? FileManager.default.removeItem(atPath: dataDirectory)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Kills the daemon with SIGKILL (a crash: nothing is drained or released), reaps it and removes
    /// its data directory.
    func kill9() {
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        stop()
    }

    /// A loopback port nothing listens on now: bound with port 0 and released. Another process could
    /// take it before the daemon binds it; the daemon then fails to start and says so.
    private static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PeerError("socket failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                bind(fd, sockaddrPointer, length) == 0 && getsockname(fd, sockaddrPointer, &length) == 0
            }
        }
        guard bound else { throw PeerError("bind to 127.0.0.1:0 failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
