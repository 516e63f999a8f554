/// Whether an operation that failed may succeed when retried.
///
/// The raw values are streamkit v1's `ErrCodeTransient` (1) and `ErrCodePermanent` (2); coordd
/// carries them on the wire as the `code` field of `mux::close` / `mux::error` payloads.
public enum ErrorCode: Int, Sendable, Hashable {
    /// A temporary failure: retrying later may succeed (I/O errors, overload, shutdown).
    case transient = 1
    /// A terminal failure: retrying the same request fails the same way.
    case permanent = 2
}

/// A typed error that travels with its code and a machine-readable name across every transport.
///
/// `message` is the human text (the `err` field on the wire, which is all an old streamkit client
/// reads); `name` is a stable snake_case identifier clients can switch on; `code` says whether to retry.
public struct StreamsError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Transient or permanent.
    public var code: ErrorCode
    /// Stable snake_case identifier, e.g. `sequence_gap`.
    public var name: String
    /// Human-readable text, e.g. `sequence gap: expected 4, got 6`.
    public var message: String
    /// The failed system call beneath the error, when one caused it (a log write or flush, a file
    /// open, a thread start): what the daemon classifies failures by (``IOError/shortage``), so that
    /// counting a full disk never depends on message text. It stays in the process: the wire carries
    /// code, name and message only, and equality ignores it.
    public var cause: IOError?

    /// Creates an error from its three parts, and the system call that caused it if one did.
    public init(_ code: ErrorCode, name: String, message: String, cause: IOError? = nil) {
        self.code = code
        self.name = name
        self.message = message
        self.cause = cause
    }

    /// True when retrying may succeed.
    public var isTransient: Bool { code == .transient }

    /// The peer refused a stream because it does not know the request's type (`type "…" is not
    /// registered`, streamkit v1 §1.3): a server without that extension. coordd names it `invalid_request`;
    /// a streamkit server sends the text alone, which a client reads as a `remote_error`. So the text
    /// decides, as it does for the error's code.
    public var isUnknownRequest: Bool {
        message.hasPrefix("type \"") && message.hasSuffix("\" is not registered")
    }

    public var description: String { message }

    /// The same error with another message, keeping its code, name and cause.
    public func with(message: String) -> StreamsError {
        StreamsError(code, name: name, message: message, cause: cause)
    }

    /// Equal when code, name and message are: what a client can tell apart.
    public static func == (a: StreamsError, b: StreamsError) -> Bool {
        a.code == b.code && a.name == b.name && a.message == b.message
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(name)
        hasher.combine(message)
    }
}

// MARK: - streamkit v1 §7.1 predefined errors (names are the Go variables without `Err`, in snake_case)

extension StreamsError {
    public static let commitBatch = StreamsError(.transient, name: "commit_batch", message: "failed to commit batch")
    public static let getTransaction = StreamsError(.transient, name: "get_transaction", message: "failed to get transaction")
    public static let marshalEntry = StreamsError(.transient, name: "marshal_entry", message: "failed to marshal entry")
    public static let marshalTrx = StreamsError(.transient, name: "marshal_trx", message: "failed to marshal transaction")
    public static let openDB = StreamsError(.transient, name: "open_db", message: "failed to open pebble db")
    public static let seqNumberAhead = StreamsError(
        .transient, name: "seq_number_ahead", message: "sequence number mismatch, the node is ahead")
    public static let seqNumberBehind = StreamsError(
        .transient, name: "seq_number_behind", message: "sequence number mismatch, the node is behind")
    public static let sequenceMismatch = StreamsError(.permanent, name: "sequence_mismatch", message: "sequence mismatch")
    public static let setEntrySegment = StreamsError(
        .transient, name: "set_entry_segment", message: "failed to set entry in segment")
    public static let setEntrySpace = StreamsError(.transient, name: "set_entry_space", message: "failed to set entry in space")
    public static let trxEmpty = StreamsError(.transient, name: "trx_empty", message: "transaction is empty")
    public static let trxIDMismatch = StreamsError(.permanent, name: "trx_id_mismatch", message: "Transaction ID mismatch")
    public static let trxNotFound = StreamsError(.transient, name: "trx_not_found", message: "transaction not found")
    public static let trxNumberAhead = StreamsError(
        .permanent, name: "trx_number_ahead", message: "transaction number mismatch, the node is ahead")
    public static let trxNumberBehind = StreamsError(
        .permanent, name: "trx_number_behind", message: "transaction number mismatch, the node is behind")
    public static let updateSpaceInventory = StreamsError(
        .transient, name: "update_space_inventory", message: "failed to update space inventory")
    public static let writeTrx = StreamsError(.transient, name: "write_trx", message: "failed to write transaction")
}

// MARK: - Errors coordd raises

extension StreamsError {
    /// A produced record's sequence is not exactly the segment's last sequence + 1.
    public static func sequenceGap(expected: UInt64, got: UInt64) -> StreamsError {
        StreamsError(.permanent, name: "sequence_gap", message: "sequence gap: expected \(expected), got \(got)")
    }

    /// The request could not be understood (bad JSON, unknown discriminator, wrong message type).
    public static func invalidRequest(_ message: String) -> StreamsError {
        StreamsError(.permanent, name: "invalid_request", message: message)
    }

    /// Produce arguments are missing (streamkit's text).
    public static let invalidProduceArgs = StreamsError(.permanent, name: "invalid_request", message: "invalid produce args")

    /// A named limit was passed; the message names the limit and its value.
    public static func limitExceeded(_ message: String) -> StreamsError {
        StreamsError(.permanent, name: "limit_exceeded", message: message)
    }

    /// The token's scopes do not cover the store (streamkit's text).
    public static let accessDenied = StreamsError(.permanent, name: "access_denied", message: "access denied")

    /// The store could not be opened (streamkit's text).
    public static let storeUnavailable = StreamsError(.transient, name: "store_unavailable", message: "store unavailable")

    /// The store could not be opened now, for `cause` (descriptors or memory ran out, its files could not
    /// be read, or the open stores limit was reached with every open store in use); trying later may work.
    public static func storeUnavailable(because cause: String) -> StreamsError {
        storeUnavailable.with(message: "store unavailable: \(cause)")
    }

    /// The store does not exist and the daemon creates stores only when asked (`store_create`, or stores
    /// declared in its configuration), so that a mistyped store UUID is not made into a new store.
    public static func storeNotFound(_ store: WireUUID) -> StreamsError {
        StreamsError(.permanent, name: "store_not_found",
                     message: "store \(store) not found: stores are created with store_create or declared in the daemon's configuration")
    }

    /// Another daemon of the cluster owns the store and its ownership has not expired: this daemon may
    /// not serve it. Transient: once the owner stops renewing or releases it, the store is taken over here.
    public static func storeOwnedElsewhere(_ store: WireUUID, by node: String, advertiseURL: String?, expiresInMs: Int64)
        -> StreamsError
    {
        StreamsError(.transient, name: storeOwnedElsewhereName,
                     message: "store \(store) is owned by coordd node \(node) (\(advertiseURL.map { "reach it at " + $0 } ?? "no advertised URL")); "
                        + "its ownership expires in \(expiresInMs) ms unless renewed, and this daemon does not forward streams")
    }

    /// The name of ``storeOwnedElsewhere(_:by:advertiseURL:expiresInMs:)``.
    public static let storeOwnedElsewhereName = "store_owned_elsewhere"

    /// A subscriber fell further behind than its queue allows (streamkit's text).
    public static let subscriptionOverloaded = StreamsError(
        .transient, name: "subscription_overloaded", message: "subscription send queue overloaded")

    /// A stream's receive buffer stayed full (streamkit's text).
    public static let streamOverloaded = StreamsError(
        .transient, name: "stream_overloaded", message: "stream receive buffer overloaded")

    /// Too many logical streams on one connection (streamkit's text).
    public static let tooManyStreams = StreamsError(.transient, name: "too_many_streams", message: "too many active streams")

    /// Storage failed (disk full, I/O error); the log stays consistent and readable. `cause` is the
    /// failed system call, when there is one.
    public static func storage(_ message: String, cause: IOError? = nil) -> StreamsError {
        StreamsError(.transient, name: "storage_error", message: message, cause: cause)
    }

    /// The daemon is shutting down; retry against it once it is back.
    public static let shuttingDown = StreamsError(.transient, name: "shutting_down", message: "server shutting down")

    /// A worker id was registered by a newer stream (streamkit's text).
    public static let workerReplaced = StreamsError(
        .permanent, name: "worker_replaced", message: "worker_id registered by another stream")

    /// The worker stopped renewing and was evicted (streamkit's text; coordd tells the worker).
    public static let presenceExpired = StreamsError(
        .permanent, name: "presence_expired", message: "worker presence expired")

    /// A fenced append named a lease that is not live or a token that is not current.
    public static func fenceMismatch(_ message: String) -> StreamsError {
        StreamsError(.permanent, name: "fence_mismatch", message: message)
    }

    /// The peer went away or the stream was torn down without an error of its own.
    public static func streamClosed(_ message: String = "stream closed") -> StreamsError {
        StreamsError(.transient, name: "stream_closed", message: message)
    }

    /// The waiting task was cancelled (streamkit's Go text: `context canceled`).
    public static let cancelled = StreamsError(.transient, name: "cancelled", message: "context canceled")

    /// An unexpected internal failure, reported instead of crashing.
    public static func internalError(_ message: String) -> StreamsError {
        StreamsError(.transient, name: "internal", message: message)
    }
}
