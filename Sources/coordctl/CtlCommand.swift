import StreamCore

/// Options every command takes.
struct GlobalOptions: Sendable, Equatable {
    /// The daemon's base URL (`/streamz` is appended when connecting).
    var server = "ws://127.0.0.1:7070"
    /// Bearer token (`--token` or `COORDD_TOKEN`).
    var token: String?
    /// PEM CA certificates that verify a `wss://` server (the system trust store otherwise).
    var caFile: String?
    /// PEM client certificate chain presented to a server that asks for one (mutual TLS).
    var certFile: String?
    /// PEM private key of ``certFile``.
    var keyFile: String?
    /// The store every command addresses.
    var store = WireUUID.defaultStore
    /// JSON lines instead of tables.
    var json = false
}

/// One coordctl command with its arguments.
enum CtlCommand: Sendable, Equatable {
    /// The registered workers, once or on every change.
    case workers(watch: Bool)
    /// Registers a worker and keeps it present until interrupted; an id is generated when none is given.
    case worker(id: WireUUID?, metadata: [String: String], heartbeatMs: Int64)
    /// Acquires a lease, waiting up to `waitMs` when given; a holder is generated when none is given.
    case leaseAcquire(key: String, holder: String?, ttlMs: Int64, waitMs: Int64? = nil)
    /// Renews a held lease.
    case leaseRenew(key: String, holder: String, ttlMs: Int64)
    /// Releases a held lease.
    case leaseRelease(key: String, holder: String)
    /// Live leases whose key starts with `prefix`.
    case leaseList(prefix: String)
    /// Produces one record per stdin line, numbered after the segment's head.
    case produce(space: String, segment: String)
    /// Reads a space (or one segment of it), and with `follow` keeps reading as entries arrive.
    case consume(space: String, segment: String?, follow: Bool)
    /// Space names.
    case spaces
    /// Segment names of a space.
    case segments(space: String)
    /// The store's counts.
    case status
    /// Assignment groups: one in full (members, partitions, owners, fences), or every group in brief.
    case assignments(group: String?)
    /// Creates a store (for daemons that do not create stores on first use).
    case storeCreate(WireUUID)
}

/// What a coordctl command line asks for.
enum CtlInvocation: Sendable, Equatable {
    /// Run `command` with `options`.
    case run(GlobalOptions, CtlCommand)
    /// Ask the daemon's `/healthz` (or, when `ready`, `/readyz`) over plain HTTP: exit 0 only for 200.
    case health(GlobalOptions, ready: Bool)
    /// The cluster's live daemons, from the daemon's `/readyz` detail.
    case cluster(GlobalOptions)
    /// Print this text and exit 0.
    case help(String)
    /// Print this version line (`coordctl 0.4.0`) and exit 0.
    case version(String)
    /// Print the completion script for a shell and exit 0.
    case completion(CtlCompletion.Shell)
    /// Print a development token and exit 0.
    case tokenMint(TokenMintRequest)
}

/// What `token mint` was asked for.
struct TokenMintRequest: Sendable, Equatable {
    /// The HS256 secret: the file the daemon reads with `--jwt-hs256-secret-file`.
    var secretFile: String
    /// The `scopes` claim.
    var scopes: [String]
    /// The `sub` claim.
    var subject: String
    /// `exp` − `iat`.
    var ttlMs: Int64
}

/// A command line coordctl cannot run: exit status 2, with the message and where to find help.
struct CtlUsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    var message: String
    /// The command whose help would explain it (`lease acquire`), or nil for the general help.
    var command: String?

    var description: String {
        "\(message)\nRun 'coordctl \(command.map { $0 + " " } ?? "")--help' for usage."
    }
}
