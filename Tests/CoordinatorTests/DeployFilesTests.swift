import Coordinator
import Foundation
import StreamCore
import Testing

/// The files in `deploy/` agree with the daemon and with each other: every setting they give is one
/// coordd reads, with a value it accepts; the supervisors wait longer than the drain; the unit hands
/// over the credentials the environment names. (`deploy/check.sh` checks the rest with the tools
/// themselves: `systemd-analyze verify`, the manifests' YAML, the container steps.)
struct DeployFilesTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func read(_ path: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
    }

    /// `KEY=VALUE` lines that are not comments.
    static func assignments(_ text: String) -> [(key: String, value: String)] {
        text.split(separator: "\n").compactMap { line in
            let line = line.trimmingCharacters(in: .whitespaces)
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
    }

    /// The values of `key` in a systemd unit, in order.
    static func unitValues(_ unit: String, _ key: String) -> [String] {
        assignments(unit).filter { $0.key == key }.map(\.value)
    }

    static let settings = Set(DaemonOption.allCases.compactMap(\.environmentName))

    @Test func theEnvironmentFileSetsOnlyCoorddSettingsThatTheDaemonAccepts() throws {
        let pairs = Self.assignments(try Self.read("deploy/systemd/coordd.env"))
        #expect(!pairs.isEmpty)
        for (key, _) in pairs { #expect(Self.settings.contains(key), "\(key) is not a coordd setting") }
        let unit = try Self.read("deploy/systemd/coordd.service")
        var environment = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        for line in Self.unitValues(unit, "Environment") {
            let pair = try #require(Self.assignments(line).first)
            environment[pair.key] = pair.value
        }
        let invocation = try DaemonConfiguration.parse(arguments: [], environment: environment)
        guard case .run(let configuration) = invocation else {
            Issue.record("not a configuration: \(invocation)")
            return
        }
        #expect(configuration.dataDirectory == "/var/lib/coordd")
        #expect(configuration.requiresTokens && configuration.usesTLS && !configuration.listen.isLoopback)

        // systemd waits for the drain and the daemon's own 2 s guard before it kills.
        let stop = try #require(Self.unitValues(unit, "TimeoutStopSec").first)
        #expect(try DurationText.milliseconds(stop) > configuration.shutdownGraceMs + 2_000)
    }

    @Test func theUnitHandsOverEveryCredentialTheEnvironmentNames() throws {
        let unit = try Self.read("deploy/systemd/coordd.service")
        let loaded = Set(Self.unitValues(unit, "LoadCredential").map { String($0.prefix { $0 != ":" }) })
        let prefix = "/run/credentials/coordd.service/"
        let named = Self.assignments(try Self.read("deploy/systemd/coordd.env")).map(\.value).filter { $0.hasPrefix(prefix) }
        #expect(!named.isEmpty)
        for path in named { #expect(loaded.contains(String(path.dropFirst(prefix.count))), "\(path) is not a LoadCredential") }
    }

    @Test func theUnitRunsUnprivilegedInItsStateDirectoryAndStopsWithSIGTERM() throws {
        let unit = try Self.read("deploy/systemd/coordd.service")
        let expected: [(String, String)] = [
            ("DynamicUser", "yes"), ("StateDirectory", "coordd"), ("Environment", "COORDD_DATA_DIR=/var/lib/coordd"),
            ("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
            ("CapabilityBoundingSet", ""), ("Restart", "on-failure"), ("KillSignal", "SIGTERM"),
            ("RestartPreventExitStatus", "2"), ("ExecStart", "/usr/local/bin/coordd"),
        ]
        for (key, value) in expected { #expect(Self.unitValues(unit, key).contains(value), "\(key)=\(value)") }
        #expect(Int(try #require(Self.unitValues(unit, "LimitNOFILE").first)) ?? 0 >= 65_536)
    }

    @Test func theContainerImageSetsValidSettingsListensOnItsExposedPortAndChecksHealthWithCoordctl() throws {
        let containerfile = try Self.read("deploy/container/Containerfile")
        let joined = containerfile.replacingOccurrences(of: "\\\n", with: " ")
        let envLine = try #require(joined.split(separator: "\n").first { $0.hasPrefix("ENV ") })
        var environment: [String: String] = [:]
        for word in envLine.dropFirst(4).split(separator: " ") where word.contains("=") {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            environment[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        for key in environment.keys { #expect(Self.settings.contains(key), "\(key) is not a coordd setting") }
        guard case .run(let configuration) = try DaemonConfiguration.parse(arguments: [], environment: environment) else {
            Issue.record("the image's settings do not configure a daemon")
            return
        }
        #expect(joined.contains("EXPOSE \(configuration.listen.port)\n"))
        #expect(joined.contains("VOLUME \(configuration.dataDirectory)\n"))
        #expect(joined.contains(#"CMD ["coordctl", "health", "--server", "ws://127.0.0.1:\#(configuration.listen.port)"]"#))
        #expect(joined.contains("USER 10001:10001\n"), "the daemon runs as the non-root user the Kubernetes manifest names")
        #expect(joined.contains("FROM swift:6.3-"))
        #expect(joined.contains("apt-get install -y --no-install-recommends libpq5 libssl3 &&"))
    }

    @Test func theBuildStepsScriptRunsTheContainerfileRatherThanItsOwnCopy() throws {
        let script = try Self.read("deploy/container/build-steps.sh")
        #expect(script.contains("containerfile=deploy/container/Containerfile"))
        #expect(!script.contains("swift build"), "the script must take its build commands from the Containerfile")
        let containerfile = try Self.read("deploy/container/Containerfile")
        #expect(containerfile.contains("RUN swift build -c release --static-swift-stdlib --product coordd"))
        let ci = try Self.read(".ci/run")
        #expect(ci.contains("swift build -c release --static-swift-stdlib\n"), "CI builds what the container builds")
        #expect(ci.contains("deploy/check.sh\n") && ci.contains("COORDD_CI=1 swift test"))
    }
}
