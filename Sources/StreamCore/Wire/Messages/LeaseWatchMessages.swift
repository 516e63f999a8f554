// coordd extension: watching one lease key, so that waiters and election observers learn of a release,
// an expiry or a new holder from the server instead of polling.

/// coordd extension: watches the lease on `key`. The server answers with the key's current state (one bare
/// ``LeaseWatchEvent`` with `cause` `current`), then one event per change of holder: `granted`,
/// `released`, `expired`. Renewals are not reported. A watcher that falls behind gets only the newest
/// state (latest wins), so the stream never holds more than one pending event. It runs until the client
/// closes it or the daemon stops.
public struct LeaseWatch: RequestMessage, Equatable {
    public static let discriminator = "coordd://api/v1/lease_watch"
    /// The lease key to watch.
    public var key: String

    /// Creates a watch request.
    public init(key: String) { self.key = key }

    public init(fields: JSONFields) throws(StreamsError) {
        key = try fields.string("key")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("key"); w.string(key)
        w.endObject()
    }
}

/// One state of a watched lease key (bare JSON on a ``LeaseWatch`` stream).
public struct LeaseWatchEvent: WireMessage, Equatable {
    /// Why the event was sent: the state when the watch began, or the change that led to it.
    public enum Cause: String, Sendable, Hashable {
        /// The state when the watch began (the first event).
        case current
        /// A new holder was granted the key (or the same holder after its lease had ended).
        case granted
        /// The holder released the key, or the worker its lease was bound to ended.
        case released
        /// The lease passed its deadline.
        case expired
    }

    /// The key.
    public var key: String
    /// True while the key is held; false when it is free.
    public var held: Bool
    /// What happened.
    public var cause: Cause
    /// The holder: of the lease granted (held), or of the lease that ended (released).
    public var holder: String?
    /// The fencing token of the lease granted or ended.
    public var fence: UInt64?
    /// When a held lease expires unless renewed, server wall-clock Unix ms; nil for a presence-bound lease.
    public var expiresAt: Int64?
    /// The held lease's TTL in milliseconds.
    public var ttlMs: Int64?

    /// Creates an event.
    public init(
        key: String, held: Bool, cause: Cause, holder: String? = nil, fence: UInt64? = nil, expiresAt: Int64? = nil,
        ttlMs: Int64? = nil
    ) {
        self.key = key
        self.held = held
        self.cause = cause
        self.holder = holder
        self.fence = fence
        self.expiresAt = expiresAt
        self.ttlMs = ttlMs
    }

    public init(fields: JSONFields) throws(StreamsError) {
        key = try fields.string("key")
        switch try fields.string("state") {
        case "held": held = true
        case "free": held = false
        case let other: throw .malformed("field \"state\": expected held or free, got \"\(other)\"")
        }
        let causeText = try fields.string("cause")
        guard let cause = Cause(rawValue: causeText) else {
            throw .malformed("field \"cause\": unknown lease watch cause \"\(causeText)\"")
        }
        self.cause = cause
        holder = try fields.members["holder"].flatMap { _ throws(StreamsError) in try fields.string("holder") }
        fence = try fields.optionalUInt64("fence")
        expiresAt = try fields.optionalInt64("expires_at")
        ttlMs = try fields.optionalInt64("ttl_ms")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("key"); w.string(key)
        w.key("state"); w.string(held ? "held" : "free")
        w.key("cause"); w.string(cause.rawValue)
        if let holder { w.key("holder"); w.string(holder) }
        if let fence { w.key("fence"); w.uint(fence) }
        if let expiresAt { w.key("expires_at"); w.int(expiresAt) }
        if let ttlMs { w.key("ttl_ms"); w.int(ttlMs) }
        w.endObject()
    }
}
