import StreamCore
import Synchronization

/// Opens logical streams to a coordd (or streamkit) server over ONE WebSocket connection shared by
/// every stream and store (streamkit v1 §3.5).
///
/// The connection opens on the first `callStream`. Each call opens a fresh channel (a random UUID)
/// and sends the request as its first data frame. When the connection is lost its streams fail with
/// a transient error; a background task dials again with jittered exponential backoff, and every
/// `callStream` meanwhile makes a bounded number of attempts. A server that refuses the credentials
/// (401/403) fails the call at once with the permanent `unauthorized` error. Errors the server sends
/// in `mux::close` / `mux::error` arrive typed, with its code and name.
///
/// Given several URLs (the daemons of one cluster, any of which serves every store), it dials the first,
/// and a dial that fails moves it on to the next, round the list: a daemon that is gone costs a call one
/// attempt, not all of them.
///
/// Call ``close()`` when done: a provider whose server went away keeps redialling until then.
public final class WebSocketProvider: ReconnectingStreamProvider {
    /// The server URLs, normalised (`…/streamz`), in the order they are tried.
    public let urls: [WebSocketURL]
    private let token: @Sendable () async -> String?
    private let group: EventLoopGroup
    private let limits: WebSocketClientLimits
    private let backoff: ReconnectBackoff
    private let tls: TLSContext?

    private struct State {
        var link: MuxConnection?
        var dialing: Task<Result<MuxConnection, StreamsError>, Never>?
        var reconnecting: Task<Void, Never>?
        /// Which `lost` started the recorded reconnecting task, so only that task clears it.
        var reconnector: UInt64 = 0
        var nextReconnector: UInt64 = 0
        var generation: UInt64 = 0
        var closed = false
        /// Which of ``urls`` is dialled next.
        var endpoint = 0
        var handlers: [@Sendable (UInt64) -> Void] = []
        var listeners: [UInt64: AsyncStream<UInt64>.Continuation] = [:]
        var nextListener: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Creates a provider for `url` (`ws://host:port` or `wss://…`; `/streamz` is appended).
    ///
    /// - Parameters:
    ///   - token: fetched on every dial; its value is sent as `Authorization: Bearer <token>`, nothing when nil.
    ///   - tls: the client TLS context for `wss` (its trust: a CA file or the system store); a `wss` URL
    ///     without one uses the system trust store. SNI and verification use the URL's host.
    ///   - group: the loops the connection runs on.
    public convenience init(
        url: String, token: @escaping @Sendable () async -> String? = { nil }, tls: TLSContext? = nil,
        group: EventLoopGroup, limits: WebSocketClientLimits = WebSocketClientLimits()
    ) throws(WebSocketURLError) {
        try self.init(urls: [url], token: token, tls: tls, group: group, limits: limits)
    }

    /// Creates a provider for the daemons at `urls` (at least one, at most
    /// ``WebSocketClientLimits/maxURLs``), tried in turn as dials fail; otherwise as
    /// ``init(url:token:tls:group:limits:)``.
    public init(
        urls: [String], token: @escaping @Sendable () async -> String? = { nil }, tls: TLSContext? = nil,
        group: EventLoopGroup, limits: WebSocketClientLimits = WebSocketClientLimits()
    ) throws(WebSocketURLError) {
        guard !urls.isEmpty else { throw WebSocketURLError("no server URL given") }
        guard urls.count <= WebSocketClientLimits.maxURLs else {
            throw WebSocketURLError("\(urls.count) server URLs given; at most \(WebSocketClientLimits.maxURLs) are taken")
        }
        var parsed: [WebSocketURL] = []
        for url in urls { parsed.append(try WebSocketURL(parsing: url)) }
        self.urls = parsed
        self.token = token
        self.tls = tls
        self.group = group
        self.limits = limits
        backoff = ReconnectBackoff(limits: limits)
    }

    /// The URL dialled now: the first, until a dial fails.
    public var url: WebSocketURL { urls[state.withLock { $0.endpoint }] }

    // MARK: StreamProvider

    /// Opens a channel on the shared connection (dialling it first when there is none) and sends
    /// `request` as its first message; up to ``WebSocketClientLimits/maxCallAttempts`` attempts with
    /// backoff between them. Permanent errors (`unauthorized`, `provider_closed`) end the attempts at once.
    public func callStream(store: WireUUID, request: [UInt8]) async throws(StreamsError) -> any BidiStream {
        var lastError = StreamsError.streamClosed("no connection attempt was made")
        for attempt in 1...max(1, limits.maxCallAttempts) {
            do throws(StreamsError) {
                let link = try await connection()
                let stream = link.openClientStream(store: store)
                do {
                    try await stream.send(request)
                } catch {
                    stream.close(error: nil)
                    throw error
                }
                return stream
            } catch {
                if error.code == .permanent || error == .cancelled { throw error }
                lastError = error
            }
            guard attempt < limits.maxCallAttempts else { break }
            // The next daemon of the list is tried at once; the backoff is once per round of the list.
            guard urls.count == 1 || attempt % urls.count == 0 else { continue }
            do {
                try await Task.sleep(for: .milliseconds(backoff.delayMs(attempt: attempt)))
            } catch {
                throw .cancelled
            }
        }
        throw lastError
    }

    // MARK: ReconnectingStreamProvider

    /// 0 before the first connection, then one more per connection.
    public var connectionGeneration: UInt64 { state.withLock { $0.generation } }

    /// Calls `handler` with the new generation after every reconnect, for the provider's life.
    public func onReconnect(_ handler: @escaping @Sendable (UInt64) -> Void) {
        state.withLock { $0.handlers.append(handler) }
    }

    /// The generations of later reconnects; ends when the provider closes or iteration stops.
    public func reconnections() -> AsyncStream<UInt64> {
        let (stream, continuation) = AsyncStream<UInt64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { s -> UInt64? in
            guard !s.closed else { return nil }
            s.nextListener += 1
            s.listeners[s.nextListener] = continuation
            return s.nextListener
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// Closes the connection (its streams fail with `provider_closed`) and refuses further calls.
    public func close() async {
        let (link, tasks, listeners) = state.withLock { s -> (MuxConnection?, [Task<Void, Never>], [AsyncStream<UInt64>.Continuation]) in
            s.closed = true
            let link = s.link
            s.link = nil
            let tasks = [s.reconnecting].compactMap { $0 }
            s.reconnecting = nil
            defer { s.listeners = [:] }
            return (link, tasks, Array(s.listeners.values))
        }
        for task in tasks { task.cancel() }
        for listener in listeners { listener.finish() }
        guard let link else { return }
        _ = try? await link.loop.perform { link.end(.providerClosed, code: .goingAway, notifyPeer: true) }
    }

    // MARK: The connection

    private enum Lookup {
        case ready(MuxConnection)
        case pending(Task<Result<MuxConnection, StreamsError>, Never>)
        case closed
    }

    /// The open connection, or the one being dialled (one dial at a time, shared by all callers).
    private func connection() async throws(StreamsError) -> MuxConnection {
        let lookup = state.withLock { s -> Lookup in
            if s.closed { return .closed }
            if let link = s.link, link.isOpen { return .ready(link) }
            if let dialing = s.dialing { return .pending(dialing) }
            let task = Task { await self.dial() }
            s.dialing = task
            return .pending(task)
        }
        switch lookup {
        case .ready(let link): return link
        case .closed: throw .providerClosed
        case .pending(let task): return try await task.value.get()
        }
    }

    private func dial() async -> Result<MuxConnection, StreamsError> {
        let token = await self.token()
        let endpoint = state.withLock { $0.endpoint }
        let url = urls[endpoint]
        let result: Result<MuxConnection, StreamsError>
        do {
            result = .success(
                try await WebSocketDialer.dial(url: url, token: token, tls: try tlsContext(for: url), loop: group.next(), limits: limits))
        } catch {
            result = .failure(error)
        }
        let outcome = state.withLock { s -> (link: MuxConnection?, generation: UInt64, notify: [@Sendable (UInt64) -> Void], listeners: [AsyncStream<UInt64>.Continuation])? in
            s.dialing = nil
            guard case .success(let link) = result else {
                // The next dial tries the next daemon.
                s.endpoint = (endpoint + 1) % urls.count
                return nil
            }
            if s.closed { return (link, 0, [], []) }
            s.link = link
            s.generation += 1
            guard s.generation > 1 else { return (nil, s.generation, [], []) }
            return (nil, s.generation, s.handlers, Array(s.listeners.values))
        }
        if let outcome {
            if let orphan = outcome.link {
                // Closed while dialling: nobody will use this connection.
                orphan.execute { $0.end(.providerClosed, code: .goingAway, notifyPeer: true) }
                return .failure(.providerClosed)
            }
            if case .success(let link) = result {
                link.execute { [weak self] link in
                    link.onClose { [weak self] _ in self?.lost(link) }
                }
            }
            for handler in outcome.notify { handler(outcome.generation) }
            for listener in outcome.listeners { listener.yield(outcome.generation) }
        }
        return result
    }

    /// The TLS context for a `wss` URL: the one given, else one trusting the system store.
    private func tlsContext(for url: WebSocketURL) throws(StreamsError) -> TLSContext? {
        guard url.secure else { return nil }
        if let tls { return tls }
        do {
            return try TLSContext(.client())
        } catch {
            throw .handshakeRefused("cannot set up TLS: \(error.message)")
        }
    }

    /// The connection ended: unless the provider is closing, dial again in the background until a
    /// connection is up, so observers learn of it through the reconnect notifications.
    private func lost(_ link: MuxConnection) {
        let id = state.withLock { s -> UInt64? in
            if s.link === link { s.link = nil }
            guard !s.closed, s.reconnecting == nil else { return nil }
            s.nextReconnector += 1
            return s.nextReconnector
        }
        guard let id else { return }
        // The task starts only once it is recorded: one that finished before being recorded would stay
        // recorded forever, and no later loss would start another.
        let recorded = Wakeup()
        let task = Task { [weak self] in
            await recorded.wait()
            var attempt = 0
            while let self, !Task.isCancelled {
                do throws(StreamsError) {
                    _ = try await self.connection()
                    break
                } catch {
                    if error == .providerClosed { break }
                }
                attempt += 1
                try? await Task.sleep(for: .milliseconds(self.backoff.delayMs(attempt: attempt)))
            }
            self?.state.withLock { s in
                if s.reconnector == id { s.reconnecting = nil }
            }
        }
        state.withLock { s in
            if s.closed || s.reconnecting != nil {
                task.cancel()
            } else {
                s.reconnecting = task
                s.reconnector = id
            }
        }
        recorded.signal()
    }
}
