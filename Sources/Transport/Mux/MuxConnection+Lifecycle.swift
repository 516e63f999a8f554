import StreamCore

/// Keepalive and the ways a mux connection ends. Loop-confined.
extension MuxConnection {
    /// Stops taking new streams (a draining server refuses them with `server shutting down`) while
    /// open ones go on.
    func drain() {
        loop.preconditionInEventLoop()
        draining = true
    }

    /// Ends the connection from this side: every stream fails with `error` (its reader sees the
    /// messages already received, then `error`), the peer is told per stream with a `mux::close`
    /// carrying `error` when `notifyPeer`, then with the connection-level `close` frame, and the
    /// WebSocket closes with `code`.
    func end(_ error: StreamsError, code: WebSocketCloseCode, notifyPeer: Bool) {
        loop.preconditionInEventLoop()
        guard ending == nil else { return }
        finish(error, notifyStreams: notifyPeer)
        // Queued behind the streams' close frames, which their `fail` submitted to the loop.
        loop.execute { [self] in
            if notifyPeer { writeControl(.close) }
            transport?.closeWebSocket(code: code, reason: error.message)
        }
    }

    /// The socket closed or failed underneath: every stream fails with `error`, nothing is sent.
    func transportClosed(_ error: StreamsError) {
        loop.preconditionInEventLoop()
        guard ending == nil else { return }
        finish(error, notifyStreams: false)
    }

    private func finish(_ error: StreamsError, notifyStreams: Bool) {
        ending = error
        draining = true
        openFlag.store(false, ordering: .releasing)
        if let pingTimer { loop.cancelTimer(pingTimer) }
        if let livenessTimer { loop.cancelTimer(livenessTimer) }
        pingTimer = nil
        livenessTimer = nil
        for armed in stallTimers.values { loop.cancelTimer(armed.timer) }
        stallTimers = [:]
        let streams = channels.values.sorted { $0.channelID < $1.channelID }
        channels = [:]
        for stream in streams { stream.fail(error, .afterBuffered, notifyPeer: notifyStreams) }
        gate.fail(error)
        let handlers = closeHandlers
        closeHandlers = []
        for handler in handlers { handler(error) }
    }

    // MARK: Keepalive

    /// The next `ping` in the interval less a random jitter (streamkit v1 §3.4).
    func schedulePing() {
        let jitter = keepalive.pingJitterMs > 0 ? Int.random(in: 0...keepalive.pingJitterMs) : 0
        let delay = max(1, keepalive.pingIntervalMs - jitter)
        // The keepalive timers hold the connection until ``finish`` cancels them: a weak reference
        // would give it a side table, which makes every retain and release of it the slow kind.
        pingTimer = loop.scheduleTimer(afterMs: delay) { [self] in
            guard ending == nil else { return }
            writeControl(.ping)
            schedulePing()
        }
    }

    /// Checks, when the timeout could first have passed, whether any frame arrived meanwhile.
    func scheduleLivenessCheck(afterMs delay: Int) {
        livenessTimer = loop.scheduleTimer(afterMs: max(1, delay)) { [self] in
            guard ending == nil else { return }
            let silence = ContinuousClock.now - lastInbound
            let silenceMs = Int(silence.wholeMilliseconds)
            if silenceMs >= keepalive.timeoutMs {
                end(.streamClosed("heartbeat timeout"), code: .goingAway, notifyPeer: true)
            } else {
                scheduleLivenessCheck(afterMs: keepalive.timeoutMs - silenceMs)
            }
        }
    }
}
