import CorePrimitives
import StreamCore
import Synchronization

/// Named limits of the in-process transport.
public struct InProcessLimits: Sendable {
    /// Messages buffered per direction before a sender waits: streamkit's inprockit uses 64-slot
    /// channels (streamkit v1 §3.1).
    public var bufferedMessages = 64

    /// Largest message sent: the largest one a WebSocket frame carries (``WireLimits/maxMessageBytes``),
    /// so a message the network would refuse is refused in process too, with the same error, and what
    /// works in process works over the network.
    public var maxMessageBytes = WireLimits.maxMessageBytes

    /// The default limits.
    public init() {}
}

/// One end of an in-process stream pair.
///
/// Unlike streamkit's in-process transport, a close carries its error to the peer exactly as the
/// WebSocket transport does: typed, with code and name. Both ends follow ``StreamEndState``, the state
/// machine of the mux stream too.
public final class InProcessStream: BidiStream {
    /// What this end receives, and how it ends.
    private let inbound: MessageChannel
    /// The peer's end, which this end's sends are delivered to.
    private let peer: MessageChannel
    private let maxMessageBytes: Int

    fileprivate init(inbound: MessageChannel, peer: MessageChannel, maxMessageBytes: Int) {
        self.inbound = inbound
        self.peer = peer
        self.maxMessageBytes = maxMessageBytes
    }

    /// Creates two connected ends.
    public static func pair(limits: InProcessLimits = InProcessLimits()) -> (client: InProcessStream, server: InProcessStream) {
        let toServer = MessageChannel(capacity: limits.bufferedMessages)
        let toClient = MessageChannel(capacity: limits.bufferedMessages)
        let maxBytes = limits.maxMessageBytes
        return (InProcessStream(inbound: toClient, peer: toServer, maxMessageBytes: maxBytes),
                InProcessStream(inbound: toServer, peer: toClient, maxMessageBytes: maxBytes))
    }

    public func send(_ message: [UInt8]) async throws(StreamsError) {
        if let failure = inbound.sendFailure { throw failure }
        guard message.count <= maxMessageBytes else { throw .payloadTooLarge(message.count, limit: maxMessageBytes) }
        try await peer.deliver(message)
    }

    public func offer(_ message: [UInt8]) -> Bool {
        inbound.sendFailure == nil && message.count <= maxMessageBytes && peer.offer(message)
    }

    public func receive() async throws(StreamsError) -> [UInt8]? {
        try await inbound.receive()
    }

    public func closeSend(error: StreamsError?) {
        if let announce = inbound.closeSend(error) { peer.peerEnded(announce, gaveUp: false) }
    }

    public func close(error: StreamsError?) {
        let effects = inbound.close(error)
        // In process the peer learns of the teardown itself, not only of the end of messages: its
        // sends fail at once (over the network, once this side has answered a frame sent after it).
        if let announce = effects.announce {
            peer.peerEnded(announce, gaveUp: true)
        } else if effects.dropBuffered {
            peer.peerEnded(nil, gaveUp: true)
        }
    }

    public func waitClosed() async {
        await inbound.closed.wait()
    }

    public var isClosed: Bool { inbound.closed.isOpen }

    public var arrivals: UInt64 { inbound.arrivals }

    /// True while a ``receive()`` on this end is parked waiting for a message.
    var isReceiving: Bool { inbound.hasParkedReceiver }

    /// This end's sends waiting for room in the peer's full buffer.
    var sendsWaitingForRoom: Int { peer.waitingSenders }
}

/// Opens in-process streams: each call makes a connected pair, hands the server end to `accept`
/// (which routes it to the store's node) and sends the request on the client end.
public struct InProcessProvider: StreamProvider {
    private let accept: @Sendable (WireUUID, any BidiStream) async throws(StreamsError) -> Void
    private let limits: InProcessLimits

    /// Creates a provider; `accept` is called with the store and the server end of every new stream and
    /// may fail (e.g. the store cannot be opened), which fails `callStream`.
    public init(limits: InProcessLimits = InProcessLimits(),
                accept: @escaping @Sendable (WireUUID, any BidiStream) async throws(StreamsError) -> Void) {
        self.accept = accept
        self.limits = limits
    }

    public func callStream(store: WireUUID, request: [UInt8]) async throws(StreamsError) -> any BidiStream {
        let (client, server) = InProcessStream.pair(limits: limits)
        try await accept(store, server)
        try await client.send(request)
        return client
    }
}
