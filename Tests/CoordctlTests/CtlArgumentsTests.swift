import StreamCore
import Testing

@testable import coordctl

struct CtlArgumentsTests {
    static let custom = WireUUID("6f1c2b4a-1111-4222-8333-944455556666")!

    static let accepted: [(arguments: [String], environment: [String: String], options: GlobalOptions, command: CtlCommand)] = [
        (["workers"], [:], GlobalOptions(), .workers(watch: false)),
        (["workers", "--watch"], [:], GlobalOptions(), .workers(watch: true)),
        (["--json", "workers", "--watch"], [:], GlobalOptions(json: true), .workers(watch: true)),
        (["worker"], [:], GlobalOptions(), .worker(id: nil, metadata: [:], heartbeatMs: 10_000)),
        (["worker", "--id", custom.description, "--meta", "role=indexer,zone=a=b", "--heartbeat", "500ms"], [:], GlobalOptions(),
         .worker(id: custom, metadata: ["role": "indexer", "zone": "a=b"], heartbeatMs: 500)),
        (["lease", "acquire", "p1"], [:], GlobalOptions(), .leaseAcquire(key: "p1", holder: nil, ttlMs: 30_000)),
        (["lease", "acquire", "p1", "--holder", "me", "--ttl", "1500ms"], [:], GlobalOptions(),
         .leaseAcquire(key: "p1", holder: "me", ttlMs: 1_500)),
        (["lease", "acquire", "--ttl=2m", "--", "--odd-key"], [:], GlobalOptions(),
         .leaseAcquire(key: "--odd-key", holder: nil, ttlMs: 120_000)),
        (["lease", "renew", "p1", "--holder=me"], [:], GlobalOptions(), .leaseRenew(key: "p1", holder: "me", ttlMs: 30_000)),
        (["lease", "release", "p1", "--holder", "me"], [:], GlobalOptions(), .leaseRelease(key: "p1", holder: "me")),
        (["lease", "list"], [:], GlobalOptions(), .leaseList(prefix: "")),
        (["lease", "list", "orders/"], [:], GlobalOptions(), .leaseList(prefix: "orders/")),
        (["produce", "orders", "a"], [:], GlobalOptions(), .produce(space: "orders", segment: "a")),
        (["consume", "orders"], [:], GlobalOptions(), .consume(space: "orders", segment: nil, follow: false)),
        (["consume", "orders", "a", "--follow"], [:], GlobalOptions(), .consume(space: "orders", segment: "a", follow: true)),
        (["spaces"], [:], GlobalOptions(), .spaces),
        (["segments", "orders"], [:], GlobalOptions(), .segments(space: "orders")),
        (["status"], [:], GlobalOptions(), .status),
        (["status"], ["COORDD_TOKEN": "from-env"], GlobalOptions(token: "from-env"), .status),
        (["status", "--token", "from-flag"], ["COORDD_TOKEN": "from-env"], GlobalOptions(token: "from-flag"), .status),
        (["status"], ["COORDD_TOKEN": ""], GlobalOptions(), .status),
        (["--server", "wss://coordd.example:7443", "--ca-file", "ca.pem", "status"], [:],
         GlobalOptions(server: "wss://coordd.example:7443", caFile: "ca.pem"), .status),
        (["status", "--store", custom.description], [:], GlobalOptions(store: custom), .status),
        (["status", "--store", custom.description.uppercased()], [:], GlobalOptions(store: custom), .status),
        (["--server", "wss://127.0.0.1:7443", "--ca-file", "ca.pem", "--cert-file", "c.pem", "--key-file", "c.key", "status"], [:],
         GlobalOptions(server: "wss://127.0.0.1:7443", caFile: "ca.pem", certFile: "c.pem", keyFile: "c.key"), .status),
        (["store", "create", custom.description], [:], GlobalOptions(), .storeCreate(custom)),
        (["--json", "store", "create", custom.description.uppercased()], [:], GlobalOptions(json: true), .storeCreate(custom)),
    ]

    @Test(arguments: accepted)
    func commandLinesParseIntoOptionsAndACommand(
        _ arguments: [String], _ environment: [String: String], _ options: GlobalOptions, _ command: CtlCommand
    ) throws {
        #expect(try CtlArguments.parse(arguments, environment: environment) == .run(options, command))
    }

    static let refused: [(arguments: [String], message: String, command: String?)] = [
        ([], "missing command", nil),
        (["frobnicate"], "unknown command \"frobnicate\"", nil),
        (["lease"], "lease needs a subcommand", "lease"),
        (["lease", "steal", "k"], "unknown command \"lease steal\"", "lease"),
        (["workers", "extra"], "workers takes no arguments, got 1", "workers"),
        (["worker", "--id", "w1"], "--id must be a UUID", "worker"),
        (["worker", "--id", "00000000-0000-0000-0000-000000000000"], "other than the nil UUID", "worker"),
        (["worker", "--meta", "role"], "--meta takes KEY=VALUE pairs", "worker"),
        (["worker", "--heartbeat", "0ms"], "--heartbeat must be more than 0", "worker"),
        (["workers", "--meta", "a=b"], "--meta is not an option of workers", "workers"),
        (["lease", "acquire"], "lease acquire takes KEY, got 0", "lease acquire"),
        (["lease", "acquire", ""], "KEY must not be empty", "lease acquire"),
        (["lease", "acquire", "k", "--ttl", "30"], "--ttl: missing unit", "lease acquire"),
        (["lease", "acquire", "k", "--ttl", "0s"], "--ttl must be more than 0", "lease acquire"),
        (["lease", "renew", "k"], "lease renew needs --holder", "lease renew"),
        (["lease", "release", "k"], "lease release needs --holder", "lease release"),
        (["lease", "release", "k", "--holder", ""], "--holder must not be empty", "lease release"),
        (["lease", "list", "a", "b"], "lease list takes [PREFIX], got 2", "lease list"),
        (["produce", "orders"], "produce takes SPACE SEGMENT, got 1", "produce"),
        (["consume"], "consume takes SPACE [SEGMENT], got 0", "consume"),
        (["segments"], "segments takes SPACE, got 0", "segments"),
        (["status", "--watch"], "--watch is not an option of status", "status"),
        (["workers", "--follow"], "--follow is not an option of workers", "workers"),
        (["lease", "list", "--holder", "me"], "--holder is not an option of lease list", "lease list"),
        (["status", "--verbose"], "unknown option --verbose", nil),
        (["status", "--json=yes"], "--json takes no value", nil),
        (["status", "--server"], "--server needs a value", nil),
        (["status", "--server", "http://x:1"], "--server must be a ws:// or wss:// URL", "status"),
        (["status", "--store", "default"], "--store must be a UUID", "status"),
        (["status", "--server", "wss://h:1", "--cert-file", "c.pem"], "--cert-file needs --key-file", "status"),
        (["status", "--server", "wss://h:1", "--key-file", "c.key"], "--key-file needs --cert-file", "status"),
        (["status", "--cert-file", "c.pem", "--key-file", "c.key"], "it needs a wss:// --server", "status"),
        (["status", "--server", "wss://h:1", "--cert-file", "", "--key-file", "c.key"], "--cert-file needs a file path", "status"),
        (["health", "extra"], "health takes no arguments, got 1", "health"),
        (["cluster", "extra"], "cluster takes no arguments, got 1", "cluster"),
        (["status", "--ready"], "--ready is not an option of status", "status"),
        (["store"], "store needs a subcommand: create", "store"),
        (["store", "drop", "x"], "unknown command \"store drop\"", "store"),
        (["store", "create"], "store create takes UUID, got 0", "store create"),
        (["store", "create", "orders"], "UUID must be a store UUID", "store create"),
        (["store", "create", "00000000-0000-0000-0000-000000000000"], "other than the nil UUID", "store create"),
    ]

    @Test(arguments: refused)
    func badCommandLinesSayWhatIsWrongAndWhereHelpIs(_ arguments: [String], _ message: String, _ command: String?) {
        #expect {
            _ = try CtlArguments.parse(arguments, environment: [:])
        } throws: { error in
            guard let error = error as? CtlUsageError else { return false }
            return error.message.contains(message) && error.command == command
                && error.description.contains("coordctl \(command.map { $0 + " " } ?? "")--help")
        }
    }

    @Test func clusterAsksTheServerGiven() throws {
        #expect(try CtlArguments.parse(["cluster", "--server", "ws://h:7071", "--json"], environment: [:])
            == .cluster(GlobalOptions(server: "ws://h:7071", json: true)))
    }

    @Test func healthAsksHealthzOrWithReadyReadyzOfTheServerGiven() throws {
        #expect(try CtlArguments.parse(["health"], environment: [:]) == .health(GlobalOptions(), ready: false))
        #expect(try CtlArguments.parse(["health", "--ready", "--server", "wss://h:7443", "--ca-file", "ca.pem"], environment: [:])
            == .health(GlobalOptions(server: "wss://h:7443", caFile: "ca.pem"), ready: true))
    }

    @Test func versionPrintsTheBuildVersionUnlessHelpIsAskedFor() throws {
        let line = "coordctl \(BuildInfo.version)"
        #expect(try CtlArguments.parse(["--version"], environment: [:]) == .version(line))
        #expect(try CtlArguments.parse(["status", "--json", "--version"], environment: [:]) == .version(line))
        #expect(try CtlArguments.parse(["--version", "--help"], environment: [:]) == .help(CtlHelp.general))
        #expect(CtlHelp.general.contains("--version"))
    }

    static let helpRequests: [(arguments: [String], topic: String?)] = [
        (["--help"], nil), (["-h"], nil), (["help"], nil), (["help", "consume"], "consume"), (["consume", "--help"], "consume"),
        (["lease", "--help"], "lease"), (["lease", "acquire", "-h"], "lease acquire"), (["--json", "status", "--help", "x"], "status"),
        (["store", "--help"], "store"), (["store", "create", "--help"], "store create"),
    ]

    @Test(arguments: helpRequests)
    func helpIsAvailableForEveryCommand(_ arguments: [String], _ topic: String?) throws {
        let expected = topic.map { CtlHelp.text(for: $0) } ?? CtlHelp.general
        #expect(try CtlArguments.parse(arguments, environment: [:]) == .help(try #require(expected)))
    }

    @Test func theGeneralHelpListsEveryCommandAndEveryCommandHasHelp() throws {
        let commands = ["workers", "worker", "lease acquire", "lease renew", "lease release", "lease list", "produce", "consume",
                        "spaces", "segments", "status", "health", "cluster", "store create"]
        for command in commands {
            #expect(CtlHelp.general.contains("  " + command), "general help lacks \(command)")
            let help = try #require(CtlHelp.text(for: command))
            #expect(help.hasPrefix("Usage: coordctl \(command)"))
            #expect(help.contains("--server URL"))
        }
        #expect(CtlHelp.general.contains("00000000-0000-4000-8000-000000000001"))
        #expect(CtlHelp.general.contains("COORDD_TOKEN"))
    }
}
