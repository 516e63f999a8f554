import StreamCore
import Transport

extension CoordClient {
    /// Opens a `lease_renewals` stream (a coordd extension): renewals of any leases of this store, many
    /// in flight at once on one stream. A streamkit server refuses it (`invalid_request`).
    public func leaseRenewals() async throws(StreamsError) -> LeaseRenewalStream {
        LeaseRenewalStream(LeaseAnswerStream(try await open(LeaseRenewals()), name: "the lease renewals stream"))
    }

    /// Opens a `lease_ops` stream (a coordd extension): acquires, renewals and releases of any leases of
    /// this store, many in flight at once on one stream. A server without it (streamkit, an older coordd)
    /// refuses it with `invalid_request` at the first operation.
    public func leaseOperations() async throws(StreamsError) -> LeaseOperationStream {
        LeaseOperationStream(LeaseAnswerStream(try await open(LeaseOperations()), name: "the lease operations stream"))
    }
}

/// Renewals over one `lease_renewals` stream: each ``renew(key:holder:ttl:)`` sends one message and gets
/// its answer, in order, with no stream opened per renewal and as many in flight as callers want;
/// ``renew(keys:holder:ttl:)`` sends a batch at once (a service renewing all its leases). It is cheaper for
/// client and server than ``CoordClient/renew(key:holder:ttl:)`` for a client that renews often or holds
/// many leases.
///
/// Once the stream fails (the connection is lost, the server goes away), every renewal waiting and every
/// later one throws that error: open a new stream. A renewal whose task is cancelled throws `cancelled` at
/// once; if it was sent already, the server still renews, and its answer is dropped when it comes.
public final class LeaseRenewalStream: Sendable {
    private let answers: LeaseAnswerStream

    init(_ answers: LeaseAnswerStream) {
        self.answers = answers
    }

    /// The event loop the answers arrive on (nil in process). A task that waits for answers in
    /// `withTaskExecutorPreference(eventLoop)` wakes on that thread, with no other thread woken; its code
    /// must then never block.
    public var eventLoop: EventLoop? { answers.eventLoop }

    /// Renews `holder`'s live lease on `key` for another `ttl`, as ``CoordClient/renew(key:holder:ttl:)``
    /// does: a refusal is returned, an invalid request throws `invalid_request`.
    public func renew(key: String, holder: String, ttl: Duration) async throws(StreamsError) -> LeaseResult {
        try await renew(keys: [key], holder: holder, ttl: ttl)[0]
    }

    /// Renews `holder`'s leases on `keys`, each for another `ttl`, sent together without waiting between
    /// them; the results in the order of `keys`. Any one invalid request throws `invalid_request`.
    public func renew(keys: [String], holder: String, ttl: Duration) async throws(StreamsError) -> [LeaseResult] {
        try await answers.submit(keys.map { LeaseRenew(terms: CoordClient.terms($0, holder, ttl)).encoded() })
    }

    /// Half-closes the stream: the server answers what was sent, then ends it. Returns once it has.
    public func close() async { await answers.close() }

    /// The error the stream ended with; nil while it serves renewals.
    var failure: StreamsError? { answers.failure }

    /// True once the server answered a renewal on this stream.
    var hasAnswered: Bool { answers.hasAnswered }
}

/// Lease operations over one `lease_ops` stream: acquires, renewals and releases of any keys, each sent as
/// one message and answered in order, with no stream opened per operation and as many in flight as callers
/// want; ``perform(_:)`` sends a batch at once (a service taking or giving up many partitions). Each
/// answer is what the same request on a stream of its own gets (``CoordClient/acquire(key:holder:ttl:workerID:)``
/// and the others): a refusal is returned, an invalid request throws `invalid_request`; a grant, a
/// release or a renewal that lengthens the TTL is answered once durable.
///
/// Once the stream fails (the connection is lost, the server goes away), every operation waiting and every
/// later one throws that error: open a new stream. An operation whose task is cancelled throws `cancelled`
/// at once; if it was sent already, the server still carries it out, and its answer is dropped.
public final class LeaseOperationStream: Sendable {
    private let answers: LeaseAnswerStream

    init(_ answers: LeaseAnswerStream) {
        self.answers = answers
    }

    /// The event loop the answers arrive on (nil in process). A task that waits for answers in
    /// `withTaskExecutorPreference(eventLoop)` wakes on that thread, with no other thread woken; its code
    /// must then never block.
    public var eventLoop: EventLoop? { answers.eventLoop }

    /// Acquires a lease on `key` for `holder`, as ``CoordClient/acquire(key:holder:ttl:workerID:)`` does.
    public func acquire(key: String, holder: String, ttl: Duration, workerID: WireUUID? = nil)
        async throws(StreamsError) -> LeaseResult
    {
        try await perform([.acquire(LeaseAcquire(terms: CoordClient.terms(key, holder, ttl), workerID: workerID))])[0]
    }

    /// Renews `holder`'s live lease on `key` for another `ttl`, as ``CoordClient/renew(key:holder:ttl:)`` does.
    public func renew(key: String, holder: String, ttl: Duration) async throws(StreamsError) -> LeaseResult {
        try await perform([.renew(LeaseRenew(terms: CoordClient.terms(key, holder, ttl)))])[0]
    }

    /// Releases `holder`'s lease on `key`, as ``CoordClient/release(key:holder:)`` does.
    public func release(key: String, holder: String) async throws(StreamsError) -> LeaseResult {
        try await perform([.release(LeaseRelease(key: key, holder: holder))])[0]
    }

    /// Sends `operations` together, without waiting between them; their results in the same order. Any
    /// one invalid request throws `invalid_request`.
    public func perform(_ operations: [LeaseOperation]) async throws(StreamsError) -> [LeaseResult] {
        try await answers.submit(operations.map { $0.encoded() })
    }

    /// Half-closes the stream: the server answers what was sent, then ends it. Returns once it has.
    public func close() async { await answers.close() }
}
