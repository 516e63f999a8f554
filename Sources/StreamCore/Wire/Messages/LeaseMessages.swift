// Leases (streamkit v1 §2.2 and §5), with coordd's additive fields for fencing and fine TTLs.

/// The key, holder and TTL shared by LeaseAcquire and LeaseRenew.
public struct LeaseTerms: Equatable, Sendable {
    /// The lease key (typically a partition).
    public var key: String
    /// Who holds or wants the lease.
    public var holder: String
    /// TTL in seconds (streamkit); ignored when `ttlMs` is set.
    public var ttlSeconds: Int64
    /// coordd extension: TTL in milliseconds, down to 1 ms.
    public var ttlMs: Int64?

    /// Creates lease terms.
    public init(key: String, holder: String, ttlSeconds: Int64, ttlMs: Int64? = nil) {
        self.key = key
        self.holder = holder
        self.ttlSeconds = ttlSeconds
        self.ttlMs = ttlMs
    }

    init(fields: JSONFields) throws(StreamsError) {
        key = try fields.string("key")
        holder = try fields.string("holder")
        ttlSeconds = try fields.int64("ttl_seconds")
        ttlMs = try fields.optionalInt64("ttl_ms")
    }

    func writeMembers(to w: inout JSONWriter) {
        w.key("key"); w.string(key)
        w.key("holder"); w.string(holder)
        w.key("ttl_seconds"); w.int(ttlSeconds)
        if let ttlMs { w.key("ttl_ms"); w.int(ttlMs) }
    }
}

/// Acquires a lease (one bare LeaseResult, then the end).
public struct LeaseAcquire: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/lease_acquire"
    /// Key, holder and TTL.
    public var terms: LeaseTerms
    /// coordd extension: bind the lease to this registered worker's presence.
    public var workerID: WireUUID?

    /// Creates an acquire request.
    public init(terms: LeaseTerms, workerID: WireUUID? = nil) {
        self.terms = terms
        self.workerID = workerID
    }

    public init(fields: JSONFields) throws(StreamsError) {
        terms = try LeaseTerms(fields: fields)
        workerID = try fields.uuid("worker_id")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        writeMembers(to: &w)
        w.endObject()
    }

    func writeMembers(to w: inout JSONWriter) {
        terms.writeMembers(to: &w)
        if let workerID { w.key("worker_id"); w.uuid(workerID) }
    }
}

/// Renews a held lease (one bare LeaseResult, then the end).
public struct LeaseRenew: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/lease_renew"
    /// Key, holder and TTL.
    public var terms: LeaseTerms

    /// Creates a renew request.
    public init(terms: LeaseTerms) { self.terms = terms }

    public init(fields: JSONFields) throws(StreamsError) {
        terms = try LeaseTerms(fields: fields)
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        terms.writeMembers(to: &w)
        w.endObject()
    }
}

/// Releases a held lease (one bare LeaseResult, then the end).
public struct LeaseRelease: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/lease_release"
    /// The lease key.
    public var key: String
    /// The holder releasing it.
    public var holder: String

    /// Creates a release request.
    public init(key: String, holder: String) {
        self.key = key
        self.holder = holder
    }

    public init(fields: JSONFields) throws(StreamsError) {
        key = try fields.string("key")
        holder = try fields.string("holder")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        writeMembers(to: &w)
        w.endObject()
    }

    func writeMembers(to w: inout JSONWriter) {
        w.key("key"); w.string(key)
        w.key("holder"); w.string(holder)
    }
}

/// The answer to a lease request (bare JSON).
///
/// A refusal is one of two kinds. A request that fails validation (an empty key, a TTL that is not
/// positive or too long) carries streamkit's text in `message`, and only then is `message` set (streamkit
/// v1 §2.2, §5.1); retrying the same request fails the same way. Every other refusal (another holder has
/// the key, the caller's lease is gone) has an empty `message`, as streamkit's contention does, and says
/// why in coordd's `reason`.
public struct LeaseResult: EnvelopedMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/lease_result"
    /// Whether the operation succeeded.
    public var ok: Bool
    /// Why the request failed validation; empty for success and for every other refusal (streamkit).
    public var message: String
    /// coordd extension: why a valid request was refused, as a stable snake_case name (`held`, `not_held`,
    /// `expired`, `tokens_exhausted`, `worker_not_registered`; see `docs/protocol.md`). Nil on success and
    /// for validation failures.
    public var reason: String?
    /// coordd extension: the fencing token of the lease (on success, or the current holder's on refusal).
    public var fence: UInt64?
    /// coordd extension: the lease's holder (yours on success, the current one on refusal).
    public var holder: String?
    /// coordd extension: when the lease expires, server wall-clock Unix ms (for humans and back-off).
    public var expiresAt: Int64?
    /// coordd extension: the lease's TTL in milliseconds.
    public var ttlMs: Int64?

    /// Creates a result.
    public init(
        ok: Bool, message: String = "", reason: String? = nil, fence: UInt64? = nil, holder: String? = nil,
        expiresAt: Int64? = nil, ttlMs: Int64? = nil
    ) {
        self.ok = ok
        self.message = message
        self.reason = reason
        self.fence = fence
        self.holder = holder
        self.expiresAt = expiresAt
        self.ttlMs = ttlMs
    }

    public init(fields: JSONFields) throws(StreamsError) {
        ok = try fields.bool("ok")
        message = try fields.string("message")
        reason = try fields.members["reason"].flatMap { _ throws(StreamsError) in try fields.string("reason") }
        fence = try fields.optionalUInt64("fence")
        holder = try fields.members["holder"].flatMap { _ throws(StreamsError) in try fields.string("holder") }
        expiresAt = try fields.optionalInt64("expires_at")
        ttlMs = try fields.optionalInt64("ttl_ms")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("ok"); w.bool(ok)
        if !message.isEmpty { w.key("message"); w.string(message) }
        if let reason { w.key("reason"); w.string(reason) }
        if let fence { w.key("fence"); w.uint(fence) }
        if let holder { w.key("holder"); w.string(holder) }
        if let expiresAt { w.key("expires_at"); w.int(expiresAt) }
        if let ttlMs { w.key("ttl_ms"); w.int(ttlMs) }
        w.endObject()
    }
}

extension LeaseResult {
    /// True for a refusal of a request that failed validation: streamkit fills `message` only then.
    public var isValidationFailure: Bool { !ok && !message.isEmpty }

    /// Why the request was refused, for people: the validation text; the holder in the way (its fence
    /// and until when, on the server's wall clock); or the reason in words (`not_held` → `not held`).
    public var refusalDescription: String {
        if !message.isEmpty { return message }
        if let holder {
            var text = "held by \(holder)"
            if let fence { text += " (fence \(fence))" }
            if let expiresAt { text += " until \(UTCTimestamp.rfc3339(milliseconds: expiresAt))" }
            return text
        }
        guard let reason else { return "refused" }
        return String(reason.map { $0 == "_" ? " " : $0 })
    }
}

/// coordd extension: lists live leases whose key starts with `prefix` (bare ``LeaseInfo`` objects in key
/// order, then the end).
public struct LeaseList: RequestMessage, Equatable {
    public static let discriminator = "coordd://api/v1/lease_list"
    /// Key prefix ("" lists every lease).
    public var prefix: String
    /// At most this many leases (0 = the server's maximum).
    public var limit: UInt64

    /// Creates a list request.
    public init(prefix: String = "", limit: UInt64 = 0) {
        self.prefix = prefix
        self.limit = limit
    }

    public init(fields: JSONFields) throws(StreamsError) {
        prefix = try fields.string("prefix")
        limit = try fields.uint64("limit")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("prefix"); w.string(prefix)
        if limit != 0 { w.key("limit"); w.uint(limit) }
        w.endObject()
    }
}

/// One live lease in a ``LeaseList`` answer (bare JSON).
public struct LeaseInfo: WireMessage, Equatable {
    /// The key.
    public var key: String
    /// The holder.
    public var holder: String
    /// The fencing token.
    public var fence: UInt64
    /// Expiry, server wall-clock Unix ms; 0 for a presence-bound lease (it ends with its worker).
    public var expiresAt: Int64
    /// TTL in milliseconds.
    public var ttlMs: Int64
    /// The worker whose presence the lease is bound to, if any.
    public var workerID: WireUUID?

    /// Creates a lease description.
    public init(key: String, holder: String, fence: UInt64, expiresAt: Int64, ttlMs: Int64, workerID: WireUUID? = nil) {
        self.key = key
        self.holder = holder
        self.fence = fence
        self.expiresAt = expiresAt
        self.ttlMs = ttlMs
        self.workerID = workerID
    }

    public init(fields: JSONFields) throws(StreamsError) {
        key = try fields.string("key")
        holder = try fields.string("holder")
        fence = try fields.uint64("fence")
        expiresAt = try fields.int64("expires_at")
        ttlMs = try fields.int64("ttl_ms")
        workerID = try fields.uuid("worker_id")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("key"); w.string(key)
        w.key("holder"); w.string(holder)
        w.key("fence"); w.uint(fence)
        w.key("expires_at"); w.int(expiresAt)
        w.key("ttl_ms"); w.int(ttlMs)
        if let workerID { w.key("worker_id"); w.uuid(workerID) }
        w.endObject()
    }
}

/// coordd extension: one stream carrying many renewals, like etcd's keep-alive stream. After this
/// request the client sends bare ``LeaseRenew`` contents (`{"key","holder","ttl_seconds","ttl_ms"}`), as
/// many as it likes and without waiting for answers; the server answers each with a bare ``LeaseResult``,
/// in the order they came. A renewal that lengthens a lease's TTL is answered once it is durable, and
/// the answers after it wait for it. The stream ends, cleanly, once the client half-closes and every
/// renewal is answered. Unlike a stream per renewal it costs no stream opening and closing per renewal.
public struct LeaseRenewals: RequestMessage, Equatable {
    public static let discriminator = "coordd://api/v1/lease_renewals"

    /// Creates the request.
    public init() {}

    public init(fields: JSONFields) throws(StreamsError) {}

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.endObject()
    }
}
