import CoordTestKit
import StreamCore
import Synchronization
import Testing
import Transport

/// Stores whose streams the test acceptor treats differently.
enum TestStores {
    /// Every message comes back; the peer's end comes back as this side's end.
    static let echo = WireUUID(high: 0xE, low: 1)
    /// Nothing is ever read.
    static let silent = WireUUID(high: 0x5, low: 1)
    /// The acceptor refuses the stream with `store unavailable`.
    static let refused = WireUUID(high: 0xF, low: 1)
    /// Two messages, then a close with `sequence gap: expected 4, got 6`.
    static let scripted = WireUUID(high: 0xC, low: 1)
}

/// A ``StreamAcceptor`` for transport tests: behaviour by store (see ``TestStores``); a bearer token
/// `deny` is refused with 401 and `only:<uuid>` allows that store alone; `/healthz` answers `ok`.
final class TestAcceptor: StreamAcceptor {
    private let accepted = Mutex<[any BidiStream]>([])
    private let authorizations = Atomic<Int>(0)

    /// Server-side streams accepted so far, oldest first.
    var streams: [any BidiStream] { accepted.withLock { $0 } }
    /// Upgrade requests seen.
    var authorizeCount: Int { authorizations.load(ordering: .relaxed) }

    func authorize(_ request: HTTPRequestHead, peer: SocketAddress?) -> Result<any ConnectionAuthorization, HTTPResponse> {
        authorizations.add(1, ordering: .relaxed)
        switch request.headers["Authorization"] {
        case "Bearer deny"?:
            return .failure(HTTPResponse.text(status: 401, "token refused\n", closeConnection: true))
        case let value? where value.hasPrefix("Bearer only:"):
            guard let store = WireUUID(value.dropFirst("Bearer only:".count)) else {
                return .failure(HTTPResponse.text(status: 401, "bad scope\n", closeConnection: true))
            }
            return .success(OneStore(store: store))
        default:
            return .success(AllStoresAuthorization())
        }
    }

    func accept(store: WireUUID, stream: any BidiStream) async throws(StreamsError) {
        if store == TestStores.refused { throw .storeUnavailable }
        accepted.withLock { $0.append(stream) }
        switch store {
        case TestStores.silent:
            break
        case TestStores.scripted:
            Task {
                try? await stream.send(Array("\"a\"".utf8))
                try? await stream.send(Array("\"b\"".utf8))
                stream.close(error: .sequenceGap(expected: 4, got: 6))
            }
        default:
            Task { await Self.echo(stream) }
        }
    }

    func respond(to request: HTTPRequestHead) -> HTTPResponse? {
        request.path == "/healthz" ? HTTPResponse.text(status: 200, "ok\n") : nil
    }

    static func echo(_ stream: any BidiStream) async {
        do {
            while let message = try await stream.receive() { try await stream.send(message) }
            stream.close(error: nil)
        } catch {
            stream.close(error: error)
        }
    }
}

/// Allows one store.
struct OneStore: ConnectionAuthorization {
    let store: WireUUID
    func allows(store: WireUUID) -> Bool { store == self.store }
}

/// Live mux servers and clients on the shared test loops.
enum MuxTest {
    /// A server on 127.0.0.1, port 0.
    static func server(
        _ acceptor: any StreamAcceptor = TestAcceptor(), limits: MuxLimits = MuxLimits(),
        keepalive: MuxKeepalive = MuxKeepalive(), http: HTTPLimits = .standard, tls: TLSContext? = nil, port: Int = 0
    ) async throws -> WebSocketServer {
        try await WebSocketServer.start(
            configuration: WebSocketServerConfiguration(
                host: "127.0.0.1", port: port, tls: tls, httpLimits: http, muxLimits: limits, keepalive: keepalive),
            group: TestNetwork.group, acceptor: acceptor)
    }

    /// Client limits that give up quickly.
    static var quickLimits: WebSocketClientLimits {
        var limits = WebSocketClientLimits()
        limits.maxCallAttempts = 3
        limits.backoffInitialMs = 10
        limits.backoffMaxMs = 50
        limits.handshakeTimeoutMs = 3_000
        return limits
    }

    /// A provider for `server`.
    static func provider(
        _ server: WebSocketServer, token: String? = nil, tls: TLSContext? = nil,
        limits: WebSocketClientLimits = MuxTest.quickLimits
    ) throws -> WebSocketProvider {
        try WebSocketProvider(
            url: "\(tls == nil ? "ws" : "wss")://127.0.0.1:\(server.port)", token: { token }, tls: tls,
            group: TestNetwork.group, limits: limits)
    }

    /// The message bytes of a JSON string.
    static func message(_ text: String) -> [UInt8] { Array("\"\(text)\"".utf8) }

    /// The next message, bounded by a deadline.
    static func receive(_ stream: any BidiStream, seconds: Double = 5) async throws -> [UInt8]? {
        try await withDeadline(seconds: seconds) { try await stream.receive() }
    }

    /// The error the stream ends with (after skipping up to `skipping` messages), or nil for a clean end.
    static func ending(of stream: any BidiStream, skipping: Int = 10_000, seconds: Double = 5) async throws -> StreamsError? {
        for _ in 0...skipping {
            do {
                guard try await receive(stream, seconds: seconds) != nil else { return nil }
            } catch let error as StreamsError {
                return error
            }
        }
        return nil
    }
}
