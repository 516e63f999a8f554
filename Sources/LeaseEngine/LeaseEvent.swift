/// A change to the lease table that the shell appends to the durable log; replaying the log with
/// `LeaseEngine.recover(from:now:limits:)` rebuilds the table after a restart.
///
/// Renewals are deliberately absent unless they lengthen the logged TTL (see `RenewAction`): recovery
/// restores every live lease with a fresh full TTL, so logging them would only cost disk bandwidth.
public enum LeaseEvent: Sendable, Hashable {
    /// `holder` was granted `key` under `token` with a TTL of `ttlMs`, bound to a worker if `boundTo` is set.
    /// A same-holder re-acquire is logged the same way with an unchanged token.
    case granted(key: String, holder: String, token: UInt64, ttlMs: Int64, boundTo: UInt64?)
    /// `holder` released the lease on `key` that carried `token` (also logged when a bound worker ended).
    case released(key: String, holder: String, token: UInt64)
    /// The lease on `key` that carried `token` passed its deadline.
    case expired(key: String, token: UInt64)

    /// The key the event is about.
    public var key: String {
        switch self {
        case .granted(let key, _, _, _, _), .released(let key, _, _), .expired(let key, _):
            return key
        }
    }

    /// The fencing token of the lease the event is about.
    public var token: UInt64 {
        switch self {
        case .granted(_, _, let token, _, _), .released(_, _, let token), .expired(_, let token):
            return token
        }
    }
}

/// Why a byte string is not a valid encoded `LeaseEvent`.
public enum LeaseEventDecodingError: Error, Sendable, Hashable {
    /// The input ended before the event did.
    case truncated
    /// The leading byte names a format version this build does not know.
    case unsupportedVersion(UInt8)
    /// The leading byte names an event kind this build does not know.
    case unknownKind(UInt8)
    /// A string field is not valid UTF-8.
    case invalidUTF8
    /// The optional-worker flag is neither 0 nor 1.
    case invalidFlag(UInt8)
    /// A granted event carries a TTL that is not positive.
    case nonPositiveTTL(Int64)
    /// Bytes remain after a complete event.
    case trailingBytes(Int)
}
