import Inventory
import Ownership
import PostgresKit
import StreamCore
import Transport

/// Bounds on daemon settings, so a typo (`30h` for `30s`) is refused at start rather than obeyed.
public enum DaemonConfigurationLimits {
    /// Largest presence TTL floor: a day. Beyond that a failed worker would never be noticed in practice.
    public static let maxPresenceTTLFloorMs: Int64 = 86_400_000
    /// Largest shutdown grace: ten minutes, longer than any supervisor waits before SIGKILL
    /// (systemd's default is 90 s, Kubernetes' 30 s).
    public static let maxShutdownGraceMs: Int64 = 600_000
    /// Largest open stores limit: every open file store holds at least one descriptor, and no process
    /// may hold more than the kernel's `fs.nr_open` (1,048,576 by default).
    public static let maxOpenStores = 1_048_576
    /// Largest idle close time: a week. Longer is the same as never (0).
    public static let maxStoreIdleCloseMs: Int64 = 604_800_000
    /// Stores `--stores` may declare: they are created at start, one directory each.
    public static let maxDeclaredStores = 10_000
    /// Smallest outbound memory budget: 16 MiB, two full 8 MiB frames, so one client reading a large
    /// entry is never taken for a slow one.
    public static let minOutboundMemoryBytes: Int64 = 16 << 20
    /// Longest PostgreSQL statement timeout: an hour. A chunk or a batch that takes longer is a hung server.
    public static let maxPostgresStatementTimeoutMs: Int64 = 3_600_000
}

/// Everything `coordd` is started with: one value from flags and `COORDD_*` variables, logged once at
/// start. It names files (certificates, keys, secrets) but never holds their contents.
public struct DaemonConfiguration: Sendable, Hashable {
    /// Where stores keep their entries.
    public enum Storage: String, Sendable, Hashable, CaseIterable {
        /// Durable files, one directory per store under the data directory.
        case file
        /// Memory only: everything is gone when the daemon stops.
        case memory
        /// PostgreSQL, reached through ``DaemonConfiguration/postgresURL``.
        case postgres
    }

    /// The listener's address.
    public var listen = ListenAddress(host: "127.0.0.1", port: 7070)
    /// The directory holding one subdirectory per store (file storage).
    public var dataDirectory = "./coordd-data"
    /// File or memory stores.
    public var storage = Storage.file
    /// PEM certificate chain: with ``tlsKeyFile`` the listener speaks TLS only.
    public var tlsCertificateFile: String?
    /// PEM private key of the certificate.
    public var tlsKeyFile: String?
    /// PEM CA certificates: when set, clients must present a certificate they issued (mutual TLS).
    public var tlsClientCAFile: String?
    /// File whose exact bytes are the HS256 secret for bearer tokens.
    public var jwtHS256SecretFile: String?
    /// PEM public key (RSA → RS256, EC P-256 → ES256) for bearer tokens.
    public var jwtPublicKeyFile: String?
    /// Accept connections without a token even though tokens are configured or the listener is not
    /// loopback.
    public var allowAnonymous = false
    /// The shortest presence TTL any worker gets (streamkit fixes 30 s).
    public var presenceTTLFloorMs: Int64 = InventoryLimits.defaultTTLFloorMs
    /// Lines below this level are not logged.
    public var logLevel = LogLevel.info
    /// logfmt or JSON lines.
    public var logFormat = LogLineFormat.logfmt
    /// Serve `/metrics` without a token even when connections need one.
    public var metricsAnonymous = false
    /// How long a SIGTERM drain may take before the daemon exits anyway.
    public var shutdownGraceMs: Int64 = 10_000
    /// Stores open at once, the default store included; the reason for the default is beside it.
    public var maxOpenStores = CoordinatorLimits().maxOpenStores
    /// A store that served no stream for this long is closed (0 = never).
    public var storeIdleCloseMs = CoordinatorLimits().storeIdleCloseMs
    /// Whether a stream for an unknown store creates it (streamkit's behaviour) or ends with
    /// `store_not_found`.
    public var autoCreateStores = true
    /// Stores created at start if missing, so they can be used when stores are not created on first use.
    public var declaredStores: [WireUUID] = []
    /// Bytes held for all clients in their connections' write queues before the slowest readers are
    /// closed (``RuntimeLimits/maxOutboundBytes``).
    public var maxOutboundMemoryBytes = Int64(RuntimeLimits().maxOutboundBytes)
    /// libpq connection string for PostgreSQL storage. It may hold a password, so it is logged only
    /// redacted (``PostgresURL/redacted(_:)``).
    public var postgresURL: String?
    /// File holding the PostgreSQL password.
    public var postgresPasswordFile: String?
    /// PostgreSQL connections in the pool.
    public var postgresPoolSize = PostgresLimits.defaultPoolSize
    /// PostgreSQL's statement timeout for coordd's sessions (0 = none).
    public var postgresStatementTimeoutMs = PostgresLimits.defaultStatementTimeoutMs
    /// This daemon's node id among the daemons sharing a PostgreSQL database; nil: `HOSTNAME:PORT`
    /// with the port the listener bound (``ClusterNodeID``).
    public var clusterNodeID: String?
    /// How long a store's ownership lasts on PostgreSQL's clock unless renewed.
    public var ownershipTTLMs = OwnershipTiming.defaultTTLMs
    /// How other daemons reach this one, recorded in `coordd_nodes`.
    public var advertiseURL: String?
    /// File whose exact bytes are the secret daemon-to-daemon links authenticate with.
    public var clusterSecretFile: String?

    /// The defaults: loopback on 7070, file stores in `./coordd-data`, no TLS, no tokens.
    public init() {}

    /// True when a token verifier is configured.
    public var requiresTokens: Bool { jwtHS256SecretFile != nil || jwtPublicKeyFile != nil }

    /// True when the listener speaks TLS.
    public var usesTLS: Bool { tlsCertificateFile != nil }

    /// Whether connections without a token are let in: when asked, or when no verifier is configured
    /// (which validation allows only on a loopback listener).
    public var acceptsAnonymous: Bool { allowAnonymous || !requiresTokens }

    /// Whether `/metrics` needs a bearer token: when connections do, unless `--metrics-anonymous`.
    public var metricsNeedToken: Bool { !acceptsAnonymous && !metricsAnonymous }

    /// The node settings this configuration implies, reporting to `metrics` and logging to `logger`.
    public func nodeConfiguration(metrics: any NodeMetrics = NoNodeMetrics(), logger: Logger = Logger(sink: { _ in }))
        -> NodeConfiguration
    {
        var node = NodeConfiguration()
        node.inventory.engine.ttlFloorMs = presenceTTLFloorMs
        node.limits.maxOpenStores = maxOpenStores
        node.limits.storeIdleCloseMs = storeIdleCloseMs
        node.autoCreateStores = autoCreateStores
        node.metrics = metrics
        node.logger = logger
        return node
    }

    /// The settings as log fields, for the one line logged at start. Secret material lives only in the
    /// files named here and is never part of the configuration, so paths are shown as they are: they
    /// are what an operator needs to see when a start fails.
    public var logFields: [(String, String)] {
        [
            ("listen", listen.description),
            ("storage", storage.rawValue),
            ("data_dir", storage == .file ? dataDirectory : "-"),
            ("tls", usesTLS ? "on" : "off"),
            ("tls_cert", tlsCertificateFile ?? "-"),
            ("tls_key", tlsKeyFile ?? "-"),
            ("tls_client_ca", tlsClientCAFile ?? "-"),
            ("jwt_hs256_secret_file", jwtHS256SecretFile ?? "-"),
            ("jwt_public_key", jwtPublicKeyFile ?? "-"),
            ("anonymous", acceptsAnonymous ? "allowed" : "refused"),
            ("presence_ttl_floor", DurationText.format(milliseconds: presenceTTLFloorMs)),
            ("log_level", logLevel.description),
            ("log_format", logFormat.rawValue),
            ("metrics", metricsNeedToken ? "token" : "anonymous"),
            ("shutdown_grace", DurationText.format(milliseconds: shutdownGraceMs)),
            ("max_open_stores", String(maxOpenStores)),
            ("store_idle_close", storeIdleCloseMs == 0 ? "never" : DurationText.format(milliseconds: storeIdleCloseMs)),
            ("auto_create_stores", String(autoCreateStores)),
            ("stores", declaredStores.isEmpty ? "-" : declaredStores.map(\.description).joined(separator: ",")),
            ("max_outbound_memory", SizeText.format(bytes: maxOutboundMemoryBytes)),
            ("postgres", postgresURL.map(PostgresURL.redacted) ?? "-"),
            ("postgres_password_file", postgresPasswordFile ?? "-"),
            ("postgres_pool", storage == .postgres ? String(postgresPoolSize) : "-"),
            ("postgres_statement_timeout", storage == .postgres ? DurationText.format(milliseconds: postgresStatementTimeoutMs) : "-"),
            ("cluster_node_id", storage == .postgres ? clusterNodeID ?? "default" : "-"),
            ("ownership_ttl", storage == .postgres ? DurationText.format(milliseconds: ownershipTTLMs) : "-"),
            ("advertise_url", advertiseURL ?? "-"),
            ("cluster_secret_file", clusterSecretFile ?? "-"),
        ]
    }
}
