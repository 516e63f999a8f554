import StreamCore

/// One logical bidirectional stream of JSON messages (streamkit v1 §3).
///
/// Messages are the JSON bytes of one application message each. Errors are ``StreamsError`` values and
/// arrive at the peer with their code and name on every transport: in-process exactly as over WebSocket.
public protocol BidiStream: AnyObject, Sendable {
    /// Sends one message; suspends while the peer's buffer is full. Fails once this side has closed its
    /// sending half or the peer has gone away.
    func send(_ message: [UInt8]) async throws(StreamsError)

    /// Sends one message only if it can go without waiting; false when the peer's buffer (or the
    /// connection's) is full or the stream can no longer send. For messages worth dropping rather
    /// than waiting for, such as keepalives: a sender that cannot wait needs no task of its own.
    func offer(_ message: [UInt8]) -> Bool

    /// Offers `messages` in order, as ``offer(_:)`` does each, and returns how many went: the first that
    /// cannot go stops the rest. A network stream hands those that go to its connection at once, so a
    /// batch costs one trip to the connection's thread and one write.
    func offer(contentsOf messages: [[UInt8]]) -> Int

    /// The next message; nil once the peer half-closed cleanly and everything it sent has been read.
    /// Throws the peer's error when it closed with one, after its earlier messages have been read.
    func receive() async throws(StreamsError) -> [UInt8]?

    /// Half-closes: the peer reads what was sent, then nil (or `error`). This side can still receive.
    func closeSend(error: StreamsError?)

    /// Half-closes with `error` and tears down this side: pending and later receives end, the peer's
    /// sends fail. Idempotent.
    func close(error: StreamsError?)

    /// Suspends until the stream is closed by either side (the closed signal).
    func waitClosed() async

    /// True once either side has closed the stream.
    var isClosed: Bool { get }

    /// How many messages the peer has sent that reached this side, read or not: a sign of the peer's
    /// life that does not depend on when this side's reader gets to run.
    var arrivals: UInt64 { get }

    /// Hands this stream's messages, from now on, to `handler` on the thread that delivers them (the
    /// connection's event loop) instead of queueing them for ``receive()``, so a server that answers
    /// without waiting needs no task for the stream. Messages already queued go first, in order (they
    /// may be handed before this returns). `handler` gets nil once nothing more will arrive (the peer
    /// finished, or the stream ended), never before it returned from the message before. It returns
    /// false to stop: later messages queue for ``receive()`` again, and no nil follows.
    ///
    /// Returns false, doing nothing, when the stream cannot: only a network stream can, and only when
    /// called on its connection's loop. The caller then reads with ``receive()``.
    func receiveDirectly(_ handler: @escaping @Sendable ([UInt8]?) -> Bool) -> Bool

    /// The event loop of the stream's connection, for a stream that has one: work run there may
    /// ``offer(_:)`` to it without a trip through the loop's queue. Nil in process.
    var eventLoop: EventLoop? { get }
}

extension BidiStream {
    /// One ``offer(_:)`` after the other.
    public func offer(contentsOf messages: [[UInt8]]) -> Int {
        messages.firstIndex { !offer($0) } ?? messages.count
    }

    /// Cannot: messages are read with ``receive()``.
    public func receiveDirectly(_ handler: @escaping @Sendable ([UInt8]?) -> Bool) -> Bool { false }

    /// None.
    public var eventLoop: EventLoop? { nil }
}

extension BidiStream {
    /// Sends a message as bare JSON.
    public func send(_ message: some WireMessage) async throws(StreamsError) {
        try await send(message.encoded())
    }

    /// Sends a message inside an envelope.
    public func sendEnveloped(_ message: some EnvelopedMessage) async throws(StreamsError) {
        try await send(message.enveloped())
    }

    /// Receives and decodes a bare JSON message; nil at the end of the stream.
    public func receive<M: WireMessage>(_ type: M.Type) async throws(StreamsError) -> M? {
        guard let bytes = try await receive() else { return nil }
        return try M(decoding: bytes)
    }

    /// Receives a bare JSON string (space and segment names); nil at the end of the stream.
    public func receiveString() async throws(StreamsError) -> String? {
        guard let bytes = try await receive() else { return nil }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw .malformed(error.message)
        }
        guard case .string(let text) = value else { throw .malformed("expected a JSON string, got \(value.typeName)") }
        return text
    }
}

/// Opens logical streams to a store (streamkit's `BidiStreamProvider`).
public protocol StreamProvider: Sendable {
    /// Opens a stream to `store` and sends `request` (an enveloped request) as its first message.
    func callStream(store: WireUUID, request: [UInt8]) async throws(StreamsError) -> any BidiStream
}

extension StreamProvider {
    /// Opens a stream to `store` with `request` as its enveloped first message.
    public func callStream(store: WireUUID, request: some RequestMessage) async throws(StreamsError) -> any BidiStream {
        try await callStream(store: store, request: request.enveloped())
    }
}

extension StreamsError {
    /// A message over the largest one the transport carries, refused before it is sent (streamkit's
    /// `muxer payload too large`, with the size and the limit). Permanent, and for that stream only.
    static func payloadTooLarge(_ bytes: Int, limit: Int) -> StreamsError {
        .limitExceeded(
            "muxer payload too large: \(bytes) bytes (limit \(limit): one message must fit one WebSocket frame "
                + "base64'd, MuxLimits.maxMessagePayloadBytes and WebSocketLimits.maxFramePayloadBytes)")
    }
}
