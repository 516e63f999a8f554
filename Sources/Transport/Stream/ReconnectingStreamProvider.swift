/// A provider whose connection can be lost and opened again (the WebSocket provider; the in-process one
/// never disconnects).
///
/// Streams do not survive a lost connection: they fail with a transient error. Callers that must
/// outlive a reconnect (a registered worker, an inventory observer) open a new stream, and learn of
/// each new connection from ``reconnections()``.
public protocol ReconnectingStreamProvider: StreamProvider {
    /// The generation of the current connection: 0 before the first, then 1, 2, … per connection.
    var connectionGeneration: UInt64 { get }

    /// Calls `handler` with the new generation after every reconnect (not for the first connection).
    func onReconnect(_ handler: @escaping @Sendable (UInt64) -> Void)

    /// The generations of later reconnects, as they happen; the newest only, while the consumer is busy.
    /// Ends when the provider closes or the consumer stops iterating.
    func reconnections() -> AsyncStream<UInt64>
}
