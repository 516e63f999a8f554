import StreamCore
import Synchronization

/// What a ``MuxConnection`` writes through: the WebSocket connection beneath it. Loop-confined.
protocol MuxTransport: AnyObject {
    /// Queues one complete WebSocket frame (already masked on the client side).
    func writeWebSocketFrame(_ bytes: [UInt8])
    /// Queues complete WebSocket frames (one or more) given as consecutive buffers (some shared with other
    /// connections), written without copying them together.
    func writeWebSocketFrame(parts: [[UInt8]])
    /// Ends the connection: a WebSocket close frame with `code`, then the socket is flushed and closed.
    func closeWebSocket(code: WebSocketCloseCode, reason: String)
}

/// The streamkit muxer of one WebSocket connection, on either end (streamkit v1 §3.3–3.4).
///
/// It turns text frames into per-channel deliveries and stream ends, opens server streams on their
/// first data frame, checks each data frame's store against the connection's authorization, answers
/// bad frames on their own channel, tombstones channels whose late frames must be ignored, keeps the
/// JSON ping/pong keepalive, and overloads a stream whose reader falls too far behind instead of
/// ever pausing the connection.
///
/// Loop-confined except for the members documented as callable from any thread (``submit(_:credit:)``,
/// ``release(_:tombstone:)``, ``gate``, ``inboundBytes``, ``isOpen``, ``execute(_:)``).
final class MuxConnection: @unchecked Sendable {
    // Why `@unchecked Sendable` is sound: the `let` properties are immutable or thread-safe
    // (`gate` locks itself, `inboundBytes`, `openFlag` and `generation` are Atomics); every `var`
    // is touched only on `loop`, which the loop-confined methods check.

    /// How a server connection refuses, authorizes and hands over streams. A class: every data frame
    /// looks at it, and copying a struct of two existentials retained everything inside both (the
    /// daemon's acceptor holds several references), 1.7 % of the daemon's CPU at pipelined renewals.
    final class ServerRole: Sendable {
        let authorization: any ConnectionAuthorization
        let acceptor: any StreamAcceptor

        init(authorization: any ConnectionAuthorization, acceptor: any StreamAcceptor) {
            self.authorization = authorization
            self.acceptor = acceptor
        }
    }

    /// The loop that owns the connection.
    let loop: EventLoop
    /// Which end: decides masking, and whether data for an unknown channel opens a stream.
    let role: WebSocketRole
    let limits: MuxLimits
    let keepalive: MuxKeepalive
    /// Largest message a stream may send: the frame carrying it must fit the peer's frame cap.
    let maxOutboundPayloadBytes: Int
    /// Outbound backpressure shared by the connection's streams.
    let gate: MuxOutboundGate
    /// Payload bytes queued in all the connection's streams.
    let inboundBytes = Atomic<Int>(0)
    let openFlag = Atomic<Bool>(true)

    private let server: ServerRole?
    // Loop-confined; internal (not private) for the lifecycle extension in MuxConnection+Lifecycle.swift.
    /// Strong, and dropped by the transport when its socket closes (which ends the cycle through its
    /// `mux`): a weak reference would give the transport a side table, which makes every retain and
    /// release of it, on every frame, the slow kind.
    var transport: (any MuxTransport)?
    var channels: [WireUUID: MuxStream] = [:]
    /// Streams opened by the read being handled, served when it is done (``readFinished()``).
    private var opened: [MuxStream] = []
    private var tombstones: MuxTombstones
    var stallTimers: [WireUUID: (timer: TimerID, taken: UInt64)] = [:]
    private var maskKeys = MaskKeyPool()
    private let origin = ContinuousClock.now
    var lastInbound = ContinuousClock.now
    var pingTimer: TimerID?
    var livenessTimer: TimerID?
    /// Set by a graceful shutdown: new channels are refused with `server shutting down`.
    var draining = false
    var closeHandlers: [@Sendable (StreamsError) -> Void] = []
    /// Why the connection ended, once it has.
    var ending: StreamsError?

    init(
        loop: EventLoop, role: WebSocketRole, server: ServerRole?, transport: any MuxTransport, limits: MuxLimits,
        maxFrameBytes: Int, keepalive: MuxKeepalive
    ) {
        precondition((role == .server) == (server != nil), "a server connection needs its authorization and acceptor")
        self.loop = loop
        self.role = role
        self.server = server
        self.transport = transport
        self.limits = limits
        self.keepalive = keepalive
        maxOutboundPayloadBytes = limits.maxOutboundPayloadBytes(frameBytes: maxFrameBytes)
        gate = MuxOutboundGate(limit: limits.outboundInFlightBytes)
        tombstones = MuxTombstones(capacity: limits.tombstoneCapacity, ttlMs: limits.tombstoneTTLMs)
    }

    /// True until the connection ends. Callable from any thread.
    var isOpen: Bool { openFlag.load(ordering: .acquiring) }

    /// Starts the keepalive timers.
    func start() {
        loop.preconditionInEventLoop()
        lastInbound = .now
        schedulePing()
        scheduleLivenessCheck(afterMs: keepalive.timeoutMs)
    }

    /// Calls `handler` once with the reason when the connection ends (at once if it already has).
    func onClose(_ handler: @escaping @Sendable (StreamsError) -> Void) {
        loop.preconditionInEventLoop()
        if let ending {
            handler(ending)
        } else {
            closeHandlers.append(handler)
        }
    }

    // MARK: Any thread

    /// Queues an encoded frame for the socket, after everything submitted before it. `credit` bytes
    /// of ``gate`` are returned once it is queued (or dropped because the connection ended). A data
    /// frame names the stream it is `from`: it is dropped unless that stream is (still) registered, so
    /// a client stream whose registration was refused sends nothing, its request included.
    func submit(_ frame: [UInt8], credit: Int, from stream: MuxStream? = nil) {
        submit(parts: [frame], credit: credit, from: stream)
    }

    /// ``submit(_:credit:from:)`` for a frame given as consecutive buffers.
    func submit(parts: [[UInt8]], credit: Int, from stream: MuxStream? = nil) {
        let accepted = loop.execute { [self] in
            write(parts: parts, credit: credit, from: stream)
            stream?.queuedFrameWritten()
        }
        if !accepted && credit > 0 { gate.release(credit) }
    }

    /// Writes a frame now, on the loop: for a stream none of whose frames wait in the loop's queue.
    func write(parts: [[UInt8]], credit: Int, from stream: MuxStream?) {
        loop.preconditionInEventLoop()
        // The transport drops frames once its socket is closing.
        if stream.map({ channels[$0.channelID] === $0 }) ?? true {
            if parts.count == 1 { transport?.writeWebSocketFrame(parts[0]) } else { transport?.writeWebSocketFrame(parts: parts) }
        }
        if credit > 0 { gate.release(credit) }
    }

    /// Forgets a stream this side closed; with `tombstone` (the peer may still be sending), frames still
    /// arriving for it are ignored, and the first late data frame is answered with an `error` frame so
    /// the peer's sends fail as they would in process.
    func release(_ stream: MuxStream, tombstone: Bool) {
        loop.execute { [self] in
            guard channels[stream.channelID] === stream else { return }
            remove(stream, tombstone: tombstone, answered: false)
        }
    }

    /// Runs `body` on the loop with this connection.
    @discardableResult
    func execute(_ body: @escaping @Sendable (MuxConnection) -> Void) -> Bool {
        loop.execute { [self] in body(self) }
    }

    // MARK: Client streams

    /// A new client stream on a fresh channel, from any thread and without waiting for the loop (a
    /// round trip to the loop's thread and back was a third of a unary call's client CPU).
    ///
    /// The loop registers the stream before it runs anything submitted after this call, so its request
    /// goes out after the registration and nothing for its channel can arrive before it is known. When
    /// the connection has ended or holds ``MuxLimits/maxStreamsPerConnection`` streams, the stream fails
    /// instead: its frames are dropped unsent and its receive reports why.
    func openClientStream(store: WireUUID) -> MuxStream {
        var random = SecureRandom.Generator()
        let stream = MuxStream(channelID: .random(using: &random), storeID: store, link: self)
        let accepted = loop.execute { [self] in register(stream) }
        if !accepted { stream.fail(.streamClosed("the connection's event loop has stopped"), .immediately, notifyPeer: false) }
        return stream
    }

    private func register(_ stream: MuxStream) {
        let refusal: StreamsError? =
            if let ending { ending }
            else if channels.count >= limits.maxStreamsPerConnection { .tooManyStreams }
            // Random 122-bit ids do not collide in practice; a stream that did would fail, not mix.
            else if channels[stream.channelID] != nil { .internalError("channel id already in use") }
            else { nil }
        guard let refusal else {
            channels[stream.channelID] = stream
            return
        }
        stream.fail(refusal, .immediately, notifyPeer: false)
    }

    // MARK: Inbound

    /// Any WebSocket frame arrived: the peer is alive.
    func noteInbound() {
        lastInbound = .now
    }

    /// One text frame: one mux frame.
    func receiveText(_ text: [UInt8]) {
        loop.preconditionInEventLoop()
        guard ending == nil else { return }
        switch MuxFrameCodec.decode(text, maxPayloadBytes: limits.maxMessagePayloadBytes) {
        case .failure(let error):
            refuseBadFrame(error)
        case .success(let frame):
            switch frame.controlType {
            case .ping: writeControl(.pong)
            case .pong: break
            case .close: end(.streamClosed("connection closed by the peer"), code: .normalClosure, notifyPeer: false)
            case .error: receiveError(frame)
            case .data: receiveData(frame)
            }
        }
    }

    private func receiveError(_ frame: MuxFrame) {
        guard let channel = frame.channelID, let stream = channels[channel] else { return }
        let payload = frame.payload ?? []
        let error =
            peerText(MuxControlMessage.decode(payload)?.streamError)
            ?? MuxControlMessage.remoteError(payload.isEmpty ? "remote error" : InputExcerpt.excerpt(payload))
        // The peer gave up on the stream: after the messages before it, this side ends too.
        _ = stream.deliverEnd(error, peerGaveUp: true)
        remove(stream, tombstone: true)
    }

    private func receiveData(_ frame: MuxFrame) {
        guard let channel = frame.channelID else {
            sendError(.malformed("invalid mux frame: data frame without channel_id"), store: frame.storeID, channel: nil)
            return
        }
        guard let payload = frame.payload else {
            refuse(channel: channel, store: frame.storeID, .malformed("invalid mux frame: data frame without payload"))
            return
        }
        if let server, let store = frame.storeID ?? channels[channel]?.storeID, !server.authorization.allows(store: store) {
            refuse(channel: channel, store: store, .accessDenied)
            return
        }
        let control = MuxControlMessage.decode(payload)
        if let stream = channels[channel] {
            if let control {
                // Finished both ways now; but this side's last frames (an answer, then its half-close) may
                // still wait in the loop's task queue, and a write runs only for a stream still known, so
                // the stream is forgotten after them, not before (else the answer is lost).
                if stream.deliverEnd(peerText(control.streamError)) { release(stream, tombstone: false) }
            } else {
                checkBacklog(of: stream, after: stream.deliver(payload))
            }
            return
        }
        // Late frames for finished channels, ends for unknown ones, and (on a client) data nobody
        // asked for are ignored (streamkit v1 §3.3), except that a peer still sending on a channel this
        // side closed is told once.
        if control == nil && tombstones.takeAnswer(channel, nowMs: nowMs) {
            sendError(.streamClosed("the receiver closed the stream"), store: frame.storeID, channel: channel)
            return
        }
        guard control == nil, server != nil, !tombstones.contains(channel, nowMs: nowMs) else { return }
        guard let store = frame.storeID else {
            refuse(channel: channel, store: nil, .invalidRequest("invalid mux frame: data frame without store_id"))
            return
        }
        if draining {
            refuse(channel: channel, store: store, .shuttingDown)
            return
        }
        guard channels.count < limits.maxStreamsPerConnection else {
            refuse(channel: channel, store: store, .tooManyStreams)
            return
        }
        let stream = MuxStream(channelID: channel, storeID: store, link: self)
        channels[channel] = stream
        _ = stream.deliver(payload)
        opened.append(stream)
    }

    /// The frames of one read are all handled: the streams they opened are served now. Not before: a
    /// unary call's half-close comes in the same read as its request, and a stream that knows it is
    /// finished both ways when it answers is forgotten at once, without a tombstone.
    func readFinished() {
        guard !opened.isEmpty, let server else { return }
        var batch: [MuxStream] = []
        swap(&batch, &opened)
        for stream in batch { serve(stream, server) }
        batch.removeAll(keepingCapacity: true)
        if opened.isEmpty { opened = batch }
    }

    /// Hands a new stream to the acceptor: at once on this thread when it can serve it so, else in a task.
    private func serve(_ stream: MuxStream, _ server: ServerRole) {
        let (acceptor, authorization, store) = (server.acceptor, server.authorization, stream.storeID)
        if channels[stream.channelID] === stream, let request = stream.takeRequest() {
            if acceptor.serveAtOnce(store: store, request: request, stream: stream, authorization: authorization) { return }
            stream.restoreRequest(request)
        }
        Task {
            do throws(StreamsError) {
                try await acceptor.accept(store: store, stream: stream, authorization: authorization)
            } catch {
                stream.link.execute { $0.refuseAccepted(stream, error) }
            }
        }
    }

    /// An error a peer sent, as this side keeps it. A server keeps at most ``InputExcerpt/maxBytes`` of
    /// a client's text: a stream that ends with the client's error may answer with it, and must not echo
    /// 64 KiB back. A client keeps the server's text whole (it names limits, entries and cursors).
    private func peerText(_ error: StreamsError?) -> StreamsError? {
        guard role == .server, let error else { return error }
        return error.with(message: InputExcerpt.excerpt(error.message))
    }

    /// The acceptor could not take a new stream (the store cannot open): tell the peer on its channel.
    private func refuseAccepted(_ stream: MuxStream, _ error: StreamsError) {
        guard channels[stream.channelID] === stream else { return }
        stream.fail(error, .immediately, notifyPeer: true, asErrorFrame: true)
        remove(stream, tombstone: true)
    }

    /// A frame that could not be read: answered on its channel when it names one (that stream, if
    /// open, fails: one of its messages is lost), else with a connection-level error frame. The
    /// connection and its other streams go on.
    private func refuseBadFrame(_ error: MuxFrameError) {
        let streamsError = StreamsError.malformed(error.message)
        guard let channel = error.channelID else {
            sendError(streamsError, store: error.storeID, channel: nil)
            return
        }
        refuse(channel: channel, store: error.storeID, streamsError)
    }

    /// Answers `channel` with an `error` frame carrying `error`, fails its stream if one is open, and
    /// tombstones it so the peer's further frames on it are ignored.
    private func refuse(channel: WireUUID, store: WireUUID?, _ error: StreamsError) {
        if tombstones.contains(channel, nowMs: nowMs) { return }
        if let stream = channels[channel] {
            stream.fail(error, .immediately, notifyPeer: false)
            remove(stream, tombstone: false)
        }
        tombstones.insert(channel, nowMs: nowMs)
        sendError(error, store: store, channel: channel)
    }

    // MARK: Backlog

    private func checkBacklog(of stream: MuxStream, after delivery: MuxStream.Delivery) {
        guard case .queued(let count, let bytes) = delivery else { return }
        if count > 1 && bytes > limits.streamReceiveBufferBytes {
            overload(stream)
        } else if count > limits.streamReceiveQueueMessages && stallTimers[stream.channelID] == nil {
            armStallTimer(for: stream, taken: stream.backlog.taken)
        }
        if inboundBytes.load(ordering: .relaxed) > limits.connectionReceiveBufferBytes {
            // The connection holds too much: the stream furthest behind gives way.
            let largest = channels.values.max { $0.backlog.bytes < $1.backlog.bytes }
            if let largest { overload(largest) }
        }
    }

    private func armStallTimer(for stream: MuxStream, taken: UInt64) {
        let channel = stream.channelID
        // Holds the connection until it fires or ``finish`` cancels it (no weak reference: see `transport`).
        let timer = loop.scheduleTimer(afterMs: limits.streamReceiveStallMs) { [self] in
            stallTimerFired(channel)
        }
        stallTimers[channel] = (timer, taken)
    }

    private func stallTimerFired(_ channel: WireUUID) {
        guard let armed = stallTimers.removeValue(forKey: channel), let stream = channels[channel] else { return }
        let backlog = stream.backlog
        guard backlog.count > limits.streamReceiveQueueMessages else { return }
        if backlog.taken == armed.taken {
            overload(stream)
        } else {
            armStallTimer(for: stream, taken: backlog.taken)
        }
    }

    /// The stream's reader fell too far behind: it fails with `stream receive buffer overloaded`, the
    /// peer is told on the channel, and the channel is tombstoned (streamkit v1 §3.4).
    private func overload(_ stream: MuxStream) {
        stream.fail(.streamOverloaded, .immediately, notifyPeer: true, asErrorFrame: true)
        remove(stream, tombstone: true)
    }

    private func remove(_ stream: MuxStream, tombstone: Bool, answered: Bool = true) {
        let channel = stream.channelID
        guard channels[channel] === stream else { return }
        channels[channel] = nil
        if let armed = stallTimers.removeValue(forKey: channel) { loop.cancelTimer(armed.timer) }
        if tombstone { tombstones.insert(channel, nowMs: nowMs, answered: answered) }
    }

    // MARK: Outbound on the loop

    func writeControl(_ frame: MuxFrame) {
        guard ending == nil || frame.controlType == .close else { return }
        let key = role == .client ? maskKeys.nextKey() : nil
        transport?.writeWebSocketFrame(MuxFrameCodec.webSocketFrame(frame, maskKey: key))
    }

    private func sendError(_ error: StreamsError, store: WireUUID?, channel: WireUUID?) {
        writeControl(
            MuxFrame(controlType: .error, storeID: store, channelID: channel, payload: MuxControlMessage.error(error).encoded()))
    }

    private var nowMs: Int64 {
        let elapsed = ContinuousClock.now - origin
        return elapsed.wholeMilliseconds
    }
}
