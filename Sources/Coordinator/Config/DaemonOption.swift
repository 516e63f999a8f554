import StreamCore

/// One `coordd` setting as a flag and an environment variable: the single table that parsing and
/// `--help` both read, so they cannot disagree.
public enum DaemonOption: String, Sendable, CaseIterable {
    case listen
    case dataDir = "data-dir"
    case storage
    case tlsCert = "tls-cert"
    case tlsKey = "tls-key"
    case tlsClientCA = "tls-client-ca"
    case jwtHS256SecretFile = "jwt-hs256-secret-file"
    case jwtPublicKey = "jwt-public-key"
    case allowAnonymous = "allow-anonymous"
    case presenceTTLFloor = "presence-ttl-floor"
    case logLevel = "log-level"
    case logFormat = "log-format"
    case metricsAnonymous = "metrics-anonymous"
    case shutdownGrace = "shutdown-grace"
    case maxOpenStores = "max-open-stores"
    case storeIdleClose = "store-idle-close"
    case autoCreateStores = "auto-create-stores"
    case stores
    case maxOutboundMemory = "max-outbound-memory"
    case postgresURL = "postgres-url"
    case postgresPasswordFile = "postgres-password-file"
    case postgresPool = "postgres-pool"
    case postgresStatementTimeout = "postgres-statement-timeout"
    case clusterNodeID = "cluster-node-id"
    case ownershipTTL = "ownership-ttl"
    case advertiseURL = "advertise-url"
    case clusterSecretFile = "cluster-secret-file"
    case help
    case version

    /// `--listen`.
    public var flag: String { "--" + rawValue }

    /// `COORDD_LISTEN`; nil for `--help` and `--version`, which only make sense on a command line.
    public var environmentName: String? {
        self == .help || self == .version ? nil : "COORDD_" + rawValue.uppercased().replacingHyphens()
    }

    /// The value's name in `--help`; nil for switches (`--allow-anonymous`, `--help`, `--version`).
    public var valueName: String? {
        switch self {
        case .listen: "HOST:PORT"
        case .dataDir: "DIR"
        case .storage: "file|memory|postgres"
        case .tlsCert, .tlsKey, .tlsClientCA, .jwtHS256SecretFile, .jwtPublicKey: "FILE"
        case .presenceTTLFloor, .shutdownGrace, .storeIdleClose: "DURATION"
        case .logLevel: "debug|info|warn|error"
        case .logFormat: "logfmt|json"
        case .maxOpenStores: "N"
        case .autoCreateStores: "true|false"
        case .stores: "UUID,UUID"
        case .maxOutboundMemory: "SIZE"
        case .postgresURL: "URL"
        case .postgresPasswordFile: "FILE"
        case .postgresPool: "N"
        case .postgresStatementTimeout: "DURATION"
        case .clusterNodeID: "ID"
        case .ownershipTTL: "DURATION"
        case .advertiseURL: "URL"
        case .clusterSecretFile: "FILE"
        case .allowAnonymous, .metricsAnonymous, .help, .version: nil
        }
    }

    /// The default as `--help` shows it.
    public var defaultText: String {
        let defaults = DaemonConfiguration()
        switch self {
        case .listen: return defaults.listen.description
        case .dataDir: return defaults.dataDirectory
        case .storage: return defaults.storage.rawValue
        case .tlsCert, .tlsKey, .tlsClientCA: return "none (plain TCP)"
        case .jwtHS256SecretFile, .jwtPublicKey: return "none"
        case .allowAnonymous: return "off (anonymous only on a loopback listener without token keys)"
        case .presenceTTLFloor: return DurationText.format(milliseconds: defaults.presenceTTLFloorMs)
        case .logLevel: return defaults.logLevel.description
        case .logFormat: return defaults.logFormat.rawValue
        case .metricsAnonymous: return "off (/metrics needs a token whenever connections do)"
        case .shutdownGrace: return DurationText.format(milliseconds: defaults.shutdownGraceMs)
        case .maxOpenStores: return String(defaults.maxOpenStores)
        case .storeIdleClose: return DurationText.format(milliseconds: defaults.storeIdleCloseMs)
        case .autoCreateStores: return String(defaults.autoCreateStores)
        case .stores: return "none"
        case .maxOutboundMemory: return SizeText.format(bytes: defaults.maxOutboundMemoryBytes)
        case .postgresURL: return "none"
        case .postgresPasswordFile: return "none (the URL, PGPASSWORD or PGPASSFILE)"
        case .postgresPool: return String(defaults.postgresPoolSize)
        case .postgresStatementTimeout: return DurationText.format(milliseconds: defaults.postgresStatementTimeoutMs)
        case .clusterNodeID: return "HOSTNAME:PORT (the listener's port, as bound)"
        case .ownershipTTL: return DurationText.format(milliseconds: defaults.ownershipTTLMs)
        case .advertiseURL: return "none"
        case .clusterSecretFile: return "none (no daemon-to-daemon token is sent or accepted)"
        case .help, .version: return ""
        }
    }

    /// What the setting does.
    public var summary: String {
        switch self {
        case .listen: "Address to listen on; port 0 picks a free port. Serves /streamz, /healthz, /readyz, /metrics."
        case .dataDir: "Directory of the file stores, one subdirectory per store UUID."
        case .storage: "Where entries live: durable files, memory only (lost at exit), or PostgreSQL (--postgres-url)."
        case .tlsCert: "PEM certificate chain; with --tls-key the listener speaks TLS 1.2+ only."
        case .tlsKey: "PEM private key of --tls-cert."
        case .tlsClientCA: "PEM CA certificates; clients must present a certificate they issued (mutual TLS)."
        case .jwtHS256SecretFile: "File whose bytes are the HS256 secret for bearer tokens (at least 32 bytes)."
        case .jwtPublicKey: "PEM public key for RS256 (RSA) or ES256 (EC P-256) bearer tokens."
        case .allowAnonymous: "Accept connections without a token (required to listen beyond loopback without token keys)."
        case .presenceTTLFloor: "Shortest presence TTL a worker gets (e.g. 5s, 1500ms); lower detects failures faster."
        case .logLevel: "Least important log lines written to stderr."
        case .logFormat: "How log lines are written: logfmt key=value pairs, or one JSON object per line with the same keys."
        case .metricsAnonymous: "Serve /metrics without a token even when connections need one."
        case .shutdownGrace: "How long a SIGTERM/SIGINT drain may take before the daemon exits anyway."
        case .maxOpenStores:
            "Stores open at once (default store included); past it an idle store is closed first, or the stream is refused."
        case .storeIdleClose: "Close a store that served no stream for this long (0 = never); the default store stays open."
        case .autoCreateStores:
            "Create an unknown store on its first stream (streamkit's way); false: only store_create and --stores create."
        case .stores: "Stores to create at start if missing, comma-separated UUIDs (for --auto-create-stores false)."
        case .maxOutboundMemory:
            "Bytes queued for all clients together (e.g. 256MiB); past it the slowest readers are disconnected."
        case .postgresURL:
            "libpq connection URL for --storage postgres, e.g. postgresql://coordd@db:5432/coordd?sslmode=verify-full (TLS by sslmode)."
        case .postgresPasswordFile: "File whose contents (one line) are the PostgreSQL password; never put it in the URL on a command line."
        case .postgresPool: "PostgreSQL connections, each on a thread of its own; requests beyond them wait in a bounded queue."
        case .postgresStatementTimeout: "PostgreSQL cancels a statement that runs longer (SET statement_timeout; 0 = no limit)."
        case .clusterNodeID: "This daemon's name among the daemons sharing a PostgreSQL database; unique among those running."
        case .ownershipTTL:
            "How long a store's ownership lasts unless renewed (renewed every third of it); another daemon takes over after it."
        case .advertiseURL: "How other daemons reach this one (ws:// or wss://), recorded with its heartbeat in PostgreSQL."
        case .clusterSecretFile:
            "File whose bytes are the secret daemons of one cluster share (at least 32 bytes, not the client token secret)."
        case .help: "Print this help and exit."
        case .version: "Print the version and exit."
        }
    }
}

extension String {
    fileprivate func replacingHyphens() -> String {
        String(map { $0 == "-" ? "_" : $0 })
    }
}

extension DaemonConfiguration {
    /// The `--help` text: every flag with its environment variable and default.
    public static var helpText: String {
        var text = """
            Usage: coordd [options]
                   coordd check [--data-dir DIR] [--store UUID] [--repair] [--dry-run]   (coordd check --help)

            coordd is a worker-coordination daemon: worker presence, leases with fencing tokens, and a
            durable streaming store, spoken over the streamkit v1 WebSocket protocol at /streamz.
            With no options it listens on 127.0.0.1:7070 with file stores in ./coordd-data; the default
            store is \(WireUUID.defaultStore).

            Every option can also be set in the environment as COORDD_<NAME> (e.g. COORDD_LISTEN,
            COORDD_ALLOW_ANONYMOUS=1); a flag wins over its variable. Durations take ms, s, m or h;
            sizes take B, KiB, MiB or GiB.

            Options:

            """
        for option in DaemonOption.allCases {
            let usage = option.flag + (option.valueName.map { " " + $0 } ?? "")
            text += "  " + usage + "\n"
            text += "      " + option.summary + "\n"
            var facts: [String] = []
            if let env = option.environmentName { facts.append("env " + env) }
            if !option.defaultText.isEmpty { facts.append("default " + option.defaultText) }
            if !facts.isEmpty { text += "      [" + facts.joined(separator: "; ") + "]\n" }
        }
        text += """

            Exit status: 0 after a clean shutdown, 1 when the daemon cannot start or fails, 2 for a bad
            configuration.

            """
        return text
    }
}
