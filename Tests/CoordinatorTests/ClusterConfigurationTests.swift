import Coordinator
import Ownership
import Testing

/// `--cluster-node-id`, `--ownership-ttl` and `--advertise-url`: set by flag or variable with
/// `--storage postgres`, refused with a clear message otherwise or when malformed.
struct ClusterConfigurationTests {
    static let postgres = ["--storage", "postgres", "--postgres-url", "postgresql://h/db"]

    func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws(DaemonConfigurationError) -> DaemonConfiguration {
        try PostgresConfigurationTests().parse(arguments, environment)
    }

    @Test func flagsAndVariablesSetTheClusterSettings() throws {
        let c = try parse(Self.postgres + ["--ownership-ttl", "4s", "--advertise-url", "wss://coordd-1.internal:7070"],
                          ["COORDD_CLUSTER_NODE_ID": "coordd-1"])
        #expect(c.clusterNodeID == "coordd-1")
        #expect(c.ownershipTTLMs == 4_000)
        #expect(c.advertiseURL == "wss://coordd-1.internal:7070")
        let logged = c.logFields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        #expect(logged.contains("cluster_node_id=coordd-1 ownership_ttl=4s advertise_url=wss://coordd-1.internal:7070"))
    }

    @Test func defaultsAreTenSecondsAndTheHostAndPort() throws {
        let c = try parse(Self.postgres)
        #expect(c.clusterNodeID == nil)
        #expect(c.ownershipTTLMs == OwnershipTiming.defaultTTLMs)
        #expect(ClusterNodeID.defaultID(port: 7070).hasSuffix(":7070"))
        #expect(ClusterNodeID.problem(with: ClusterNodeID.defaultID(port: 7070)) == nil)
        #expect(DaemonConfiguration.helpText.contains("--cluster-node-id ID"))
        #expect(DaemonConfiguration.helpText.contains("env COORDD_OWNERSHIP_TTL; default 10s"))
    }

    @Test(arguments: [
        (["--cluster-node-id", "a"], "--cluster-node-id: applies only with --storage postgres"),
        (["--ownership-ttl", "5s"], "--ownership-ttl: applies only with --storage postgres"),
        (["--advertise-url", "ws://h:1"], "--advertise-url: applies only with --storage postgres"),
        (postgres + ["--cluster-node-id", "two words"], "must not contain spaces or control characters"),
        (postgres + ["--cluster-node-id", String(repeating: "n", count: 256)], "at most 255 bytes"),
        (postgres + ["--ownership-ttl", "500ms"], "must be from 1s to 10m"),
        (postgres + ["--ownership-ttl", "1h"], "must be from 1s to 10m"),
        (postgres + ["--advertise-url", "http://h:7070"], "must be a ws:// or wss:// URL"),
    ])
    func badClusterSettingsAreRefused(arguments: [String], message: String) {
        do {
            _ = try parse(arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }
}
