import StreamCore

/// The object a ``TCPConnection`` delivers its events to: the first layer of a protocol stack
/// (TLS, HTTP, WebSocket, the mux). Called only on the connection's loop.
///
/// The connection holds its handler strongly until `didClose`, so a handler may hold its
/// connection strongly too: the cycle ends when the connection closes.
public protocol ConnectionHandler: AnyObject {
    /// Bytes arrived. `bytes` points into the loop's shared read buffer and is valid only during
    /// this call: copy what must outlive it.
    func didRead(_ bytes: UnsafeRawBufferPointer)

    /// The write queue passed the high watermark (`false`) or drained to the low watermark again
    /// (`true`). Producers should hold back while the connection is not writable; writes still
    /// queue, up to the hard cap, past which the connection is closed.
    func writabilityChanged(_ writable: Bool)

    /// The connection is closed; called exactly once, last. `nil` for an orderly end (either side
    /// closed it, or the peer finished its stream); otherwise what failed.
    func didClose(_ error: IOError?)

    /// The group's outbound memory budget is exceeded and this connection, its slowest reader, is being
    /// closed. The handler may drop what the peer has not begun to receive and queue a last word (the
    /// reason) before closing gracefully; a connection it leaves open is closed at once after this call.
    func outboundBudgetExceeded(_ close: OutboundBudgetClose)
}

extension ConnectionHandler {
    /// By default nothing is said: the connection is closed at once.
    public func outboundBudgetExceeded(_ close: OutboundBudgetClose) {}
}
