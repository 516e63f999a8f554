import StreamCore
import Synchronization

/// One plain HTTP/1.1 `GET` to a coordd listener (`/healthz`, `/readyz`), over TLS when the URL is
/// `wss://`: what `coordctl health` and a container's health check run. The daemon answers plain
/// requests and closes the connection, so the response is read to the end of the stream.
public enum HTTPProbe {
    /// Bounds of one probe.
    public struct Limits: Sendable, Hashable {
        /// Longest wait from connecting to the end of the response: a container health check's own
        /// timeout is a few seconds, and a live daemon answers in milliseconds.
        public var timeoutMs = 5_000
        /// Most response bytes kept (head and body): the endpoints answer a line, `/metrics` a few KiB
        /// per series; beyond this the probe fails rather than buffer a stranger's stream.
        public var maxResponseBytes = 1 << 20

        /// The defaults.
        public init() {}
    }

    /// A response: its status and its body as text.
    public struct Response: Sendable, Hashable {
        /// The HTTP status.
        public var status: Int
        /// The body, decoded as UTF-8.
        public var body: String
    }

    /// Sends `GET path` to the host and port of `url` (a `ws://` or `wss://` daemon URL; its own path
    /// is ignored) and returns the response; throws a transient error when nothing usable answered.
    public static func get(
        url: WebSocketURL, path: String, tls: TLSContext?, loop: EventLoop, limits: Limits = Limits()
    ) async throws(StreamsError) -> Response {
        let address = try await HostResolver.resolve(host: url.host, port: url.port)
        let request = HTTPRequestHead(
            method: "GET", target: path, headers: ["Host": url.hostHeader, "Connection": "close"]
        ).encoded()
        let outcome = LoopOutcome<HTTPProbe.Response>()
        let context: TLSContext?
        if url.secure, let tls {
            context = tls
        } else if url.secure {
            do throws(TLSError) {
                context = try TLSContext(.client())
            } catch {
                throw .streamClosed("cannot set up TLS: \(error.message)")
            }
        } else {
            context = nil
        }
        let serverName = url.host
        do {
            _ = try await TCPConnection.connect(host: address.host, port: address.port, on: loop) { tcp in
                let probe = ProbeConnection(tcp: tcp, limits: limits) { outcome.complete($0) }
                tcp.loop.execute { probe.start(request, tls: context, serverName: serverName) }
                return probe
            }
        } catch {
            throw .streamClosed("cannot connect to \(url.host):\(url.port): \(error)")
        }
        return try await outcome.value()
    }
}

/// The connection of one probe. Loop-confined: the runtime calls it on its loop, and `start` and
/// `finish` are called there too.
private final class ProbeConnection: ConnectionHandler, @unchecked Sendable {
    // Why `@unchecked Sendable` is sound: every `var` is touched only on `tcp.loop` (handler callbacks
    // and the closures `HTTPProbe.get` queues there); the `let`s are immutable.

    private let tcp: TCPConnection
    private var tls: TLSEngine?
    private let limits: HTTPProbe.Limits
    private let completion: (Result<HTTPProbe.Response, StreamsError>) -> Void
    private var received: [UInt8] = []
    private var timer: TimerID?
    private var done = false

    init(tcp: TCPConnection, limits: HTTPProbe.Limits,
         completion: @escaping (Result<HTTPProbe.Response, StreamsError>) -> Void) {
        self.tcp = tcp
        self.limits = limits
        self.completion = completion
    }

    /// Sends `request`, through a TLS session with `context` when there is one.
    func start(_ request: [UInt8], tls context: TLSContext?, serverName: String) {
        timer = tcp.loop.scheduleTimer(afterMs: limits.timeoutMs) { [self] in
            timer = nil
            finish(.failure(.streamClosed("no complete answer within \(limits.timeoutMs) ms")))
        }
        if let context {
            do {
                tls = try TLSEngine.client(context: context, serverName: serverName)
            } catch {
                finish(.failure(.streamClosed("cannot start TLS: \(error.message)")))
                return
            }
        }
        guard let tls else {
            tcp.write(request)
            return
        }
        // The request waits in the engine until the TLS handshake is done, then goes out.
        do {
            try tls.writePlaintext(request)
        } catch {
            finish(.failure(.streamClosed("TLS failed: \(error.message)")))
            return
        }
        flushCiphertext()
    }

    func didRead(_ bytes: UnsafeRawBufferPointer) {
        guard let tls else {
            keep(bytes)
            return
        }
        tls.feedCiphertext(bytes)
        do {
            let result = try tls.readPlaintext { [self] plaintext in keep(plaintext) }
            flushCiphertext()
            if result.peerClosed { finish(parse()) }
        } catch {
            flushCiphertext()
            finish(.failure(.streamClosed("TLS failed: \(error.message)")))
        }
    }

    func writabilityChanged(_ writable: Bool) {}

    func didClose(_ error: IOError?) {
        if let error, received.isEmpty {
            finish(.failure(.streamClosed("connection lost: \(error)")))
        } else {
            finish(parse())
        }
    }

    /// Reports `result` once and closes the connection.
    func finish(_ result: Result<HTTPProbe.Response, StreamsError>) {
        guard !done else { return }
        done = true
        if let timer { tcp.loop.cancelTimer(timer) }
        timer = nil
        completion(result)
        tcp.closeNow()
    }

    private func keep(_ bytes: UnsafeRawBufferPointer) {
        guard !done else { return }
        guard received.count + bytes.count <= limits.maxResponseBytes else {
            finish(.failure(.streamClosed("the response is larger than \(limits.maxResponseBytes) bytes")))
            return
        }
        received.append(contentsOf: bytes)
    }

    private func flushCiphertext() {
        if let ciphertext = tls?.takeCiphertext() { tcp.write(ciphertext) }
    }

    /// The response in `received`: the head through ``HTTPResponseParser``, the rest as the body
    /// (cut at `Content-Length` when the server sent one).
    private func parse() -> Result<HTTPProbe.Response, StreamsError> {
        var parser = HTTPResponseParser()
        switch parser.feed(received) {
        case .needMoreData:
            return .failure(.streamClosed("the connection ended before a complete response head"))
        case .failure(let error):
            return .failure(.streamClosed("not an HTTP response: \(error.reason)"))
        case .head(let head, let consumed):
            var body = received[consumed...]
            if let length = head.headers["Content-Length"].flatMap({ Int($0) }), length < body.count {
                body = body.prefix(length)
            }
            return .success(HTTPProbe.Response(status: head.status, body: String(decoding: body, as: UTF8.self)))
        }
    }
}
