import CoordTestKit
import Foundation
import StreamCore
import Testing

/// A coordctl process left running, its standard output and error in files the test reads.
///
/// `@unchecked Sendable`: every stored property is a constant set in `init`; reads go to the files, and
/// `Process` answers `isRunning` from any thread.
final class CoordctlProcess: @unchecked Sendable {
    let process = Process()
    let outPath: String
    let errPath: String

    init(_ arguments: [String], directory: String, name: String) throws {
        outPath = "\(directory)/\(name).out"
        errPath = "\(directory)/\(name).err"
        for path in [outPath, errPath] { try #require(FileManager.default.createFile(atPath: path, contents: nil)) }
        process.executableURL = URL(fileURLWithPath: try DaemonProcess.executable("coordctl"))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COORDD_") }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
    }

    var out: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var err: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// `workers --watch` and `worker` through a daemon restart: they say when the connection is lost and when
/// it is back, and the watcher says the daemon restarted rather than showing revisions going back.
@Suite(.serialized)
struct CoordctlReconnectTests {
    @Test(.timeLimit(.minutes(2)))
    func watchAndWorkerSayWhenTheConnectionIsLostAndBack() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordctl-reconnect")
        defer { scratch.remove() }
        let first = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--storage", "memory"], logPath: scratch.path + "/1.log")
        defer { first.stop() }
        let address = try await first.listeningAddress()
        let server = "ws://" + address
        let watch = try CoordctlProcess(["workers", "--watch", "--server", server], directory: scratch.path, name: "watch")
        defer { watch.stop() }
        let worker = try CoordctlProcess(["worker", "--server", server, "--heartbeat", "1s", "--meta", "role=test"],
                                         directory: scratch.path, name: "worker")
        defer { worker.stop() }
        #expect(await eventually(seconds: 20) { watch.out.contains("role=test") }, "\(watch.out)")

        first.signal(SIGTERM)
        _ = try await first.waitForExit(seconds: 15)
        #expect(await eventually(seconds: 20) { watch.err.contains("connection lost (") && worker.err.contains("connection lost (") },
                "\(watch.err) | \(worker.err)")
        let shownBefore = watch.out

        let second = try DaemonProcess(arguments: ["--listen", address, "--storage", "memory"], logPath: scratch.path + "/2.log")
        defer { second.stop() }
        _ = try await second.listeningAddress()
        #expect(await eventually(seconds: 30) {
            watch.err.contains("connection back") && worker.err.contains("connection back")
                && watch.err.contains("the daemon restarted (new epoch ")
        }, "\(watch.err) | \(worker.err)")
        // The worker registered again with the new daemon, and the watcher shows it there.
        #expect(await eventually(seconds: 20) { watch.out.dropFirst(shownBefore.count).contains("role=test") }, "\(watch.out)")
        #expect(watch.process.isRunning && worker.process.isRunning)
    }
}
