import CoordClient
import CoordTestKit
import Coordinator
import Glibc
import StreamCore
import Testing
import Transport

/// The listener's and connections' events: one line and a counter each, and the lines of auth
/// refusals never hold the token.
@Suite(.serialized) struct ServerEventLogTests {
    static func observed() -> (ServerEventLog, LineCollector, DaemonMetrics) {
        let lines = LineCollector()
        let metrics = DaemonMetrics()
        return (ServerEventLog(logger: Logger(level: .debug, sink: lines.sink), metrics: metrics), lines, metrics)
    }

    static let peer = try! SocketAddress(host: "127.0.0.1", port: 40_000)

    @Test func eachRuntimeEventIsOneLineAndItsCounter() throws {
        let (events, lines, metrics) = Self.observed()
        events.record(.slowConnectionClosed(SlowConnectionClose(
            peer: Self.peer, reason: .writeQueueHardCap, queuedBytes: 67_000_000, limitBytes: 67_108_864)))
        events.record(.acceptFailed(IOError(errno: EMFILE, call: "accept4"), retryInMs: 50))
        events.record(.acceptFailed(IOError(errno: EPROTO, call: "accept4"), retryInMs: 100))
        events.record(.tlsHandshakeFailed(peer: Self.peer, TLSError(.handshake, "wrong version number")))
        events.record(.webSocketOpened(peer: Self.peer))
        events.record(.webSocketClosed(peer: Self.peer, reason: "the peer closed the WebSocket (1000 normal closure)"))

        let all = lines.all
        #expect(all.count == 6)
        #expect(all[0].contains("level=warn msg=\"slow client closed\" peer=127.0.0.1:40000 reason=write_queue_hard_cap "
                                    + "queued_bytes=67000000 limit_bytes=67108864"))
        #expect(all[1].contains("level=warn msg=\"out of descriptors\" during=accept errno=EMFILE retry_in_ms=50 "))
        #expect(all[2].contains("level=warn msg=\"accept failed\" errno=errno_\(EPROTO) retry_in_ms=100 "))
        #expect(all[3].contains("level=warn msg=\"tls handshake failed\" peer=127.0.0.1:40000 error=\"wrong version number\""))
        #expect(all[4].contains("level=info msg=\"connection opened\" peer=127.0.0.1:40000"))
        #expect(all[5].contains("level=info msg=\"connection closed\" peer=127.0.0.1:40000 reason=\"the peer closed"))
        #expect(metrics.slowClientsClosed.value(["write_queue_hard_cap"]) == 1)
        #expect(metrics.acceptFailures.value(["EMFILE"]) == 1)
        #expect(metrics.resourceExhaustion.value(["descriptors", "accept"]) == 1)
        #expect(metrics.tlsHandshakeFailures.value() == 1)
        #expect(metrics.connectionsOpened.value() == 1 && metrics.connectionsClosed.value() == 1)
    }

    @Test func anEventLoopThatCannotStartItsThreadIsAThreadShortage() {
        let (events, lines, metrics) = Self.observed()
        events.startFailed(IOError.threadCreate(EAGAIN), during: "event_loop_start")
        events.startFailed(IOError(errno: EINVAL, call: "epoll_create1"), during: "event_loop_start")
        #expect(lines.all.count == 1, "only a resource that ran out is a line of its own; the start's error says the rest")
        #expect(lines.all.first?.contains("level=warn msg=\"thread start failed\" during=event_loop_start call=pthread_create "
                                               + "errno=EAGAIN ") == true)
        #expect(metrics.resourceExhaustion.value(["threads", "event_loop_start"]) == 1)
    }

    @Test func aTLSHandshakeThatFailsOnTheWireIsReportedByTheRuntime() async throws {
        let (events, lines, metrics) = Self.observed()
        let group = try EventLoopGroup(loopCount: 1, events: events.runtimeEvents)
        defer { group.shutdownGracefully(graceMs: 0) }
        let server = try await WebSocketServer.start(
            configuration: WebSocketServerConfiguration(host: "127.0.0.1", port: 0, tls: TestNetwork.serverTLS), group: group,
            acceptor: DaemonAcceptor(manager: NodeManager { _ throws(StreamsError) in MemoryStore() }, verifier: nil,
                                     allowAnonymous: true))
        // Plain HTTP to a TLS listener: not a TLS record.
        let socket = try await RawSocket.connect(port: server.port, sending: Array("GET /healthz HTTP/1.1\r\n\r\n".utf8))
        _ = try? await socket.receiveUntilClosed()
        #expect(await eventually { metrics.tlsHandshakeFailures.value() == 1 })
        #expect(lines.all.contains { $0.contains("msg=\"tls handshake failed\" peer=127.0.0.1:") })
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aRefusedTokenIsLoggedWithItsReasonAndNeverTheToken() async throws {
        let (events, lines, metrics) = Self.observed()
        let manager = NodeManager { _ throws(StreamsError) in MemoryStore() }
        let acceptor = DaemonAcceptor(manager: manager, verifier: try JWTFixture.hmacVerifier(), allowAnonymous: false,
                                      events: events, nowSeconds: { JWTFixture.now })
        let server = try await WebSocketServer.start(
            configuration: WebSocketServerConfiguration(host: "127.0.0.1", port: 0), group: TestNetwork.group, acceptor: acceptor)
        let expired = hs256Token(exp: JWTFixture.now - 3_600)
        let forged = TestJWT.hs256(claims: JWTFixture.claims(), secret: Array("another-secret-of-32-bytes-long!".utf8))
        let tokens = [expired, forged, "not-a-token"]
        for token in tokens {
            let provider = try NetworkDaemon(manager: manager, server: server).provider(token: token)
            let error = await StreamsError.of { _ = try await CoordClient(provider: provider, store: .defaultStore).spaces() }
            #expect(error != nil)
            await provider.close()
        }
        let noToken = try NetworkDaemon(manager: manager, server: server).provider()
        #expect(await StreamsError.of { _ = try await CoordClient(provider: noToken, store: .defaultStore).spaces() } != nil)
        await noToken.close()

        let rejections = lines.all.filter { $0.contains("msg=\"auth rejected\"") }
        #expect(rejections.contains { $0.contains(" reason=token_expired ") && $0.contains(" path=/streamz ") })
        #expect(rejections.contains { $0.contains(" reason=bad_signature ") })
        #expect(rejections.contains { $0.contains(" reason=malformed_token ") })
        #expect(rejections.contains { $0.contains(" reason=missing_token ") })
        #expect(metrics.authRejections.value(["token_expired"]) >= 1 && metrics.authRejections.value(["missing_token"]) >= 1)
        for token in tokens {
            let signature = String(token.split(separator: ".").last ?? "")
            for line in lines.all {
                #expect(!line.contains(token), "a token in a log line: \(line)")
                #expect(signature.count < 8 || !line.contains(signature), "a token's signature in a log line: \(line)")
            }
        }
        await server.shutdown(graceMs: 1_000)
        await manager.close()
    }
}
