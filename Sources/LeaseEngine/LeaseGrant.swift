/// A lease as the engine holds it: who holds which key, under which fencing token, until when.
public struct LeaseGrant: Sendable, Hashable {
    /// The leased key, e.g. a partition name.
    public var key: String
    /// The holder the lease belongs to (streamkit clients use a random UUID string per acquisition).
    public var holder: String
    /// The fencing token: engine-wide, increasing with every grant to a new holder, never reused.
    public var token: UInt64
    /// The TTL of the latest grant or renewal, in milliseconds.
    public var ttlMs: Int64
    /// Milliseconds on the server's monotonic clock at which the lease expires; nil while it is bound to a
    /// worker's presence (it then ends when the worker does, not by time).
    public var deadline: Int64?
    /// The opaque worker reference the lease is bound to, if any.
    public var boundTo: UInt64?

    /// Creates a grant from its parts.
    public init(key: String, holder: String, token: UInt64, ttlMs: Int64, deadline: Int64?, boundTo: UInt64?) {
        self.key = key
        self.holder = holder
        self.token = token
        self.ttlMs = ttlMs
        self.deadline = deadline
        self.boundTo = boundTo
    }
}

/// Why a lease request was refused: a validation failure in the words the client is answered with, or a
/// refusal of a valid request with its reason.
public struct LeaseRejection: Error, Sendable, Hashable {
    /// The `message` of the `{"ok":false,…}` answer: set only for validation failures, empty for every
    /// refusal of a valid request (streamkit answers contention with no message).
    public var message: String
    /// Why a valid request was refused; nil for a validation failure.
    public var refusal: LeaseRefusal?
    /// The lease standing in the way, when there is one, so the caller can see the holder, its token and
    /// when to try again.
    public var current: LeaseGrant?

    /// A validation failure with its text.
    public init(_ message: String) {
        self.message = message
    }

    /// A refusal of a valid request, with the lease in the way when there is one.
    public init(_ refusal: LeaseRefusal, current: LeaseGrant? = nil) {
        message = ""
        self.refusal = refusal
        self.current = current
    }
}
