// The wire types (WireUUID, Record, Entry, LeaseResult, StreamsError …) are part of the client's API.
@_exported import StreamCore
import Transport

/// The Swift client of coordd: workers, observers, leases, sessions, elections and the streaming store.
///
/// ``connect(url:token:tls:store:limits:)`` makes one that owns its connection; ``init(provider:store:)``
/// wraps any ``StreamProvider`` (in-process or WebSocket). Every operation opens its own logical stream,
/// as streamkit does. The lower-level calls fail with ``StreamsError`` values carrying the server's code
/// (transient or permanent) and error name; the high-level ones (sessions, `withLease`, waiting,
/// elections, `append`) with ``CoordError``, and with `CancellationError` when cancelled. `docs/sdk.md`
/// shows them all.
public struct CoordClient: Sendable {
    /// The transport that opens streams.
    public let provider: any StreamProvider
    /// The store every call addresses.
    public let store: WireUUID
    /// What `connect` opened for this client, closed by `close()`; nil over a caller's provider.
    let connection: ClientConnection?
    /// The stream `withLease`'s renewals share.
    let leaseKeepers = LeaseKeepers()
    /// Whether the server refused `produce_batches`, so produces go one record per message.
    let produceBatching = ProduceBatching()

    /// Creates a client for `store` over a provider the caller owns (and closes).
    public init(provider: any StreamProvider, store: WireUUID = .defaultStore) {
        self.init(provider: provider, store: store, connection: nil)
    }

    init(provider: any StreamProvider, store: WireUUID, connection: ClientConnection?) {
        self.provider = provider
        self.store = store
        self.connection = connection
    }

    /// Opens a stream for `request`.
    public func open(_ request: some RequestMessage) async throws(StreamsError) -> any BidiStream {
        try await provider.callStream(store: store, request: request)
    }

    /// The head entry of a segment (the empty entry, sequence 0, when the segment is empty).
    public func peek(space: String, segment: String) async throws(StreamsError) -> Entry {
        try await single(Peek(space: space, segment: segment), as: Entry.self)
    }

    /// Entries of one segment in ascending sequence.
    ///
    /// The reads ask for their entries many to a message (coordd's `batched`); a server without it sends
    /// them one per message, which the sequence reads the same way.
    public func consumeSegment(_ request: ConsumeSegment) -> MessageSequence<Entry> {
        var request = request
        request.batched = true
        return entries(request)
    }

    /// Entries of one space in (timestamp, segment, sequence) order after the request's cursor.
    public func consumeSpace(_ request: ConsumeSpace) -> MessageSequence<Entry> {
        var request = request
        request.batched = true
        return entries(request)
    }

    /// Entries of several spaces merged by timestamp.
    public func consume(_ request: Consume) -> MessageSequence<Entry> {
        var request = request
        request.batched = true
        return entries(request)
    }

    /// The entries of a read that may come many to a message (``EntryBatch``) or one per message.
    private func entries(_ request: some RequestMessage) -> MessageSequence<Entry> {
        MessageSequence(open: opener(request), unpack: { message throws(StreamsError) in try EntryBatch.entries(in: message) })
    }

    /// Space names in ascending byte order.
    public func spaces() async throws(StreamsError) -> [String] {
        try await names(GetSpaces())
    }

    /// Segment names of `space` in ascending byte order.
    public func segments(in space: String) async throws(StreamsError) -> [String] {
        try await names(GetSegments(space: space))
    }

    /// What the store holds and who is connected to it.
    public func status() async throws(StreamsError) -> StoreStatus {
        try await single(GetStatus(), as: StoreStatus.self)
    }

    /// Segment statuses of `segment` (or `*` for the whole space): the current one(s), then one per
    /// commit, plus heartbeats every `heartbeatIntervalSeconds` when > 0. Ends only with an error or when
    /// iteration stops.
    public func subscribe(space: String, segment: String, heartbeatIntervalSeconds: Int64 = 0) -> MessageSequence<SegmentStatus> {
        sequence(SubscribeToSegmentStatus(space: space, segment: segment, heartbeatIntervalSeconds: heartbeatIntervalSeconds))
    }

    /// The messages answering `request`, as an async sequence.
    public func sequence<M: WireMessage>(_ request: some RequestMessage, of type: M.Type = M.self) -> MessageSequence<M> {
        MessageSequence(open: opener(request))
    }

    /// Opens a stream for `request` each time it is called.
    private func opener(_ request: some RequestMessage) -> @Sendable () async throws(StreamsError) -> any BidiStream {
        let client = self
        let envelope = request.enveloped()
        return { () throws(StreamsError) in try await client.provider.callStream(store: client.store, request: envelope) }
    }

    /// Sends `request` and reads exactly one answer.
    func single<M: WireMessage>(_ request: some RequestMessage, as type: M.Type) async throws(StreamsError) -> M {
        let stream = try await open(request)
        defer { stream.close(error: nil) }
        // Nothing more to send: the close leaves with the request (one write instead of two per call,
        // and the stream is finished on both sides once the answer and the server's close arrive).
        stream.closeSend(error: nil)
        guard let answer = try await stream.receive(M.self) else {
            throw .streamClosed("the server ended the stream without an answer")
        }
        return answer
    }

    private func names(_ request: some RequestMessage) async throws(StreamsError) -> [String] {
        let stream = try await open(request)
        defer { stream.close(error: nil) }
        stream.closeSend(error: nil)
        var names: [String] = []
        while let name = try await stream.receiveString() { names.append(name) }
        return names
    }
}
