import CoordTestKit
import Foundation
import Testing

/// A `coordd` child process started from the binary built beside the tests, with its stderr (the log)
/// in a file the test reads.
///
/// Spawned and reaped here (``ChildProcess/spawn(_:_:input:output:errors:environment:)`` and `waitpid`),
/// not through Foundation's `Process`, which learns of an exit through a descriptor that any other child
/// spawned at the same moment inherits too: a daemon that had exited then looked alive until that other
/// child ended.
final class DaemonProcess: @unchecked Sendable {
    let logPath: String
    /// The pid, and how the process ended once it has been reaped (guarded by `lock`).
    let pid: Int32
    private let lock = NSLock()
    private var ended: ChildProcess.Ending?

    /// A built executable (`coordd`, `coordctl`): next to the test bundle.
    static func executable(_ name: String) throws -> String {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundleDirectory.appendingPathComponent(name).path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name).path,
        ]
        let path = candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(path, "\(name) not found in \(candidates)")
    }

    /// Starts `coordd` with `arguments`, logging to `logPath`; with `openFilesLimit`, under that limit on
    /// descriptors (soft and hard, set by the shell that then becomes coordd).
    init(arguments: [String], logPath: String, environment: [String: String] = [:], openFilesLimit: Int? = nil) throws {
        self.logPath = logPath
        try #require(FileManager.default.createFile(atPath: logPath, contents: nil))
        let coordd = try Self.executable("coordd")
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COORDD_") }
        env.merge(environment) { $1 }
        if let openFilesLimit {
            pid = try ChildProcess.spawn(
                "/bin/sh", ["-c", "ulimit -n \(openFilesLimit) && exec \"$0\" \"$@\"", coordd] + arguments,
                output: logPath, errors: logPath, environment: env)
        } else {
            pid = try ChildProcess.spawn(coordd, arguments, output: logPath, errors: logPath, environment: env)
        }
    }

    /// True until the process has exited (reaping it then, without blocking).
    var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if ended != nil { return false }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return true }
        ended = ChildProcess.Ending(waitStatus: status)
        return false
    }

    /// The log so far.
    var logText: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The `host:port` of the `listening` line, once it is logged (polled for up to `seconds`).
    func listeningAddress(seconds: Double = 20) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            for line in logText.split(separator: "\n") where line.contains(" msg=listening ") {
                if let field = line.split(separator: " ").first(where: { $0.hasPrefix("addr=") }) {
                    return String(field.dropFirst("addr=".count))
                }
            }
            if !isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw DaemonProcessError("coordd did not log a listening address; log:\n\(logText)")
    }

    /// Sends `signal`.
    func signal(_ number: Int32) { kill(pid, number) }

    /// How the process ended: `.exit` with its code, or `.uncaughtSignal` with the signal's number.
    enum TerminationReason: Sendable { case exit, uncaughtSignal }

    /// Waits up to `seconds` for the exit; returns the status and how long it took, or throws (after
    /// killing the process) when it does not exit in time.
    func waitForExit(seconds: Double) async throws -> (status: Int32, reason: TerminationReason, elapsed: Duration) {
        let started = ContinuousClock.now
        while isRunning {
            if ContinuousClock.now - started > .seconds(seconds) {
                stop()
                throw DaemonProcessError("coordd did not exit within \(seconds) s; log:\n\(logText)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let ending = lock.withLock { ended }!
        let elapsed = ContinuousClock.now - started
        if let signal = ending.signal { return (signal, .uncaughtSignal, elapsed) }
        return (ending.code, .exit, elapsed)
    }

    /// Kills the process if it still runs and reaps it (for cleanup after a failed test).
    func stop() {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        // Bounded: a killed process ends at once; 500 polls of 10 ms.
        for _ in 0..<500 where isRunning { usleep(10_000) }
    }
}

struct DaemonProcessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A plain HTTP/1.1 GET to 127.0.0.1 (for /healthz, /readyz, /metrics), on a thread of its own so its
/// blocking socket never holds a thread of the concurrency pool.
func httpGet(port: Int, path: String) async throws -> (status: Int, body: String) {
    try await onBlockingThread { try blockingHTTPGet(port: port, path: path) }
}

private func blockingHTTPGet(port: Int, path: String) throws -> (status: Int, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw DaemonProcessError("socket failed") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw DaemonProcessError("connect to port \(port) failed: errno \(errno)") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    guard send(fd, request, request.count, 0) == request.count else { throw DaemonProcessError("send failed") }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16_384)
    // Bounded: at most 1,000 reads of up to 16 KiB, each with the 5 s receive timeout.
    for _ in 0..<1_000 {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { break }
        response.append(contentsOf: buffer[0..<count])
    }
    let text = String(decoding: response, as: UTF8.self)
    let statusWords = text.split(separator: "\r\n").first?.split(separator: " ") ?? []
    guard statusWords.count >= 2, let status = Int(statusWords[1]), let headEnd = text.range(of: "\r\n\r\n")
    else {
        throw DaemonProcessError("no HTTP response from port \(port): \(text)")
    }
    return (status, String(text[headEnd.upperBound...]))
}
