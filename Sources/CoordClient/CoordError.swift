import StreamCore

/// The errors of the client's high-level calls (`connect`, sessions, `withLease`, waiting, elections,
/// `append`), one case per thing an application may want to do differently, with the server's structured
/// fields. Cancellation is never one of them: a cancelled call throws `CancellationError`.
///
/// The lower-level calls throw ``StreamsError`` (the wire's code, name and text); ``init(_:)`` maps one to
/// the case for its name, and ``streamsError`` gives it back.
public enum CoordError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Another holder has the lease (`reason` `held`), or the acquire was refused for another `reason`
    /// (`tokens_exhausted`, `worker_not_registered`). The holder's fence and expiry (server wall-clock Unix
    /// ms) say when trying again may succeed.
    case leaseNotAcquired(key: String, reason: String, holder: String?, fence: UInt64?, expiresAt: Int64?)
    /// The lease was lost while its body ran: a renewal was refused, none succeeded by the local safe
    /// deadline, or its session ended.
    case leaseLost(key: String, message: String)
    /// An acquire that waits for the key did not get it before its deadline; the last holder seen is given.
    case waitTimedOut(key: String, holder: String?, fence: UInt64?)
    /// The session ended (its stream was closed, replaced or evicted, or fell silent): every lease bound to
    /// it is gone.
    case sessionLost(String)
    /// A fenced produce was refused: the lease is no longer live or its token is not current.
    case fenceMismatch(String)
    /// A produce's sequence was not the segment's next (`sequence_gap`, `sequence_mismatch`): someone else
    /// appended first.
    case sequenceConflict(String)
    /// A named limit was passed; the text names it and its value.
    case limitExceeded(String)
    /// The token's scopes do not cover the store.
    case accessDenied(String)
    /// The server refused the credentials before the connection opened (401/403).
    case unauthorized(String)
    /// The store does not exist and the daemon creates stores only when asked.
    case storeNotFound(String)
    /// The store could not be opened now; trying later may work.
    case storeUnavailable(String)
    /// The request is wrong (an empty key, a TTL out of range, a malformed message); retrying cannot help.
    case invalidRequest(String)
    /// The server's storage failed (disk full, I/O error); nothing partial was stored.
    case storageError(String)
    /// The daemon is shutting down.
    case shuttingDown
    /// The worker id was registered by another stream.
    case workerReplaced
    /// The worker stopped renewing and the server evicted it.
    case presenceExpired
    /// The server could not be reached, or the connection was lost (`name` says how: `stream_closed`,
    /// `handshake_refused`, …).
    case connectionFailed(name: String, message: String)
    /// The server shed load: a subscriber or stream fell too far behind, or too many streams were open.
    case overloaded(name: String, message: String)
    /// The client was closed.
    case clientClosed
    /// Any other error the server sent, with its code, name and text.
    case other(StreamsError)

    /// The case for a wire error's name. `cancelled` has no case: callers turn it into `CancellationError`.
    public init(_ error: StreamsError) {
        switch error.name {
        case "fence_mismatch": self = .fenceMismatch(error.message)
        case "sequence_gap", "sequence_mismatch": self = .sequenceConflict(error.message)
        case "limit_exceeded": self = .limitExceeded(error.message)
        case "access_denied": self = .accessDenied(error.message)
        case "unauthorized": self = .unauthorized(error.message)
        case "store_not_found": self = .storeNotFound(error.message)
        case "store_unavailable": self = .storeUnavailable(error.message)
        case "invalid_request", "malformed_message": self = .invalidRequest(error.message)
        case "storage_error": self = .storageError(error.message)
        case "shutting_down": self = .shuttingDown
        case "worker_replaced": self = .workerReplaced
        case "presence_expired": self = .presenceExpired
        case "provider_closed": self = .clientClosed
        case "stream_closed", "handshake_refused", "tls_configuration":
            self = .connectionFailed(name: error.name, message: error.message)
        case "subscription_overloaded", "stream_overloaded", "too_many_streams":
            self = .overloaded(name: error.name, message: error.message)
        default: self = .other(error)
        }
    }

    /// True when trying again later may succeed.
    public var isTransient: Bool {
        switch self {
        case .leaseNotAcquired, .leaseLost, .waitTimedOut, .sessionLost, .storeUnavailable, .storageError, .shuttingDown,
             .connectionFailed, .overloaded:
            return true
        case .fenceMismatch, .sequenceConflict, .limitExceeded, .accessDenied, .unauthorized, .storeNotFound,
             .invalidRequest, .workerReplaced, .presenceExpired, .clientClosed:
            return false
        case .other(let error):
            return error.isTransient
        }
    }

    /// The error as the wire names it.
    public var streamsError: StreamsError {
        switch self {
        case .leaseNotAcquired: return StreamsError(.transient, name: "lease_not_acquired", message: description)
        case .leaseLost: return StreamsError(.transient, name: "lease_lost", message: description)
        case .waitTimedOut: return StreamsError(.transient, name: "wait_timed_out", message: description)
        case .sessionLost: return StreamsError(.transient, name: "session_lost", message: description)
        case .fenceMismatch(let message): return .fenceMismatch(message)
        case .sequenceConflict(let message): return StreamsError(.permanent, name: "sequence_gap", message: message)
        case .limitExceeded(let message): return .limitExceeded(message)
        case .accessDenied(let message): return StreamsError.accessDenied.with(message: message)
        case .unauthorized(let message): return StreamsError(.permanent, name: "unauthorized", message: message)
        case .storeNotFound(let message): return StreamsError(.permanent, name: "store_not_found", message: message)
        case .storeUnavailable(let message): return StreamsError.storeUnavailable.with(message: message)
        case .invalidRequest(let message): return .invalidRequest(message)
        case .storageError(let message): return .storage(message)
        case .shuttingDown: return .shuttingDown
        case .workerReplaced: return .workerReplaced
        case .presenceExpired: return .presenceExpired
        case .connectionFailed(let name, let message): return StreamsError(.transient, name: name, message: message)
        case .overloaded(let name, let message): return StreamsError(.transient, name: name, message: message)
        case .clientClosed: return StreamsError(.permanent, name: "provider_closed", message: description)
        case .other(let error): return error
        }
    }

    /// The stable snake_case name, as `coordctl` prints it.
    public var name: String { streamsError.name }

    public var description: String {
        switch self {
        case let .leaseNotAcquired(key, reason, holder, fence, expiresAt):
            let refusal = LeaseResult(ok: false, reason: reason, fence: fence, holder: holder, expiresAt: expiresAt)
            return "lease \"\(key)\" not acquired: \(refusal.refusalDescription)"
        case let .leaseLost(key, message): return "lease \"\(key)\" lost: \(message)"
        case let .waitTimedOut(key, holder, fence):
            let by = holder.map { " (held by \($0)\(fence.map { ", fence \($0)" } ?? ""))" } ?? ""
            return "gave up waiting for lease \"\(key)\"\(by)"
        case .sessionLost(let message): return "session lost: \(message)"
        case .shuttingDown: return StreamsError.shuttingDown.message
        case .workerReplaced: return StreamsError.workerReplaced.message
        case .presenceExpired: return StreamsError.presenceExpired.message
        case .clientClosed: return "the client was closed"
        case .fenceMismatch(let m), .sequenceConflict(let m), .limitExceeded(let m), .accessDenied(let m),
             .unauthorized(let m), .storeNotFound(let m), .storeUnavailable(let m), .invalidRequest(let m),
             .storageError(let m):
            return m
        case .connectionFailed(_, let message), .overloaded(_, let message): return message
        case .other(let error): return error.message
        }
    }

    /// A refused acquire as an error.
    static func notAcquired(_ key: String, _ result: LeaseResult) -> CoordError {
        .leaseNotAcquired(key: key, reason: result.reason ?? "refused", holder: result.holder, fence: result.fence,
                          expiresAt: result.expiresAt)
    }
}

/// Runs a lower-level call and maps its failure: `cancelled` (or a cancelled task) to `CancellationError`,
/// any other ``StreamsError`` to its ``CoordError``; other errors (a body's own) pass through unchanged.
func coordErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as StreamsError {
        throw typed(error)
    }
}

/// The error a high-level call throws for a wire error.
func typed(_ error: StreamsError) -> any Error {
    if error.name == StreamsError.cancelled.name { return CancellationError() }
    return CoordError(error)
}
