import CoordTestKit
import CorePrimitives
import Dispatch
import StreamCore
import Testing
import Transport

/// Logical streams over a live WebSocket connection behave like in-process ones (streamkit v1 §3.3).
@Suite struct MuxServerTests {
    @Test func messagesCrossBothWaysAndACleanHalfCloseEndsTheStreamAfterThem() async throws {
        let server = try await MuxTest.server()
        let provider = try MuxTest.provider(server)
        let stream = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("first"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("first"), "the request is the first message")
        for index in 0..<20 { try await stream.send(MuxTest.message("m\(index)")) }
        stream.closeSend(error: nil)
        for index in 0..<20 { #expect(try await MuxTest.receive(stream) == MuxTest.message("m\(index)")) }
        #expect(try await MuxTest.receive(stream) == nil)
        #expect(try await MuxTest.receive(stream) == nil, "the end is sticky")
        await #expect(throws: StreamsError.self) { try await stream.send(MuxTest.message("late")) }
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    /// A server's answer is written even when the client's half-close is read after the server queued
    /// the answer and its close but before the loop ran the answer's write (as when a forwarding daemon
    /// half-closes a moment after the request): the stream, finished on both sides then, must not be
    /// forgotten by its connection ahead of its queued frames. The server's one loop is held while the
    /// answer is queued and the half-close arrives, so the loop reads the half-close first.
    @Test(.timeLimit(.minutes(1)))
    func anAnswerQueuedBeforeTheClientsHalfCloseIsReadIsStillWritten() async throws {
        let loops = try EventLoopGroup(loopCount: 1)
        let acceptor = GatedAnswerAcceptor()
        let server = try await WebSocketServer.start(
            configuration: WebSocketServerConfiguration(host: "127.0.0.1", port: 0), group: loops, acceptor: acceptor)
        let provider = try MuxTest.provider(server)
        let request = MuxTest.message("renew")
        let stream = try await provider.callStream(store: TestStores.echo, request: request)
        #expect(await acceptor.received.wait(until: .now + .seconds(10), clock: ContinuousClock()), "the server read the request")

        let hold = DispatchSemaphore(value: 0)
        let held = Latch()
        _ = loops.next().execute {
            _ = held.open()
            hold.wait()
        }
        #expect(await held.wait(until: .now + .seconds(10), clock: ContinuousClock()))
        _ = acceptor.answer.open()
        #expect(await acceptor.answered.wait(until: .now + .seconds(10), clock: ContinuousClock()), "answer and close queued")
        stream.closeSend(error: nil)
        // Long enough for the half-close to reach the server's socket.
        try await Task.sleep(for: .milliseconds(100))
        hold.signal()

        #expect(try await MuxTest.receive(stream) == request, "the answer arrives")
        #expect(try await MuxTest.receive(stream) == nil)
        await provider.close()
        await server.shutdown(graceMs: 1_000)
        loops.shutdownGracefully(graceMs: 0)
    }

    @Test func aCloseErrorArrivesTypedWithItsCodeAndNameAfterTheMessagesBeforeIt() async throws {
        let server = try await MuxTest.server()
        let provider = try MuxTest.provider(server)
        let stream = try await provider.callStream(store: TestStores.scripted, request: MuxTest.message("go"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("a"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("b"))
        let error = try #require(try await MuxTest.ending(of: stream))
        #expect(error == .sequenceGap(expected: 4, got: 6))
        #expect(error.code == .permanent && error.name == "sequence_gap")
        stream.close(error: nil)
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aStreamTheAcceptorRefusesEndsWithItsTypedError() async throws {
        let server = try await MuxTest.server()
        let provider = try MuxTest.provider(server)
        let stream = try await provider.callStream(store: TestStores.refused, request: MuxTest.message("x"))
        let error = try #require(try await MuxTest.ending(of: stream))
        #expect(error == .storeUnavailable && error.code == .transient)
        await #expect(throws: StreamsError.storeUnavailable) { try await stream.send(MuxTest.message("more")) }
        // The connection itself is fine.
        let echo = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("ok"))
        #expect(try await MuxTest.receive(echo) == MuxTest.message("ok"))
        echo.close(error: nil)
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func closingAStreamMakesThePeersLaterSendsFailAsInProcess() async throws {
        let acceptor = TestAcceptor()
        let server = try await MuxTest.server(acceptor)
        let provider = try MuxTest.provider(server)
        let stream = try await provider.callStream(store: TestStores.silent, request: MuxTest.message("x"))
        #expect(await eventually { acceptor.streams.count == 1 })
        let serverSide = try #require(acceptor.streams.first)
        try await serverSide.send(MuxTest.message("y"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("y"))
        stream.close(error: nil)
        #expect(try await MuxTest.receive(serverSide) == MuxTest.message("x"))
        #expect(try await MuxTest.receive(serverSide) == nil, "the client's close ends the server's input")
        // The client answers the first frame sent after its close, and the server's sends fail from then on.
        var failure: StreamsError?
        for _ in 0..<400 {
            do {
                try await serverSide.send(MuxTest.message("late"))
                try await Task.sleep(for: .milliseconds(5))
            } catch {
                failure = error as? StreamsError
                break
            }
        }
        #expect(failure?.name == "stream_closed", "\(String(describing: failure))")
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func oneConnectionCarriesEveryStreamOfAProvider() async throws {
        let server = try await MuxTest.server()
        let provider = try MuxTest.provider(server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask {
                    let stream = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("s\(index)"))
                    #expect(try await MuxTest.receive(stream) == MuxTest.message("s\(index)"))
                    stream.close(error: nil)
                }
            }
            try await group.waitForAll()
        }
        #expect(server.connectionCount == 1)
        #expect(provider.connectionGeneration == 1)
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aGracefulShutdownEndsEveryStreamWithShuttingDownAndClosesTheConnection() async throws {
        let server = try await MuxTest.server()
        let provider = try MuxTest.provider(server)
        let streams = try await (0..<3).asyncMap { index in
            try await provider.callStream(store: TestStores.echo, request: MuxTest.message("\(index)"))
        }
        for stream in streams { _ = try await MuxTest.receive(stream) }
        await server.shutdown(graceMs: 2_000)
        for stream in streams {
            let error = try await MuxTest.ending(of: stream)
            #expect(error == .shuttingDown && error?.code == .transient)
        }
        #expect(server.connectionCount == 0)
        await provider.close()
    }

    @Test func aLostConnectionEndsTheServerSideStreamsAtOnce() async throws {
        let acceptor = TestAcceptor()
        let server = try await MuxTest.server(acceptor)
        let raw = try await RawWebSocket.upgraded(port: server.port)
        let channel = WireUUID.random()
        try await raw.send(MuxFrame(controlType: .data, storeID: TestStores.silent, channelID: channel, payload: MuxTest.message("hi")))
        #expect(await eventually { acceptor.streams.count == 1 })
        let stream = try #require(acceptor.streams.first)
        #expect(try await MuxTest.receive(stream) == MuxTest.message("hi"))
        raw.socket.shutdownWrite()
        let error = try #require(try await MuxTest.ending(of: stream, seconds: 3))
        #expect(error.code == .transient && error.name == "stream_closed", "\(error)")
        await #expect(throws: StreamsError.self) { try await stream.send(MuxTest.message("gone")) }
        #expect(await eventually { server.connectionCount == 0 })
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aDataFrameForAStoreOutsideTheConnectionsScopeIsDeniedOnItsChannelOnly() async throws {
        let allowed = TestStores.echo
        let server = try await MuxTest.server()
        let provider = try MuxTest.provider(server, token: "only:\(allowed)")
        let denied = try await provider.callStream(store: TestStores.scripted, request: MuxTest.message("x"))
        let error = try await MuxTest.ending(of: denied)
        #expect(error == .accessDenied && error?.code == .permanent)
        let stream = try await provider.callStream(store: allowed, request: MuxTest.message("y"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("y"))
        #expect(server.connectionCount == 1)
        stream.close(error: nil)
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func theKeepalivePingsAndShutsDownASilentPeer() async throws {
        let keepalive = MuxKeepalive(pingIntervalMs: 50, pingJitterMs: 10, timeoutMs: 400)
        let server = try await MuxTest.server(keepalive: keepalive)
        let started = ContinuousClock.now
        let raw = try await RawWebSocket.upgraded(port: server.port)
        let first = try #require(try await raw.nextFrame(timeoutMs: 2_000))
        #expect(first.opcode == .text)
        #expect(try MuxFrame.decode(first.payload).get() == .ping)
        // This peer never answers: after the timeout the server says goodbye and closes.
        let code = try await raw.closeCode(timeoutMs: 3_000)
        #expect(code == .goingAway)
        #expect(ContinuousClock.now - started >= .milliseconds(350))
        #expect(try await raw.socket.receiveUntilClosed(timeoutMs: 3_000).isEmpty)
        await server.shutdown(graceMs: 1_000)
    }

    @Test func jsonAndRFCPingsAreAnswered() async throws {
        let server = try await MuxTest.server()
        let raw = try await RawWebSocket.upgraded(port: server.port)
        try await raw.send(.ping)
        #expect(try await raw.nextMuxFrame() == .pong)
        try await raw.sendFrame(opcode: 0x9, payload: Array("hi".utf8))
        var pong: WebSocketFrame?
        for _ in 0..<10 {
            let frame = try #require(try await raw.nextFrame())
            if frame.opcode == .pong {
                pong = frame
                break
            }
        }
        #expect(pong?.payload == Array("hi".utf8))
        await server.shutdown(graceMs: 1_000)
    }

    @Test(arguments: [
        ("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK", true),
        ("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK", false),
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found", true),
        ("GET /streamz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 426 Upgrade Required", true),
    ])
    func plainRequestsGetTheAcceptorsAnswerOr404AndTheConnectionCloses(_ request: String, _ statusLine: String, _ hasBody: Bool)
        async throws
    {
        let server = try await MuxTest.server()
        let socket = try await RawSocket.connect(port: server.port, sending: Array(request.utf8))
        let response = String(decoding: try await socket.receiveUntilClosed(), as: UTF8.self)
        #expect(response.hasPrefix(statusLine + "\r\n"), "\(response)")
        #expect(response.contains("Connection: close\r\n"))
        #expect(response.hasSuffix("\r\n\r\n") != hasBody)
        await server.shutdown(graceMs: 1_000)
    }

    @Test func anUpgradeTheAcceptorRefusesGets401WithItsReason() async throws {
        let acceptor = TestAcceptor()
        let server = try await MuxTest.server(acceptor)
        guard case .refused(let status, let response) = try await RawWebSocket.open(
            port: server.port, headers: [("Authorization", "Bearer deny")])
        else {
            Issue.record("the upgrade was accepted")
            return
        }
        #expect(status == 401 && response.hasSuffix("token refused\n"))
        let provider = try MuxTest.provider(server, token: "deny")
        let before = acceptor.authorizeCount
        var refusal: StreamsError?
        do {
            _ = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("x"))
        } catch {
            refusal = error
        }
        let error = try #require(refusal)
        #expect(error.name == "unauthorized" && error.code == .permanent && error.message.contains("token refused"), "\(error)")
        #expect(acceptor.authorizeCount == before + 1, "an authentication failure is not retried")
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }
}

extension Sequence where Element: Sendable {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

/// Reads a stream's request, then answers it with itself and closes once told to.
final class GatedAnswerAcceptor: StreamAcceptor {
    let received = Latch()
    let answer = Latch()
    let answered = Latch()

    func authorize(_ request: HTTPRequestHead, peer: SocketAddress?) -> Result<any ConnectionAuthorization, HTTPResponse> {
        .success(AllStoresAuthorization())
    }

    func respond(to request: HTTPRequestHead) -> HTTPResponse? { nil }

    func accept(store: WireUUID, stream: any BidiStream) async throws(StreamsError) {
        Task {
            guard let request = try? await stream.receive() else { return }
            _ = received.open()
            await answer.wait()
            try? await stream.send(request)
            // A half-close, as a forwarding daemon ends its client's stream once the owner's end arrives.
            stream.closeSend(error: nil)
            _ = answered.open()
        }
    }
}
