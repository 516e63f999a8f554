import CorePrimitives
import StreamCore
import Synchronization

/// One logical stream of a WebSocket mux connection: the network ``BidiStream``, on either end.
///
/// It behaves exactly like ``InProcessStream``: messages in order, a clean half-close reads as nil
/// after the buffered messages, a close with an error arrives typed (code and name) after them, the
/// first close wins, a local close unblocks a waiting receive. On the wire a close is the in-band
/// `mux::close` message (with coordd's `code` and `error`), which the peer takes as the end of this
/// side's messages; it may still send its own (a produce's statuses follow the client's close).
///
/// Inbound messages are queued here by the connection's loop and taken by ``receive()``; the loop
/// watches the queue's size and overloads a stream that falls too far behind (``MuxLimits``), so one
/// slow reader never stops the connection reading for the others. Outbound messages are encoded into
/// WebSocket frames by the sending task and pass the connection's ``MuxOutboundGate``.
final class MuxStream: BidiStream {
    /// The channel UUID (chosen by the client).
    let channelID: WireUUID
    /// The store the stream addresses.
    let storeID: WireUUID
    /// The connection; held strongly so a stream can always report its end to it.
    let link: MuxConnection

    private struct State {
        var inbound = RingBuffer<[UInt8]>()
        var inboundBytes = 0
        /// How this side ends; its announcements are this side's `mux::close` (or error frame).
        var end = StreamEndState()
        var receiver = ParkedContinuation<Result<[UInt8]?, StreamsError>>()
        /// Messages taken by the reader, for the loop's stall detection.
        var taken: UInt64 = 0
        /// Messages delivered by the connection, read or not.
        var arrived: UInt64 = 0
        var nextID: UInt64 = 0
        /// Sends and receives done without suspending since the last yield.
        var unyielded = 0
        /// Takes each message on the loop instead of the queue (``receiveDirectly(_:)``).
        var direct: (@Sendable ([UInt8]?) -> Bool)?
    }

    private let state = Mutex(State())
    /// Data frames of this stream handed to the loop's queue and not yet written: while there are any,
    /// later frames must follow them through the queue. Raised under the state lock, lowered by the loop
    /// once it has written one (``queuedFrameWritten()``).
    private let queuedFrames = Atomic<Int>(0)
    /// Opened when the stream has ended for this side.
    private let closed = Latch()
    /// Masking keys for the frames a client sends; unused on the server side.
    private let maskKeys = Mutex(MaskKeyPool())

    init(channelID: WireUUID, storeID: WireUUID, link: MuxConnection) {
        self.channelID = channelID
        self.storeID = storeID
        self.link = link
    }

    // MARK: BidiStream

    func send(_ message: [UInt8]) async throws(StreamsError) {
        if let error = state.withLock({ $0.end.sendFailure }) { throw error }
        await yieldIfDue()
        let frame = try dataFrame(message)
        try await link.gate.acquire(frame.count)
        if let error = submitCredited(frame) { throw error }
    }

    /// Data frames as the buffers they are written as, one after the other (see
    /// ``MuxFrameCodec/webSocketFrameParts(_:maskKey:)``).
    private struct DataFrame {
        var parts: [[UInt8]]
        var count: Int
    }

    func offer(_ message: [UInt8]) -> Bool {
        guard state.withLock({ $0.end.sendFailure }) == nil, let frame = try? dataFrame(message),
              link.gate.tryAcquire(frame.count)
        else { return false }
        return submitCredited(frame) == nil
    }

    func offer(contentsOf messages: [[UInt8]]) -> Int {
        guard state.withLock({ $0.end.sendFailure }) == nil else { return 0 }
        var batch = DataFrame(parts: [], count: 0)
        var taken = 0
        for message in messages {
            guard let frame = try? dataFrame(message), link.gate.tryAcquire(frame.count) else { break }
            batch.parts += frame.parts
            batch.count += frame.count
            taken += 1
        }
        guard taken > 0 else { return 0 }
        return submitCredited(batch) == nil ? taken : 0
    }

    /// The WebSocket frame carrying `message` on this channel, refused when over the payload limit.
    private func dataFrame(_ message: [UInt8]) throws(StreamsError) -> DataFrame {
        let limit = link.maxOutboundPayloadBytes
        guard message.count <= limit else { throw .payloadTooLarge(message.count, limit: limit) }
        let frame = MuxFrame(controlType: .data, storeID: storeID, channelID: channelID, payload: message)
        let key = link.role == .client ? maskKeys.withLock { $0.nextKey() } : nil
        let parts = MuxFrameCodec.webSocketFrameParts(frame, maskKey: key)
        return DataFrame(parts: parts, count: parts.reduce(0) { $0 + $1.count })
    }

    /// Hands a frame whose gate credit was taken to the connection; returns the credit and the error
    /// when the stream stopped sending meanwhile.
    private func submitCredited(_ frame: DataFrame) -> StreamsError? {
        let onLoop = link.loop.inEventLoop
        // Handed over under the lock, so a concurrent close is queued entirely before or after it.
        let outcome = state.withLock { s -> Result<Bool, StreamsError> in
            if let error = s.end.sendFailure { return .failure(error) }
            // Every frame of this stream so far went from the loop, so none waits in the loop's queue and
            // this one may be written now, without a trip through it. Written after the lock is released
            // (a write may end the connection, which ends this stream): whatever another thread does to the
            // stream meanwhile goes through the queue, which runs after this.
            if onLoop && queuedFrames.load(ordering: .acquiring) == 0 { return .success(true) }
            queuedFrames.add(1, ordering: .relaxed)
            link.submit(parts: frame.parts, credit: frame.count, from: self)
            return .success(false)
        }
        switch outcome {
        case .success(let writeNow):
            if writeNow { link.write(parts: frame.parts, credit: frame.count, from: self) }
            return nil
        case .failure(let error):
            link.gate.release(frame.count)
            return error
        }
    }

    func receive() async throws(StreamsError) -> [UInt8]? {
        // Most receives find a message waiting: take it without suspending. A cancelled task stops
        // here even then, since a peer that sends fast could otherwise keep it reading forever.
        let cancelled = Task.isCancelled
        let ready = state.withLock { s -> Result<[UInt8]?, StreamsError>? in
            if let error = s.end.tornError { return .failure(error) }
            if cancelled { return .failure(.cancelled) }
            return take(from: &s).map { .success($0) }
        }
        if let ready {
            await yieldIfDue()
            return try ready.get()
        }
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            s.unyielded = 0
            return s.nextID
        }
        let result = await suspendCancellably(park: { continuation in
            state.withLock { s -> Result<[UInt8]?, StreamsError>? in
                if let error = s.end.tornError { return .failure(error) }
                if let message = take(from: &s) { return .success(message) }
                if let end = s.end.endOfMessages { return end }
                if Task.isCancelled { return .failure(.cancelled) }
                s.receiver.park(continuation, id: id)
                return nil
            }
        }, unpark: { [self] in
            state.withLock { $0.receiver.take(id: id) }
        }, cancelled: .failure(.cancelled))
        return try result.get()
    }

    /// Takes the oldest buffered message and releases its share of the stream's and the connection's
    /// receive budget.
    private func take(from s: inout State) -> [UInt8]? {
        guard let message = s.inbound.popFirst() else { return nil }
        s.inboundBytes -= Self.accountedBytes(message)
        s.taken &+= 1
        link.inboundBytes.subtract(Self.accountedBytes(message), ordering: .relaxed)
        return message
    }

    func closeSend(error: StreamsError?) {
        let effects = apply { s in s.end.closeSend(error) }
        if effects.closedNow { link.release(self, tombstone: false) }
    }

    func close(error: StreamsError?) {
        let effects = apply { s in s.end.close(error) }
        // The peer may still be sending: its late frames must not open a new stream.
        if effects.dropBuffered { link.release(self, tombstone: effects.peerMayStillSend) }
    }

    func waitClosed() async {
        await closed.wait()
    }

    /// True once this side closed, both sides finished, or the stream failed (connection lost,
    /// overloaded, refused).
    var isClosed: Bool { closed.isOpen }

    var arrivals: UInt64 { state.withLock { $0.arrived } }

    var eventLoop: EventLoop? { link.loop }

    /// The loop wrote (or dropped) a data frame of this stream that went through its queue.
    func queuedFrameWritten() {
        queuedFrames.subtract(1, ordering: .releasing)
    }

    /// True while a ``receive()`` is parked waiting for a message (lets a test act on a receive that is
    /// provably waiting rather than one that may not have started).
    var isReceiving: Bool { state.withLock { $0.receiver.isParked } }

    // MARK: Loop side

    /// What the loop learns from handing a stream a message.
    enum Delivery {
        /// The stream no longer takes messages (ended or closed); the message was dropped.
        case dropped
        /// Handed straight to a waiting reader.
        case handedOver
        /// Queued; the queue now holds `count` messages accounted as `bytes` (see ``accountedBytes(_:)``).
        case queued(count: Int, bytes: Int)
    }

    /// Queues one inbound message, or hands it to the reader waiting or the direct handler (called on
    /// the loop).
    func deliver(_ message: [UInt8]) -> Delivery {
        typealias Taker = (CheckedContinuation<Result<[UInt8]?, StreamsError>, Never>?, (@Sendable ([UInt8]?) -> Bool)?)
        let (delivery, taker) = state.withLock { s -> (Delivery, Taker) in
            guard s.end.acceptsMessages else { return (.dropped, (nil, nil)) }
            s.arrived &+= 1
            if s.inbound.isEmpty, let direct = s.direct {
                s.taken &+= 1
                return (.handedOver, (nil, direct))
            }
            if s.inbound.isEmpty, let receiver = s.receiver.take() {
                s.taken &+= 1
                return (.handedOver, (receiver, nil))
            }
            s.inbound.append(message)
            s.inboundBytes += Self.accountedBytes(message)
            link.inboundBytes.add(Self.accountedBytes(message), ordering: .relaxed)
            return (.queued(count: s.inbound.count, bytes: s.inboundBytes), (nil, nil))
        }
        taker.0?.resume(returning: .success(message))
        if let direct = taker.1, !direct(message) { state.withLock { $0.direct = nil } }
        return delivery
    }

    func receiveDirectly(_ handler: @escaping @Sendable ([UInt8]?) -> Bool) -> Bool {
        guard link.loop.inEventLoop else { return false }
        enum Next {
            case message([UInt8])
            case ended
            case installed
        }
        // Bounded: the queue holds at most the stream's receive buffer, and nothing is added meanwhile
        // (messages are delivered on this thread).
        while true {
            let next = state.withLock { s -> Next in
                if s.end.tornError == nil, let message = take(from: &s) { return .message(message) }
                if s.end.endOfMessages != nil { return .ended }
                s.direct = handler
                return .installed
            }
            switch next {
            case .message(let message): if !handler(message) { return true }
            case .ended:
                _ = handler(nil)
                return true
            case .installed: return true
            }
        }
    }

    /// Tells the direct handler, if still installed, that nothing more will arrive (run on the loop, so
    /// never while it handles a message).
    private func endDirect() {
        let direct = state.withLock { s -> (@Sendable ([UInt8]?) -> Bool)? in
            defer { s.direct = nil }
            return s.direct
        }
        _ = direct?(nil)
    }

    /// Takes the first queued message (a new stream's request) for the acceptor to serve at once (called
    /// on the loop, before anything reads the stream).
    func takeRequest() -> [UInt8]? {
        state.withLock { s in take(from: &s) }
    }

    /// Puts back a message ``takeRequest()`` took, first again, when the acceptor declined it.
    func restoreRequest(_ message: [UInt8]) {
        state.withLock { s in
            s.inbound.prepend(message)
            s.inboundBytes += Self.accountedBytes(message)
            s.taken &-= 1
            link.inboundBytes.add(Self.accountedBytes(message), ordering: .relaxed)
        }
    }

    /// The peer finished sending (its `mux::close`), or gave up on the stream (an `error` frame:
    /// `peerGaveUp`, after which this side's sends fail too). Returns true when both sides are done, so
    /// the channel can be released.
    func deliverEnd(_ error: StreamsError?, peerGaveUp: Bool = false) -> Bool {
        apply { s in s.end.peerEnded(error, gaveUp: peerGaveUp, bufferEmpty: s.inbound.isEmpty) }.closedNow
    }

    /// How this stream ends when the connection or the muxer ends it.
    enum Failure {
        /// The peer's messages stay readable, then `error` (connection lost, server shutting down).
        case afterBuffered
        /// Buffered messages are dropped and the reader sees `error` at once (overloaded, refused).
        case immediately
    }

    /// Ends the stream from the loop: receives end with `error` (after the buffered messages or at
    /// once), sends fail with it. When `notifyPeer` and this side has not closed yet, the peer is told
    /// with a `mux::close` carrying `error` (`asErrorFrame`: an `error` frame with `mux::error`).
    func fail(_ error: StreamsError, _ failure: Failure, notifyPeer: Bool, asErrorFrame: Bool = false) {
        apply(announceAsErrorFrame: asErrorFrame) { s in
            s.end.fail(error, immediately: failure == .immediately, notifyPeer: notifyPeer, bufferEmpty: s.inbound.isEmpty)
        }
    }

    /// Queue length, queued bytes and messages taken so far (for overload decisions on the loop).
    var backlog: (count: Int, bytes: Int, taken: UInt64) {
        state.withLock { ($0.inbound.count, $0.inboundBytes, $0.taken) }
    }

    // MARK: Helpers

    /// Yields the thread every ``MuxLimits/messagesPerYield`` messages handled without waiting.
    private func yieldIfDue() async {
        let due = state.withLock { s -> Bool in
            s.unyielded += 1
            guard s.unyielded >= link.limits.messagesPerYield else { return false }
            s.unyielded = 0
            return true
        }
        if due { await Task.yield() }
    }

    /// What a queued message costs: its bytes plus the array's allocation (header and capacity
    /// rounding), so a flood of tiny messages is bounded by ``MuxLimits/streamReceiveBufferBytes`` too.
    static func accountedBytes(_ message: [UInt8]) -> Int {
        message.count + 64
    }

    private func dropInbound(_ s: inout State) {
        link.inboundBytes.subtract(s.inboundBytes, ordering: .relaxed)
        s.inbound.removeAll()
        s.inboundBytes = 0
    }

    /// Runs one ``StreamEndState`` transition and carries out its effects: the announcement goes out
    /// as this side's `mux::close` (or `error` frame) under the lock, so it is queued after every data
    /// frame already handed over; the parked receive is answered and the closed signal opened after it.
    @discardableResult
    private func apply(announceAsErrorFrame: Bool = false,
                       _ transition: (inout State) -> StreamEndState.Effects) -> StreamEndState.Effects {
        let (effects, receiver, endsDirect) = state.withLock {
            s -> (StreamEndState.Effects, CheckedContinuation<Result<[UInt8]?, StreamsError>, Never>?, Bool) in
            let effects = transition(&s)
            if let announce = effects.announce {
                let frame = announceAsErrorFrame && announce != nil
                    ? encodeControl(.error, .error(announce!)) : encodeControl(.data, .close(announce))
                link.submit(frame, credit: 0)
            }
            if effects.dropBuffered { dropInbound(&s) }
            guard effects.endReceiver != nil else { return (effects, nil, false) }
            return (effects, s.receiver.take(), s.direct != nil)
        }
        if let end = effects.endReceiver { receiver?.resume(returning: end.map { .failure($0) } ?? .success(nil)) }
        // On the loop, after whatever it is doing: the handler may be handling a message right now, and
        // may be what ended the stream.
        if endsDirect && !link.execute({ _ in self.endDirect() }) { endDirect() }
        if effects.closedNow { closed.open() }
        return effects
    }

    /// A complete WebSocket frame carrying `frame` (masked on the client side).
    private func encode(_ frame: MuxFrame) -> [UInt8] {
        let key = link.role == .client ? maskKeys.withLock { $0.nextKey() } : nil
        return MuxFrameCodec.webSocketFrame(frame, maskKey: key)
    }

    /// A frame of `type` on this channel carrying `message`.
    private func encodeControl(_ type: MuxControlType, _ message: MuxControlMessage) -> [UInt8] {
        encode(MuxFrame(controlType: type, storeID: storeID, channelID: channelID, payload: message.encoded()))
    }
}
