import Glibc
import StreamCore
import Synchronization

/// A non-blocking TCP connection owned by one ``EventLoop``: reads go to its ``ConnectionHandler``,
/// writes go through a bounded queue flushed with gathered writes when the socket can take them.
///
/// Loop-confined: every method except ``execute(_:)`` (and the immutable properties) must be called
/// on ``loop``, and traps otherwise. Other threads reach the connection with ``execute(_:)``.
///
/// Closing: ``close()`` stops delivering reads, flushes what is queued, sends the end of stream,
/// and waits for the peer's (so unread input does not turn the close into a reset that could
/// destroy the bytes just sent), all bounded by ``RuntimeLimits/closeTimeoutMs``. ``closeNow()``
/// closes the socket at once. The peer's end of stream closes the connection too, after flushing.
public final class TCPConnection: @unchecked Sendable {
    // Why `@unchecked Sendable` is sound: `loop`, `remoteAddress` and `budget` are immutable, and the
    // budget's two figures are Atomics; every other stored property is read and written only on
    // `loop`'s thread, which each method other than `execute(_:)` checks with `preconditionInEventLoop()`.

    /// The loop that owns this connection.
    public let loop: EventLoop
    /// The peer's address (nil only if the kernel reported a family other than IPv4/IPv6).
    public let remoteAddress: SocketAddress?

    private enum State {
        case open
        /// `close()` was called; queued bytes are being flushed.
        case closing
        /// Flushed and end of stream sent; reading (and discarding) until the peer's end of stream.
        case lingering
        case closed
    }

    let fd: Int32
    private var state = State.open
    private var handler: (any ConnectionHandler)?
    private var queue = WriteQueue()
    private var writable = true
    private var readingPaused = false
    private var peerFinished = false
    private var flushScheduled = false
    private var awaitingWritable = false
    private var registered = false
    private var closeTimer: TimerID?
    /// The group's budget, for accepted connections (what the daemon holds for its clients).
    private let budget: OutboundBudget?
    /// Bytes queued as the budget counts them (each buffer with its overhead), for choosing the slowest.
    let budgetQueuedBytes = Atomic<Int>(0)
    /// Monotonic ms since which the peer has taken no byte while bytes were queued; `Int64.max` while
    /// the queue is empty.
    let stalledSinceMs = Atomic<Int64>(.max)

    private var limits: RuntimeLimits { loop.limits }

    init(fd: Int32, loop: EventLoop, remoteAddress: SocketAddress?, budget: OutboundBudget? = nil,
         delaysAcknowledgements: Bool = false) {
        self.fd = fd
        self.loop = loop
        self.remoteAddress = remoteAddress
        self.budget = budget
        self.delaysAcknowledgements = delaysAcknowledgements
    }

    /// Whether each read lets the kernel delay its ACK (``Socket/delayAcknowledgements(_:)``): set for
    /// the connections a client opens, which mostly receive (an observer, a consumer). An ACK per
    /// small segment was 17 % of a fan-out client's CPU. A server's connections keep the kernel's way.
    let delaysAcknowledgements: Bool
    /// Whether bytes went out since the last read (loop-confined).
    private var wroteSinceRead = false

    /// Installs the handler and starts reading. On failure the connection is closed (the handler is
    /// told) and the error is returned.
    @discardableResult
    func activate(_ handler: any ConnectionHandler) -> IOError? {
        loop.preconditionInEventLoop()
        self.handler = handler
        do {
            try loop.register(fd, interest: desiredInterest, handler: self)
            registered = true
            budget?.join(self)
            return nil
        } catch {
            closeNow(error: error)
            return error
        }
    }

    // MARK: Public, loop-confined

    /// The address this end is bound to; nil once closed.
    public var localAddress: SocketAddress? {
        loop.preconditionInEventLoop()
        guard state != .closed else { return nil }
        return try? Socket.localAddress(fd)
    }

    /// False after ``close()``, ``closeNow()`` or the peer's end of stream.
    public var isOpen: Bool {
        loop.preconditionInEventLoop()
        return state == .open
    }

    /// False while queued bytes are above the high watermark (see ``ConnectionHandler/writabilityChanged(_:)``).
    public var isWritable: Bool {
        loop.preconditionInEventLoop()
        return writable
    }

    /// Bytes queued and not yet taken by the kernel.
    public var queuedByteCount: Int {
        loop.preconditionInEventLoop()
        return queue.byteCount
    }

    /// Queues `bytes` for sending. Ignored once the connection is closing or closed. If the queue
    /// would pass ``RuntimeLimits/writeQueueHardCapBytes`` the connection is closed with an error.
    public func write(_ bytes: [UInt8]) {
        loop.preconditionInEventLoop()
        guard state == .open, !bytes.isEmpty else { return }
        guard admit(bytes.count) else { return }
        let wasEmpty = queue.isEmpty
        enqueue(bytes, endsMessage: true)
        didEnqueue(wasEmpty: wasEmpty)
    }

    /// Queues several buffers to be sent in order, as one gathered write where the socket allows
    /// (e.g. a frame header and a payload shared with other connections, without copying either).
    public func write(contentsOf buffers: [[UInt8]]) {
        loop.preconditionInEventLoop()
        guard state == .open else { return }
        var total = 0
        for buffer in buffers { total += buffer.count }
        guard total > 0, admit(total) else { return }
        let wasEmpty = queue.isEmpty
        // Queued buffers are never empty, so the message ends with the last non-empty one.
        let last = buffers.lastIndex { !$0.isEmpty } ?? buffers.endIndex
        for (index, buffer) in buffers.enumerated() { enqueue(buffer, endsMessage: index == last) }
        didEnqueue(wasEmpty: wasEmpty)
    }

    /// Stops reading from the socket (the kernel's buffer, then the peer, then fill up: backpressure).
    public func pauseReading() {
        loop.preconditionInEventLoop()
        readingPaused = true
        updateInterest()
    }

    /// Reads again after ``pauseReading()``. Bytes waiting arrive in a later turn of the loop.
    public func resumeReading() {
        loop.preconditionInEventLoop()
        readingPaused = false
        updateInterest()
    }

    /// Flushes queued bytes, then closes (see the type's documentation). Further reads and writes
    /// are ignored; the handler's `didClose` follows when the socket is closed.
    public func close() {
        loop.preconditionInEventLoop()
        guard state == .open else { return }
        state = .closing
        let timeoutMs = limits.closeTimeoutMs
        closeTimer = loop.scheduleTimer(afterMs: timeoutMs) { [weak self] in self?.closeTimedOut(afterMs: timeoutMs) }
        if queue.isEmpty { finishFlushing() } else { updateInterest(); scheduleFlush() }
    }

    /// Closes the socket at once, dropping queued bytes; the handler's `didClose(nil)` is called.
    public func closeNow() {
        loop.preconditionInEventLoop()
        closeNow(error: nil)
    }

    /// Runs `body` with this connection on its loop, from any thread. Returns false (and drops
    /// `body`) when the loop has stopped.
    @discardableResult
    public func execute(_ body: @escaping @Sendable (TCPConnection) -> Void) -> Bool {
        loop.execute { [self] in body(self) }
    }

    // MARK: Writing

    /// False (and the connection closed, reported as slow) when `count` more bytes would pass the hard cap.
    private func admit(_ count: Int) -> Bool {
        let cap = limits.writeQueueHardCapBytes
        guard queue.byteCount + count <= cap else {
            loop.events.report(.slowConnectionClosed(SlowConnectionClose(
                peer: remoteAddress, reason: .writeQueueHardCap, queuedBytes: queue.byteCount, limitBytes: cap)))
            closeNow(error: .writeQueueOverflow(capBytes: cap))
            return false
        }
        return true
    }

    private func didEnqueue(wasEmpty: Bool) {
        if wasEmpty { noteProgress() }
        if writable && queue.byteCount > limits.writeHighWatermarkBytes {
            writable = false
            handler?.writabilityChanged(false)
        }
        scheduleFlush()
        budget?.reclaimIfOver()
    }

    private func enqueue(_ buffer: [UInt8], endsMessage: Bool) {
        queue.append(buffer, endsMessage: endsMessage)
        guard let budget, !buffer.isEmpty else { return }
        budget.charge(buffer)
        budgetQueuedBytes.add(budget.cost(of: buffer), ordering: .relaxed)
    }

    /// A buffer left the queue, written or dropped.
    private func dequeued(_ buffer: [UInt8]) {
        guard let budget else { return }
        budget.release(buffer)
        budgetQueuedBytes.subtract(budget.cost(of: buffer), ordering: .relaxed)
    }

    /// The peer took bytes, or bytes started waiting: the stall, if any, starts now.
    private func noteProgress() {
        guard budget != nil else { return }
        stalledSinceMs.store(queue.isEmpty ? .max : SystemMonotonicClock().nowMs(), ordering: .relaxed)
    }

    /// Drops the queued messages the peer has not begun to receive (the rest of one partly sent stays,
    /// so the stream stays whole messages).
    func discardUnstartedWrites() {
        loop.preconditionInEventLoop()
        queue.dropUnstartedMessages { dequeued($0) }
    }

    /// Closes the connection because the group's outbound budget is exceeded and this is its slowest
    /// reader (called on the loop by ``OutboundBudget``). The handler may first drop what the peer has
    /// not begun to receive and queue a last word (``ConnectionHandler/outboundBudgetExceeded(_:)``);
    /// whatever it leaves open is closed at once, dropping what is queued.
    func shedForOutboundBudget(_ close: OutboundBudgetClose) {
        loop.preconditionInEventLoop()
        let before = state
        if before == .open { handler?.outboundBudgetExceeded(close) }
        // A close already under way before this one is stuck behind a peer that does not read.
        if state == .open || before == .closing {
            closeNow(error: .outboundBudgetExceeded(limitBytes: close.limitBytes))
        }
    }

    /// Flushes at the end of this turn, so all writes made during the turn go out in one call.
    private func scheduleFlush() {
        guard state != .closed, !flushScheduled, !awaitingWritable else { return }
        flushScheduled = true
        loop.runAfterEvents { [self] in
            flushScheduled = false
            flush()
        }
    }

    private func flush() {
        guard state == .open || state == .closing else { return }
        var writes = 0
        writing: while !queue.isEmpty && writes < limits.maxWritesPerFlush {
            writes += 1
            let outcome = queue.withIOVectors(maxBuffers: limits.maxBuffersPerWrite) { vectors, total in
                Result { () throws(IOError) -> (written: Int, attempted: Int) in
                    switch try Socket.gatheredWrite(fd, vectors) {
                    case .wouldBlock: return (0, total)
                    case .processed(let written): return (written, total)
                    }
                }
            }
            switch outcome {
            case .failure(let error):
                closeNow(error: error)
                return
            case .success(let (written, attempted)):
                queue.consume(written) { dequeued($0) }
                if written > 0 {
                    noteProgress()
                    wroteSinceRead = true
                }
                // A short write means the socket buffer is full.
                if written < attempted { break writing }
            }
        }
        // Bytes left over (the socket is full, or this flush did its share): wait for EPOLLOUT.
        if awaitingWritable != !queue.isEmpty {
            awaitingWritable = !queue.isEmpty
            updateInterest()
        }
        if state == .closing && queue.isEmpty {
            finishFlushing()
        } else if state == .open && !writable && queue.byteCount <= limits.writeLowWatermarkBytes {
            writable = true
            handler?.writabilityChanged(true)
        }
    }

    // MARK: Reading

    private var wantsRead: Bool {
        switch state {
        case .open: return !readingPaused && !peerFinished
        case .closing, .lingering: return !peerFinished
        case .closed: return false
        }
    }

    private func readFromSocket() {
        let buffer = loop.readBuffer
        for _ in 0..<limits.maxReadsPerWakeup {
            guard wantsRead else { return }
            let result: IOResult<Int>
            do {
                result = try Socket.read(fd, into: buffer)
            } catch {
                closeNow(error: error)
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                peerDidFinish()
                return
            case .processed(let count):
                // A connection that wrote since its last read answers what it reads (a request's reply
                // follows the request): the kernel delays those ACKs by itself, and the call would cost
                // request-response traffic 3–6 % of the client's CPU for nothing.
                if delaysAcknowledgements && !wroteSinceRead { Socket.delayAcknowledgements(fd) }
                wroteSinceRead = false
                // While closing, input is read only to notice the peer's end of stream; it is discarded.
                if state == .open { handler?.didRead(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
                if count < buffer.count { return }
            }
        }
    }

    private func peerDidFinish() {
        peerFinished = true
        switch state {
        case .open:
            if queue.isEmpty { closeNow(error: nil) } else { close() }
        case .closing:
            updateInterest()
        case .lingering:
            closeNow(error: nil)
        case .closed:
            break
        }
    }

    // MARK: Closing

    /// Everything queued is with the kernel: send the end of stream, then wait for the peer's.
    private func finishFlushing() {
        guard !peerFinished else {
            closeNow(error: nil)
            return
        }
        do {
            try Socket.shutdownWrite(fd)
        } catch {
            closeNow(error: error)
            return
        }
        state = .lingering
        updateInterest()
    }

    private func closeTimedOut(afterMs: Int) {
        closeTimer = nil
        switch state {
        case .closing: closeNow(error: .closeTimedOut(unsentBytes: queue.byteCount, afterMs: afterMs))
        case .lingering: closeNow(error: nil)
        case .open, .closed: break
        }
    }

    private func closeNow(error: IOError?) {
        guard state != .closed else { return }
        state = .closed
        if let timer = closeTimer {
            loop.cancelTimer(timer)
            closeTimer = nil
        }
        if registered {
            try? loop.deregister(fd)
            registered = false
        }
        try? Posix.close(fd)
        queue.removeAll { dequeued($0) }
        budget?.leave(self)
        stalledSinceMs.store(.max, ordering: .relaxed)
        let handler = self.handler
        self.handler = nil
        handler?.didClose(error)
    }

    // MARK: Interest

    private var desiredInterest: IOInterest {
        var interest: IOInterest = []
        if wantsRead { interest.insert(.read) }
        if awaitingWritable { interest.insert(.write) }
        return interest
    }

    private func updateInterest() {
        guard registered, state != .closed else { return }
        do {
            try loop.setInterest(desiredInterest, for: fd)
        } catch {
            closeNow(error: error)
        }
    }
}

extension TCPConnection: IOReadinessHandler {
    /// Called by the loop with the socket's readiness; not for use by handlers.
    public func ioReady(_ events: IOEvents) {
        if events.contains(.error) {
            let code = (try? Socket.pendingError(fd)) ?? 0
            closeNow(error: code == 0 ? nil : IOError(errno: code, call: "socket"))
            return
        }
        if events.contains(.writable) { flush() }
        guard state != .closed, events.contains(.readable) || events.contains(.hangUp) else { return }
        if wantsRead {
            readFromSocket()
        } else if events.contains(.hangUp) {
            // Both directions are finished and nothing more will be read: level-triggered epoll
            // would report this again at once, so close now.
            closeNow(error: queue.isEmpty ? nil : IOError(errno: EPIPE, call: "write"))
        }
    }

    /// Called by the loop when it shuts down: flush and close when graceful, close at once otherwise.
    public func loopShuttingDown(graceful: Bool) {
        if graceful { close() } else { closeNow(error: .loopShutDown) }
    }
}
