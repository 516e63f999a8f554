import StreamCore

/// The protocol stack on one TCP connection, on either end: optional TLS over memory BIOs, the HTTP
/// upgrade (the server reads a request, the client its handshake answer), then RFC 6455 frames
/// whose text payloads go to a ``MuxConnection``.
///
/// Loop-confined: the runtime calls the `ConnectionHandler` methods on the connection's loop, and
/// everything else is called there too (other threads go through `tcp.execute`).
final class WebSocketConnection: ConnectionHandler, MuxTransport, @unchecked Sendable {
    // Why `@unchecked Sendable` is sound: `tcp`, `role` and the limits are immutable; every `var`
    // is read and written only on `tcp.loop` (the handler callbacks run there, and other threads
    // reach this object only through `tcp.execute`).

    enum Phase {
        /// TLS and the HTTP upgrade are under way.
        case handshaking
        /// WebSocket frames flow.
        case open
        /// A response or a close frame was sent; the socket is being flushed and closed. Input is ignored.
        case closing
        /// The socket is closed.
        case closed
    }

    /// The socket.
    let tcp: TCPConnection
    /// Which end of the WebSocket this is.
    let role: WebSocketRole
    let webSocketLimits: WebSocketLimits
    let muxLimits: MuxLimits
    let keepalive: MuxKeepalive

    // Internal (not private) for the role extensions in WebSocketConnection+Server/+Client.swift.
    var phase = Phase.handshaking
    var tls: TLSEngine?
    var frameParser: WebSocketFrameParser?
    var encoder: WebSocketFrameEncoder
    /// The muxer, once upgraded.
    var mux: MuxConnection?
    var handshakeTimer: TimerID?
    var closeSent = false

    // Server side.
    var requestParser: HTTPRequestParser?
    var server: WebSocketServerContext?

    // Client side.
    var clientHandshake: WebSocketClientHandshake?
    var handshakeBytes: [UInt8] = []
    var clientCompletion: ((Result<MuxConnection, StreamsError>) -> Void)?

    init(tcp: TCPConnection, role: WebSocketRole, tls: TLSEngine?, webSocketLimits: WebSocketLimits, muxLimits: MuxLimits,
         keepalive: MuxKeepalive) {
        self.tcp = tcp
        self.role = role
        self.tls = tls
        self.webSocketLimits = webSocketLimits
        self.muxLimits = muxLimits
        self.keepalive = keepalive
        encoder = WebSocketFrameEncoder(role: role)
    }

    var loop: EventLoop { tcp.loop }

    // MARK: ConnectionHandler

    func didRead(_ bytes: UnsafeRawBufferPointer) {
        // The streams this read opened are served once all its frames are in.
        defer { mux?.readFinished() }
        guard let tls else {
            handlePlaintext(bytes)
            return
        }
        tls.feedCiphertext(bytes)
        do {
            let result = try tls.readPlaintext { [self] plaintext in handlePlaintext(plaintext) }
            flushCiphertext()
            if result.peerClosed { lost(.streamClosed("the peer ended the TLS session")) }
        } catch {
            // OpenSSL's alert (if any) tells the peer why; then the connection goes.
            if role == .server && !tls.isHandshakeComplete {
                loop.events.report(.tlsHandshakeFailed(peer: tcp.remoteAddress, error))
            }
            flushCiphertext()
            lost(.streamClosed("TLS failed: \(error.message)"))
        }
    }

    func writabilityChanged(_ writable: Bool) {
        mux?.gate.setWritable(writable)
    }

    func didClose(_ error: IOError?) {
        phase = .closed
        cancelHandshakeTimer()
        let reason = error.map { "connection lost: \($0)" } ?? "connection closed"
        mux?.transportClosed(.streamClosed(reason))
        // Ends the cycle with the muxer, which holds its transport strongly; its later writes are dropped.
        mux?.transport = nil
        failHandshake(.streamClosed(reason + " during the WebSocket handshake"))
        if let server, server.connections.remove(self), let mux {
            // What ended the connection first: the peer's close, a shutdown, a timeout, or the socket.
            loop.events.report(.webSocketClosed(peer: tcp.remoteAddress, reason: mux.ending?.message ?? reason))
        }
    }

    // MARK: Input

    private func handlePlaintext(_ bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .handshaking:
            if role == .server { serverReceive(bytes) } else { clientReceive(bytes) }
        case .open:
            readFrames(bytes, from: 0)
        case .closing, .closed:
            return
        }
    }

    /// Switches to WebSocket frames and starts the muxer.
    func openWebSocket(server serverRole: MuxConnection.ServerRole?) -> MuxConnection {
        cancelHandshakeTimer()
        frameParser = WebSocketFrameParser(role: role, limits: webSocketLimits)
        let mux = MuxConnection(
            loop: loop, role: role, server: serverRole, transport: self, limits: muxLimits,
            maxFrameBytes: webSocketLimits.maxFramePayloadBytes, keepalive: keepalive)
        self.mux = mux
        phase = .open
        if !tcp.isWritable { mux.gate.setWritable(false) }
        mux.start()
        return mux
    }

    /// Parses frames from `bytes[start...]` and acts on each.
    func readFrames(_ bytes: UnsafeRawBufferPointer, from start: Int) {
        var offset = start
        while phase == .open {
            guard let event = frameParser?.next(in: bytes, at: &offset) else { return }
            switch event {
            case .needMoreData:
                return
            case .frame(let frame):
                handle(frame)
            case .failure(let failure):
                mux?.transportClosed(.streamClosed("WebSocket protocol error: \(failure.reason)"))
                closeWebSocket(code: failure.code, reason: failure.reason)
                return
            }
        }
    }

    private func handle(_ frame: WebSocketFrame) {
        mux?.noteInbound()
        switch frame.opcode {
        case .text:
            mux?.receiveText(frame.payload)
        case .ping:
            var out: [UInt8] = []
            encoder.encodePong(frame.payload, into: &out)
            writeWebSocketFrame(out)
        case .close:
            let code = frame.closeCode ?? .normalClosure
            mux?.transportClosed(.streamClosed("the peer closed the WebSocket (\(code) \(frame.closeReason))"))
            closeWebSocket(code: code.isValidOnWire ? code : .normalClosure, reason: "")
        case .pong, .binary, .continuation:
            // The parser refuses binary and continuation frames; pongs need no answer.
            break
        }
    }

    // MARK: Output

    /// Sends bytes above TLS (or straight to the socket without it).
    func writePlain(_ bytes: [UInt8]) {
        writePlain(parts: [bytes])
    }

    /// Queues consecutive buffers: as they are (one gathered write) in the clear, else encrypted.
    func writePlain(parts: [[UInt8]]) {
        guard phase != .closed, parts.contains(where: { !$0.isEmpty }) else { return }
        guard let tls else {
            if parts.count == 1 { tcp.write(parts[0]) } else { tcp.write(contentsOf: parts) }
            return
        }
        do {
            for part in parts where !part.isEmpty { try tls.writePlaintext(part) }
        } catch {
            flushCiphertext()
            lost(.streamClosed("TLS failed: \(error.message)"))
            return
        }
        flushCiphertext()
    }

    private func flushCiphertext() {
        guard let tls, phase != .closed else { return }
        if let ciphertext = tls.takeCiphertext() { tcp.write(ciphertext) }
    }

    func writeWebSocketFrame(_ bytes: [UInt8]) {
        guard phase == .open, !closeSent else { return }
        writePlain(bytes)
    }

    func writeWebSocketFrame(parts: [[UInt8]]) {
        guard phase == .open, !closeSent else { return }
        writePlain(parts: parts)
    }

    func closeWebSocket(code: WebSocketCloseCode, reason: String) {
        guard phase == .open || phase == .handshaking else { return }
        if phase == .open && !closeSent {
            var out: [UInt8] = []
            encoder.encodeClose(code: code, reason: reason, into: &out)
            writePlain(out)
            closeSent = true
        }
        closeSocket()
    }

    /// Flushes what is queued (and TLS's close_notify) and closes the socket.
    func closeSocket() {
        guard phase != .closed else { return }
        phase = .closing
        cancelHandshakeTimer()
        if let tls {
            tls.shutdown()
            flushCiphertext()
        }
        tcp.close()
    }

    /// The connection cannot go on (TLS failure, the peer's close_notify): streams fail, the socket closes.
    private func lost(_ error: StreamsError) {
        guard phase != .closed, phase != .closing else { return }
        mux?.transportClosed(error)
        failHandshake(error)
        phase = .closing
        cancelHandshakeTimer()
        tcp.close()
    }

    // MARK: Handshake timer

    /// Closes the connection unless the upgrade finishes within `ms` (the slowloris defence on the server,
    /// a bound on a stalled server for the client).
    func startHandshakeTimer(ms: Int) {
        // Holds the connection until it fires or is cancelled (the upgrade, or the close): a weak
        // reference would give the connection a side table, which makes every later retain and
        // release of it, on every frame, the slow kind.
        handshakeTimer = loop.scheduleTimer(afterMs: ms) { [self] in
            guard phase == .handshaking else { return }
            handshakeTimer = nil
            failHandshake(.streamClosed("the WebSocket handshake did not finish within \(ms) ms"))
            phase = .closing
            tcp.closeNow()
        }
    }

    func cancelHandshakeTimer() {
        if let handshakeTimer { loop.cancelTimer(handshakeTimer) }
        handshakeTimer = nil
    }

    /// A pending client handshake fails with `error` (once).
    func failHandshake(_ error: StreamsError) {
        guard let completion = clientCompletion else { return }
        clientCompletion = nil
        completion(.failure(error))
    }

    /// The daemon holds too many bytes for its clients and this one reads slowest: its streams end, what
    /// it has not begun to receive is dropped, and a close frame (1013, try again later) with the reason
    /// follows the rest of the frame under way, so a peer that reads again learns why. Over TLS queued
    /// records cannot be cut out of the session, so the socket is closed at once instead.
    func outboundBudgetExceeded(_ close: OutboundBudgetClose) {
        mux?.transportClosed(.streamClosed("connection closed: \(close.reason)"))
        guard phase == .open, tls == nil else { return }
        tcp.discardUnstartedWrites()
        closeWebSocket(code: .tryAgainLater, reason: close.reason)
    }

    // MARK: Shutdown

    /// Ends the connection as a server shuts down: a connection still in its handshake just closes; an
    /// upgraded one ends every stream with `error` and closes the WebSocket with `going away`.
    func shutDown(_ error: StreamsError) {
        switch phase {
        case .handshaking: closeSocket()
        case .open: mux?.end(error, code: .goingAway, notifyPeer: true)
        case .closing, .closed: break
        }
    }

    /// Closes the socket at once (a shutdown whose grace period ran out).
    func closeNow() {
        guard phase != .closed else { return }
        tcp.closeNow()
    }
}
