import Coordinator
import StreamCore
import Testing

/// One accepted command line: arguments and environment, and the configuration they mean.
struct AcceptedConfiguration: Sendable, CustomTestStringConvertible {
    var arguments: [String]
    var environment: [String: String] = [:]
    var expected: @Sendable (inout DaemonConfiguration) -> Void = { _ in }

    var testDescription: String { "\(arguments) \(environment.sorted { $0.key < $1.key })" }

    var expectedConfiguration: DaemonConfiguration {
        var configuration = DaemonConfiguration()
        expected(&configuration)
        return configuration
    }
}

/// One refused command line: the setting the error must name, and text its message must contain.
struct RefusedConfiguration: Sendable, CustomTestStringConvertible {
    var arguments: [String]
    var environment: [String: String] = [:]
    var setting: String?
    var message: String

    var testDescription: String { "\(arguments) \(environment.sorted { $0.key < $1.key }) → \(setting ?? "-")" }
}

struct DaemonConfigurationTests {
    static let accepted: [AcceptedConfiguration] = [
        AcceptedConfiguration(arguments: []),
        AcceptedConfiguration(arguments: ["--listen", "127.0.0.1:0"]) { $0.listen.port = 0 },
        AcceptedConfiguration(arguments: ["--listen=[::1]:9000"]) { $0.listen = ListenAddress(host: "::1", port: 9000) },
        AcceptedConfiguration(arguments: ["--listen", "localhost:8080"]) { $0.listen = ListenAddress(host: "localhost", port: 8080) },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_LISTEN": "127.0.0.1:8000"]) { $0.listen.port = 8000 },
        AcceptedConfiguration(arguments: ["--listen", "127.0.0.1:9000"], environment: ["COORDD_LISTEN": "127.0.0.1:8000"]) {
            $0.listen.port = 9000
        },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_LISTEN": ""]),
        AcceptedConfiguration(arguments: ["--storage", "memory"]) { $0.storage = .memory },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_STORAGE": "memory"]) { $0.storage = .memory },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_DATA_DIR": "/var/lib/coordd"]) { $0.dataDirectory = "/var/lib/coordd" },
        AcceptedConfiguration(arguments: ["--data-dir", "d1"], environment: ["COORDD_DATA_DIR": "d2"]) { $0.dataDirectory = "d1" },
        AcceptedConfiguration(arguments: ["--allow-anonymous"]) { $0.allowAnonymous = true },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_ALLOW_ANONYMOUS": "1"]) { $0.allowAnonymous = true },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_ALLOW_ANONYMOUS": "TRUE"]) { $0.allowAnonymous = true },
        AcceptedConfiguration(arguments: ["--allow-anonymous=false"], environment: ["COORDD_ALLOW_ANONYMOUS": "1"]),
        AcceptedConfiguration(arguments: ["--presence-ttl-floor", "1500ms"]) { $0.presenceTTLFloorMs = 1_500 },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_PRESENCE_TTL_FLOOR": "5s"]) { $0.presenceTTLFloorMs = 5_000 },
        AcceptedConfiguration(arguments: ["--presence-ttl-floor=1m30s"]) { $0.presenceTTLFloorMs = 90_000 },
        AcceptedConfiguration(arguments: ["--log-level", "debug"]) { $0.logLevel = .debug },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_LOG_LEVEL": "WARN"]) { $0.logLevel = .warn },
        AcceptedConfiguration(arguments: ["--shutdown-grace", "2s"]) { $0.shutdownGraceMs = 2_000 },
        AcceptedConfiguration(arguments: ["--shutdown-grace", "0s"]) { $0.shutdownGraceMs = 0 },
        AcceptedConfiguration(arguments: ["--tls-cert", "c.pem", "--tls-key", "k.pem"]) {
            $0.tlsCertificateFile = "c.pem"
            $0.tlsKeyFile = "k.pem"
        },
        AcceptedConfiguration(
            arguments: ["--tls-cert", "c.pem", "--tls-client-ca", "ca.pem"], environment: ["COORDD_TLS_KEY": "k.pem"]
        ) {
            $0.tlsCertificateFile = "c.pem"
            $0.tlsKeyFile = "k.pem"
            $0.tlsClientCAFile = "ca.pem"
        },
        AcceptedConfiguration(arguments: ["--listen", "0.0.0.0:7070", "--jwt-hs256-secret-file", "/etc/coordd/secret"]) {
            $0.listen = ListenAddress(host: "0.0.0.0", port: 7070)
            $0.jwtHS256SecretFile = "/etc/coordd/secret"
        },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_LISTEN": "[::]:7070", "COORDD_JWT_PUBLIC_KEY": "pub.pem"]) {
            $0.listen = ListenAddress(host: "::", port: 7070)
            $0.jwtPublicKeyFile = "pub.pem"
        },
        AcceptedConfiguration(arguments: ["--listen", "0.0.0.0:7070", "--allow-anonymous"]) {
            $0.listen = ListenAddress(host: "0.0.0.0", port: 7070)
            $0.allowAnonymous = true
        },
        AcceptedConfiguration(arguments: ["--storage", "file", "--storage", "memory"]) { $0.storage = .memory },
        AcceptedConfiguration(arguments: ["--max-open-stores", "64"]) { $0.maxOpenStores = 64 },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_MAX_OPEN_STORES": "1"]) { $0.maxOpenStores = 1 },
        AcceptedConfiguration(arguments: ["--store-idle-close", "90s"]) { $0.storeIdleCloseMs = 90_000 },
        AcceptedConfiguration(arguments: ["--store-idle-close=0s"]) { $0.storeIdleCloseMs = 0 },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_STORE_IDLE_CLOSE": "1h"]) { $0.storeIdleCloseMs = 3_600_000 },
        AcceptedConfiguration(arguments: ["--auto-create-stores", "false"]) { $0.autoCreateStores = false },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_AUTO_CREATE_STORES": "no"]) { $0.autoCreateStores = false },
        AcceptedConfiguration(arguments: ["--auto-create-stores=true"], environment: ["COORDD_AUTO_CREATE_STORES": "0"]),
        AcceptedConfiguration(
            arguments: ["--stores", "6F1C2D3E-4A5B-4C6D-8E7F-9A0B1C2D3E4F,00000000-0000-4000-8000-000000000001,6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"]
        ) {
            $0.declaredStores = [WireUUID("6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f")!, .defaultStore]
        },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_STORES": "00000000-0000-4000-8000-000000000001"]) {
            $0.declaredStores = [.defaultStore]
        },
        AcceptedConfiguration(arguments: ["--max-outbound-memory", "64MiB"]) { $0.maxOutboundMemoryBytes = 64 << 20 },
        AcceptedConfiguration(arguments: [], environment: ["COORDD_MAX_OUTBOUND_MEMORY": "1GiB"]) {
            $0.maxOutboundMemoryBytes = 1 << 30
        },
        AcceptedConfiguration(arguments: ["--max-outbound-memory=16777216"]) { $0.maxOutboundMemoryBytes = 16 << 20 },
    ]

    @Test(arguments: accepted)
    func acceptedSettingsMapOntoOneConfiguration(_ row: AcceptedConfiguration) throws {
        let invocation = try DaemonConfiguration.parse(arguments: row.arguments, environment: row.environment)
        #expect(invocation == .run(row.expectedConfiguration))
    }

    static let refused: [RefusedConfiguration] = [
        RefusedConfiguration(arguments: ["--listen", "127.0.0.1:70000"], setting: "--listen", message: "invalid port"),
        RefusedConfiguration(arguments: ["--listen", "127.0.0.1:http"], setting: "--listen", message: "invalid port"),
        RefusedConfiguration(arguments: ["--listen", "127.0.0.1:"], setting: "--listen", message: "invalid port"),
        RefusedConfiguration(arguments: ["--listen", "127.0.0.1"], setting: "--listen", message: "expected HOST:PORT"),
        RefusedConfiguration(arguments: ["--listen", ":7070"], setting: "--listen", message: "missing host"),
        RefusedConfiguration(arguments: ["--listen", "example.com:80"], setting: "--listen", message: "not an IP address"),
        RefusedConfiguration(arguments: ["--listen", "::1:80"], setting: "--listen", message: "in brackets"),
        RefusedConfiguration(arguments: ["--listen", "[::1:80"], setting: "--listen", message: "missing ]"),
        RefusedConfiguration(arguments: [], environment: ["COORDD_LISTEN": "nonsense"], setting: "COORDD_LISTEN", message: "HOST:PORT"),
        RefusedConfiguration(arguments: ["--listen", "0.0.0.0:7070"], setting: "--listen", message: "refusing to listen on 0.0.0.0:7070"),
        RefusedConfiguration(arguments: [], environment: ["COORDD_LISTEN": "10.1.2.3:7070"], setting: "COORDD_LISTEN",
                             message: "--allow-anonymous"),
        RefusedConfiguration(arguments: ["--tls-cert", "c.pem"], setting: "--tls-cert", message: "needs --tls-key"),
        RefusedConfiguration(arguments: [], environment: ["COORDD_TLS_KEY": "k.pem"], setting: "COORDD_TLS_KEY", message: "needs --tls-cert"),
        RefusedConfiguration(arguments: ["--tls-client-ca", "ca.pem"], setting: "--tls-client-ca", message: "mutual TLS needs"),
        RefusedConfiguration(arguments: ["--tls-cert="], setting: "--tls-cert", message: "needs a file path"),
        RefusedConfiguration(arguments: ["--presence-ttl-floor", "30"], setting: "--presence-ttl-floor", message: "missing unit"),
        RefusedConfiguration(arguments: ["--presence-ttl-floor", "0s"], setting: "--presence-ttl-floor", message: "more than 0"),
        RefusedConfiguration(arguments: ["--presence-ttl-floor", "2d"], setting: "--presence-ttl-floor", message: "unknown unit"),
        RefusedConfiguration(arguments: ["--presence-ttl-floor", "-5s"], setting: "--presence-ttl-floor", message: "invalid duration"),
        RefusedConfiguration(arguments: [], environment: ["COORDD_PRESENCE_TTL_FLOOR": "fast"],
                             setting: "COORDD_PRESENCE_TTL_FLOOR", message: "invalid duration"),
        RefusedConfiguration(arguments: ["--shutdown-grace", "1h"], setting: "--shutdown-grace", message: "at most 10m"),
        RefusedConfiguration(arguments: ["--storage", "disk"], setting: "--storage", message: "must be file, memory or postgres"),
        RefusedConfiguration(arguments: ["--max-outbound-memory", "256MB"], setting: "--max-outbound-memory", message: "unknown unit \"MB\""),
        RefusedConfiguration(arguments: ["--max-outbound-memory", "1MiB"], setting: "--max-outbound-memory", message: "at least 16MiB"),
        RefusedConfiguration(arguments: [], environment: ["COORDD_MAX_OUTBOUND_MEMORY": "lots"], setting: "COORDD_MAX_OUTBOUND_MEMORY",
                             message: "invalid size"),
        RefusedConfiguration(arguments: ["--log-level", "verbose"], setting: "--log-level", message: "debug, info, warn or error"),
        RefusedConfiguration(arguments: [], environment: ["COORDD_ALLOW_ANONYMOUS": "maybe"], setting: "COORDD_ALLOW_ANONYMOUS",
                             message: "true or false"),
        RefusedConfiguration(arguments: ["--data-dir"], setting: "--data-dir", message: "needs a value"),
        RefusedConfiguration(arguments: ["--data-dir="], setting: "--data-dir", message: "needs a directory"),
        RefusedConfiguration(arguments: ["--bogus"], setting: nil, message: "unknown flag --bogus"),
        RefusedConfiguration(arguments: ["serve"], setting: nil, message: "unexpected argument \"serve\""),
        RefusedConfiguration(arguments: ["-l", "127.0.0.1:1"], setting: nil, message: "unexpected argument \"-l\""),
        RefusedConfiguration(arguments: ["--max-open-stores", "0"], setting: "--max-open-stores", message: "from 1 to 1048576"),
        RefusedConfiguration(arguments: ["--max-open-stores", "1048577"], setting: "--max-open-stores", message: "from 1 to 1048576"),
        RefusedConfiguration(arguments: [], environment: ["COORDD_MAX_OPEN_STORES": "lots"], setting: "COORDD_MAX_OPEN_STORES",
                             message: "whole number"),
        RefusedConfiguration(arguments: ["--store-idle-close", "10"], setting: "--store-idle-close", message: "missing unit"),
        RefusedConfiguration(arguments: ["--store-idle-close", "200h"], setting: "--store-idle-close", message: "at most 168h"),
        RefusedConfiguration(arguments: ["--auto-create-stores"], setting: "--auto-create-stores", message: "needs a value"),
        RefusedConfiguration(arguments: ["--auto-create-stores", "sometimes"], setting: "--auto-create-stores",
                             message: "true or false"),
        RefusedConfiguration(arguments: ["--stores", "orders"], setting: "--stores", message: "store UUIDs separated by commas"),
        RefusedConfiguration(arguments: ["--stores", "00000000-0000-4000-8000-000000000001,"], setting: "--stores",
                             message: "got \"\""),
        RefusedConfiguration(arguments: [], environment: ["COORDD_STORES": "00000000-0000-0000-0000-000000000000"],
                             setting: "COORDD_STORES", message: "store UUIDs"),
    ]

    @Test(arguments: refused)
    func refusedSettingsNameTheFlagOrVariable(_ row: RefusedConfiguration) {
        #expect {
            _ = try DaemonConfiguration.parse(arguments: row.arguments, environment: row.environment)
        } throws: { error in
            guard let error = error as? DaemonConfigurationError else { return false }
            return error.setting == row.setting && error.message.contains(row.message)
                && error.description.hasPrefix(row.setting.map { "\($0): " } ?? "")
        }
    }

    @Test func helpWinsOverEverythingElseAndListsEveryFlagWithItsVariableAndDefault() throws {
        let invocation = try DaemonConfiguration.parse(arguments: ["--listen", "bad", "--help"], environment: ["COORDD_STORAGE": "x"])
        guard case .help(let text) = invocation else {
            Issue.record("expected help, got \(invocation)")
            return
        }
        for option in DaemonOption.allCases {
            #expect(text.contains(option.flag), "help lacks \(option.flag)")
            if let env = option.environmentName { #expect(text.contains(env), "help lacks \(env)") }
        }
        #expect(text.contains("default 127.0.0.1:7070"))
        #expect(text.contains("default ./coordd-data"))
        #expect(text.contains("default 30s"))
        #expect(text.contains("default 10s"))
        #expect(text.contains("default 1024") && text.contains("default 10m") && text.contains("default true"))
        #expect(text.contains("--max-outbound-memory SIZE") && text.contains("default 256MiB"))
        #expect(text.contains("00000000-0000-4000-8000-000000000001"))
        #expect(try DaemonConfiguration.parse(arguments: ["-h"], environment: [:]) == .help(text))
    }

    @Test func versionPrintsTheBuildVersionAndHelpStillWins() throws {
        let line = "coordd \(BuildInfo.version)"
        #expect(try DaemonConfiguration.parse(arguments: ["--version"], environment: [:]) == .version(line))
        #expect(try DaemonConfiguration.parse(arguments: ["--listen", "bad", "--version"], environment: [:]) == .version(line))
        #expect(try DaemonConfiguration.parse(arguments: ["--version", "-h"], environment: [:])
            == .help(DaemonConfiguration.helpText))
        #expect(DaemonOption.version.environmentName == nil)
        #expect(DaemonOption.version.valueName == nil)
    }

    @Test func everySettingHasAVariableNamedAfterItsFlag() {
        #expect(DaemonOption.listen.environmentName == "COORDD_LISTEN")
        #expect(DaemonOption.dataDir.environmentName == "COORDD_DATA_DIR")
        #expect(DaemonOption.jwtHS256SecretFile.environmentName == "COORDD_JWT_HS256_SECRET_FILE")
        #expect(DaemonOption.help.environmentName == nil)
        let names = DaemonOption.allCases.compactMap(\.environmentName)
        #expect(Set(names).count == names.count)
    }

    @Test func anonymousAccessFollowsLoopbackAndTokenKeys() throws {
        var configuration = DaemonConfiguration()
        #expect(configuration.acceptsAnonymous, "loopback without token keys")
        configuration.jwtHS256SecretFile = "s"
        #expect(!configuration.acceptsAnonymous, "token keys configured")
        configuration.allowAnonymous = true
        #expect(configuration.acceptsAnonymous, "explicitly allowed")
    }

    @Test(arguments: [
        ("127.0.0.1:1", true), ("127.8.9.10:1", true), ("[::1]:1", true), ("localhost:1", true),
        ("[::ffff:127.0.0.1]:1", true), ("0.0.0.0:1", false), ("[::]:1", false), ("10.0.0.1:1", false),
        ("[fe80::1]:1", false),
    ])
    func loopbackListenersAreRecognised(_ text: String, _ loopback: Bool) throws {
        let address = try ListenAddress.parse(text).get()
        #expect(address.isLoopback == loopback)
    }

    @Test func thePresenceTTLFloorReachesTheInventoryEngine() {
        var configuration = DaemonConfiguration()
        configuration.presenceTTLFloorMs = 2_500
        #expect(configuration.nodeConfiguration().inventory.engine.ttlFloorMs == 2_500)
    }

    @Test func theStoreSettingsReachTheNodeManager() {
        var configuration = DaemonConfiguration()
        #expect(configuration.maxOpenStores == CoordinatorLimits().maxOpenStores && configuration.autoCreateStores)
        configuration.maxOpenStores = 7
        configuration.storeIdleCloseMs = 0
        configuration.autoCreateStores = false
        let node = configuration.nodeConfiguration()
        #expect(node.limits.maxOpenStores == 7 && node.limits.storeIdleCloseMs == 0 && !node.autoCreateStores)
    }

    @Test func theEffectiveConfigurationIsLoggedAsFields() {
        var configuration = DaemonConfiguration()
        configuration.storage = .memory
        let fields = Dictionary(uniqueKeysWithValues: configuration.logFields)
        #expect(fields["listen"] == "127.0.0.1:7070")
        #expect(fields["storage"] == "memory")
        #expect(fields["data_dir"] == "-")
        #expect(fields["max_outbound_memory"] == "256MiB")
        #expect(fields["anonymous"] == "allowed")
        #expect(fields["presence_ttl_floor"] == "30s")
        #expect(fields["max_open_stores"] == "1024" && fields["store_idle_close"] == "10m")
        #expect(fields["auto_create_stores"] == "true" && fields["stores"] == "-")
        configuration.storeIdleCloseMs = 0
        configuration.declaredStores = [.defaultStore]
        let changed = Dictionary(uniqueKeysWithValues: configuration.logFields)
        #expect(changed["store_idle_close"] == "never" && changed["stores"] == "00000000-0000-4000-8000-000000000001")
    }
}
