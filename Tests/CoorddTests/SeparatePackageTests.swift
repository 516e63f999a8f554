import CoordTestKit
import Foundation
import StreamCore
import Testing

/// Another package depends on this one by path, uses the `CoordClient` product, and runs against a real
/// daemon: what an application does. It is a second SwiftPM build (of the client's modules only) in its
/// own temporary directory, sharing nothing with this checkout's `.build`.
@Suite(.serialized)
struct SeparatePackageTests {
    /// This package's root: two levels above this file's directory.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The `swift` driver on the PATH, when there is one.
    static let swift: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        .map { "\($0)/swift" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs unless no toolchain can be found outside CI; in CI (`COORDD_CI=1`) it always runs.
    static let runs: Bool = {
        if swift != nil || ProcessInfo.processInfo.environment["COORDD_CI"] == "1" { return true }
        print("SeparatePackageTests: skipped, no swift driver on the PATH to build a separate package with")
        return false
    }()

    @Test(.enabled(if: runs), .timeLimit(.minutes(20)))
    func anApplicationPackageBuildsAgainstTheLibraryProductAndRuns() async throws {
        let swift = try #require(Self.swift, "no swift driver on the PATH")
        let scratch = try TemporaryDirectory(prefix: "coordd-app")
        defer { scratch.remove() }
        let app = scratch.path + "/app"
        try FileManager.default.createDirectory(atPath: app + "/Sources/app", withIntermediateDirectories: true)
        let identity = URL(fileURLWithPath: Self.root).lastPathComponent.lowercased()
        try Data("""
            // swift-tools-version:6.0
            import PackageDescription

            let package = Package(
                name: "app",
                platforms: [.macOS(.v15)],
                dependencies: [.package(path: "\(Self.root)")],
                targets: [.executableTarget(name: "app", dependencies: [.product(name: "CoordClient", package: "\(identity)")])]
            )
            """.utf8).write(to: URL(fileURLWithPath: app + "/Package.swift"))
        try Data("""
            import CoordClient

            let url = CommandLine.arguments[1]
            try await withCoordClient(url: url) { client in
                try await client.withSession(metadata: ["app": "1"]) { session in
                    try await session.withLease(key: "app-job") { lease in
                        let statuses = try await client.append(space: "app", segment: "s", payloads: [Array("hello".utf8)],
                                                               fence: lease.produceFence)
                        print("fence \\(lease.fence) sequence \\(statuses.last?.lastSequence ?? 0)")
                    }
                }
                do {
                    _ = try await client.acquire(key: "", holder: "h", ttl: .seconds(1), waitingUpTo: .seconds(1))
                } catch CoordError.invalidRequest(let message) {
                    print("typed: \\(message)")
                }
            }
            """.utf8).write(to: URL(fileURLWithPath: app + "/Sources/app/main.swift"))

        // One job at the lowest priority: the compiler must not starve the timing-sensitive tests of the
        // same run of the machine's two cores.
        let build = try await runProgram(
            "/usr/bin/nice",
            ["-n", "19", swift, "build", "-j", "1", "--package-path", app, "--scratch-path", app + "/.build", "--product", "app"])
        #expect(build.status == 0, "the application package did not build:\n\(build.out)\n\(build.err)")
        guard build.status == 0 else { return }
        let binPath = try await runProgram(swift, ["build", "--package-path", app, "--scratch-path", app + "/.build", "--show-bin-path"])
        let binary = binPath.out.trimmingCharacters(in: .whitespacesAndNewlines) + "/app"

        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--storage", "memory"], logPath: scratch.path + "/d.log")
        defer { daemon.stop() }
        let run = try await runProgram(binary, ["ws://" + (try await daemon.listeningAddress())])
        #expect(run.status == 0 && run.out == "fence 1 sequence 1\ntyped: lease key must not be empty\n", "\(run)")
    }
}
