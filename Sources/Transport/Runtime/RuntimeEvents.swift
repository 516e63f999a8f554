import StreamCore

/// Something the I/O runtime did on its own that its owner may want to log or count: the failures an
/// operator looks for (a peer that does not read, descriptors that ran out, a TLS handshake that
/// failed) and the WebSocket connections a server opens and closes.
public enum RuntimeEvent: Sendable {
    /// `accept` failed with `error` (descriptors or memory ran out, or an error not understood); the
    /// listener stops accepting for `retryInMs` (``RuntimeLimits/acceptBackoffInitialMs``, doubling).
    case acceptFailed(IOError, retryInMs: Int)
    /// A connection was closed because its peer did not take what was sent to it.
    case slowConnectionClosed(SlowConnectionClose)
    /// A server-side TLS handshake failed: the peer sent something that is not TLS, offered nothing
    /// in common, or its certificate did not verify.
    case tlsHandshakeFailed(peer: SocketAddress?, TLSError)
    /// A server connection was upgraded to a WebSocket.
    case webSocketOpened(peer: SocketAddress?)
    /// An upgraded server connection closed; `reason` is what ended it, as its streams were told.
    case webSocketClosed(peer: SocketAddress?, reason: String)
}

/// A connection closed for not reading: which peer, why, and how much was waiting for it.
public struct SlowConnectionClose: Sendable, Hashable {
    /// Which bound it passed.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// Its write queue would have passed ``RuntimeLimits/writeQueueHardCapBytes``.
        case writeQueueHardCap = "write_queue_hard_cap"
        /// The bytes held for all connections passed ``RuntimeLimits/maxOutboundBytes`` and this one
        /// was the slowest reader (``OutboundBudget``).
        case outboundBudget = "outbound_budget"
    }

    /// The peer.
    public var peer: SocketAddress?
    /// The bound it passed.
    public var reason: Reason
    /// Bytes queued for it and not yet taken by the kernel.
    public var queuedBytes: Int
    /// The bound, in bytes.
    public var limitBytes: Int
    /// How long the peer had taken no bytes while some waited, when the budget chose it (milliseconds).
    public var stalledMs: Int64?

    /// Creates a record of one close.
    public init(peer: SocketAddress?, reason: Reason, queuedBytes: Int, limitBytes: Int, stalledMs: Int64? = nil) {
        self.peer = peer
        self.reason = reason
        self.queuedBytes = queuedBytes
        self.limitBytes = limitBytes
        self.stalledMs = stalledMs
    }
}

/// Where the loops of a group report ``RuntimeEvent``s: handed to the ``EventLoopGroup`` (or a single
/// ``EventLoop``), never global. The handler runs on the loop's thread that saw the event, from any of
/// the group's loops at once: it must be thread-safe, quick, and must not wait for a loop.
public struct RuntimeEvents: Sendable {
    private let handler: (@Sendable (RuntimeEvent) -> Void)?

    /// Reports to `handler`.
    public init(_ handler: @escaping @Sendable (RuntimeEvent) -> Void) {
        self.handler = handler
    }

    private init() {
        handler = nil
    }

    /// Reports nothing.
    public static let ignored = RuntimeEvents()

    /// Hands `event` to the handler.
    public func report(_ event: @autoclosure () -> RuntimeEvent) {
        handler?(event())
    }
}
