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
}
