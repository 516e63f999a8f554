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
/// WebSocket transport does: typed, with code and name.
public final class InProcessStream: BidiStream {
    private let inbound: MessageChannel
    private let outbound: MessageChannel
    private let shared: PairState
    private let maxMessageBytes: Int

    fileprivate init(inbound: MessageChannel, outbound: MessageChannel, shared: PairState, maxMessageBytes: Int) {
        self.inbound = inbound
        self.outbound = outbound
        self.shared = shared
        self.maxMessageBytes = maxMessageBytes
    }

    /// Creates two connected ends.
    public static func pair(limits: InProcessLimits = InProcessLimits()) -> (client: InProcessStream, server: InProcessStream) {
        let toServer = MessageChannel(capacity: limits.bufferedMessages)
        let toClient = MessageChannel(capacity: limits.bufferedMessages)
        let shared = PairState()
        let maxBytes = limits.maxMessageBytes
        return (InProcessStream(inbound: toClient, outbound: toServer, shared: shared, maxMessageBytes: maxBytes),
                InProcessStream(inbound: toServer, outbound: toClient, shared: shared, maxMessageBytes: maxBytes))
    }

    public func send(_ message: [UInt8]) async throws(StreamsError) {
        guard message.count <= maxMessageBytes else { throw .payloadTooLarge(message.count, limit: maxMessageBytes) }
        try await outbound.send(message)
    }

    public func offer(_ message: [UInt8]) -> Bool {
        message.count <= maxMessageBytes && outbound.offer(message)
    }

    public func receive() async throws(StreamsError) -> [UInt8]? {
        try await inbound.receive()
    }

    public func closeSend(error: StreamsError?) {
        outbound.finish(error)
    }

    public func close(error: StreamsError?) {
        outbound.finish(error)
        inbound.abandon(.streamClosed("stream closed"))
        shared.markClosed()
    }

    public func waitClosed() async {
        await shared.waitClosed()
    }

    public var isClosed: Bool { shared.isClosed }

    public var arrivals: UInt64 { inbound.arrivals }
}

/// The closed signal shared by both ends of a pair.
final class PairState: Sendable {
    private struct State {
        var closed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    var isClosed: Bool { state.withLock { $0.closed } }

    func markClosed() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard !s.closed else { return [] }
            s.closed = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func waitClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.closed { return true }
                s.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
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
