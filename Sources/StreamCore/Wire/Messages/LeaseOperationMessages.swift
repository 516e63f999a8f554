/// coordd extension: one stream carrying many lease operations of the store (acquires, renewals and
/// releases of any keys), each a bare ``LeaseOperation`` and each answered with a bare ``LeaseResult``,
/// in the order they came. The client may send any number without waiting. An operation that logs (a
/// grant, a release, a renewal that lengthens the TTL) is answered once it is durable, and the answers
/// after it wait for it. The stream ends, cleanly, once the client half-closes and every operation is
/// answered. Unlike a stream per operation it costs no stream opening and closing per operation.
///
/// A separate request rather than more messages on `lease_renewals`: a server that knew only that
/// stream would read an acquire or a release as a renewal, where an unknown request is refused.
public struct LeaseOperations: RequestMessage, Equatable {
    public static let discriminator = "coordd://api/v1/lease_ops"

    /// Creates the request.
    public init() {}

    public init(fields: JSONFields) throws(StreamsError) {}

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.endObject()
    }
}

/// One message of a `lease_ops` stream: the members of ``LeaseAcquire``, ``LeaseRenew`` or ``LeaseRelease``
/// with an `op` member naming which, e.g. `{"op":"acquire","key":"p-7","holder":"a","ttl_seconds":0,"ttl_ms":5000}`.
public enum LeaseOperation: WireMessage, Equatable {
    case acquire(LeaseAcquire)
    case renew(LeaseRenew)
    case release(LeaseRelease)

    public init(fields: JSONFields) throws(StreamsError) {
        switch try fields.string("op") {
        case "acquire": self = .acquire(try LeaseAcquire(fields: fields))
        case "renew": self = .renew(try LeaseRenew(fields: fields))
        case "release": self = .release(try LeaseRelease(fields: fields))
        case "": throw .invalidRequest("a lease operation needs an op: acquire, renew or release")
        case let other: throw .invalidRequest("unknown lease op \"\(other)\": expected acquire, renew or release")
        }
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("op")
        switch self {
        case .acquire(let request):
            w.string("acquire")
            request.writeMembers(to: &w)
        case .renew(let request):
            w.string("renew")
            request.terms.writeMembers(to: &w)
        case .release(let request):
            w.string("release")
            request.writeMembers(to: &w)
        }
        w.endObject()
    }

    /// The key it names.
    public var key: String {
        switch self {
        case .acquire(let request): request.terms.key
        case .renew(let request): request.terms.key
        case .release(let request): request.key
        }
    }
}
