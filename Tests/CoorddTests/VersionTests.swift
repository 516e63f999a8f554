import CoordTestKit
import Foundation
import StreamCore
import Testing

/// One version everywhere: `--version` of both binaries, the start-up log line, `/healthz`, and
/// `coordctl health` reading it.
@Suite(.serialized)
struct VersionTests {
    @Test(arguments: ["coordd", "coordctl"])
    func versionPrintsTheProgramAndTheBuildVersion(_ program: String) async throws {
        let run = try await runProgram(try DaemonProcess.executable(program), ["--version"])
        #expect(run.status == 0)
        #expect(run.out == "\(program) \(BuildInfo.version)\n")
        #expect(run.err.isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func theStartLineAndHealthzCarryTheVersionAndCoordctlHealthReadsThem() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-version")
        defer { scratch.remove() }
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--storage", "memory"], logPath: scratch.path + "/d.log")
        defer { daemon.stop() }
        let server = "ws://" + (try await daemon.listeningAddress())
        let start = try #require(daemon.logText.split(separator: "\n").first { $0.contains("msg=\"starting coordd\"") })
        #expect(start.contains(" version=\(BuildInfo.version) "))

        let health = try await runCoordctl(["health", "--server", server])
        #expect(health.status == 0 && health.out == "ok coordd \(BuildInfo.version)\n", "\(health)")
        let ready = try await runCoordctl(["health", "--ready", "--server", server])
        #expect(ready.status == 0 && ready.out == "ready\n", "\(ready)")

        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(seconds: 15).status == 0)
        let gone = try await runCoordctl(["health", "--server", server])
        #expect(gone.status == 3 && gone.out.isEmpty && gone.err.hasPrefix("error: "), "no daemon answers: \(gone)")
    }
}
