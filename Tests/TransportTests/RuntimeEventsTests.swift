import CoordTestKit
import Glibc
import StreamCore
import Synchronization
import Testing
@testable import Transport

/// The runtime's events: each is reported once, from the loop that saw it, to the group's hook.
final class EventRecorder: Sendable {
    private let events = Mutex<[RuntimeEvent]>([])

    var hook: RuntimeEvents { RuntimeEvents { event in self.events.withLock { $0.append(event) } } }

    var all: [RuntimeEvent] { events.withLock { $0 } }

    var acceptFailures: [(IOError, Int)] {
        all.compactMap { if case .acceptFailed(let error, let retry) = $0 { (error, retry) } else { nil } }
    }

    var slowCloses: [SlowConnectionClose] {
        all.compactMap { if case .slowConnectionClosed(let close) = $0 { close } else { nil } }
    }

    var webSocketEvents: [String] {
        all.compactMap { event in
            switch event {
            case .webSocketOpened: "opened"
            case .webSocketClosed(_, let reason): "closed: " + reason
            default: nil
            }
        }
    }
}

@Suite struct RuntimeEventsTests {
    @Test func aFailedAcceptIsReportedWithItsErrnoAndThePause() async throws {
        let recorder = EventRecorder()
        let group = try EventLoopGroup(loopCount: 1, events: recorder.hook)
        defer { group.shutdownGracefully(graceMs: 0) }
        let exhausted = Atomic<Bool>(true)
        let accept: TCPListener.AcceptFunction = { fd throws(IOError) in
            if exhausted.load(ordering: .relaxed) { throw IOError(errno: EMFILE, call: "accept4") }
            return try Socket.accept(fd)
        }
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: group, accept: accept) { connection in
            RecordingHandler(connection, probe: ConnectionProbe(), echoes: true)
        }
        let client = try BlockingSocket(connectingTo: listener.localAddress)
        #expect(await RuntimeTests.waitUntil { recorder.acceptFailures.count >= 2 })
        let failures = recorder.acceptFailures
        #expect(failures.allSatisfy { $0.0.errno == EMFILE && $0.0.shortage == .descriptors })
        #expect(failures.prefix(2).map(\.1) == [group.limits.acceptBackoffInitialMs, 2 * group.limits.acceptBackoffInitialMs])
        #expect(failures.count == listener.acceptBackoffCount, "one report per pause")
        exhausted.store(false, ordering: .relaxed)
        try client.send(Array("x".utf8))
        #expect(try client.receive(exactly: 1) == Array("x".utf8))
        await listener.stop()
    }

    @Test func aPeerThatDoesNotReadPastTheHardCapIsReportedAsSlow() async throws {
        let recorder = EventRecorder()
        let group = try EventLoopGroup(loopCount: 1, events: recorder.hook)
        defer { group.shutdownGracefully(graceMs: 0) }
        let probes = ProbeList()
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: group) { connection in
            RecordingHandler(connection, probe: probes.add())
        }
        let client = try BlockingSocket(connectingTo: listener.localAddress, timeoutMs: 20_000)
        #expect(await RuntimeTests.waitUntil { probes.count == 1 })
        let connection = try #require(probes.all.first?.connection)
        let chunk = [UInt8](repeating: 0x5A, count: 1 << 20)
        let cap = group.limits.writeQueueHardCapBytes
        var open = true
        for _ in 0..<(2 * cap / chunk.count) where open {
            open = try await connection.loop.perform { [connection] in
                connection.write(chunk)
                return connection.isOpen
            }
        }
        #expect(!open)
        let closes = recorder.slowCloses
        #expect(closes.count == 1)
        #expect(closes.first?.reason == .writeQueueHardCap && closes.first?.limitBytes == cap)
        #expect((closes.first?.queuedBytes ?? 0) > cap - chunk.count && closes.first?.peer != nil)
        withExtendedLifetime(client) {}
        await listener.stop()
    }

    @Test func webSocketsOpeningAndClosingAreReportedAndCountedApartFromPlainRequests() async throws {
        let recorder = EventRecorder()
        let group = try EventLoopGroup(loopCount: 1, events: recorder.hook)
        defer { group.shutdownGracefully(graceMs: 0) }
        let server = try await WebSocketServer.start(
            configuration: WebSocketServerConfiguration(host: "127.0.0.1", port: 0), group: group, acceptor: TestAcceptor())
        let health = try await RawSocket.connect(port: server.port, sending: Array("GET /healthz HTTP/1.1\r\n\r\n".utf8))
        _ = try await health.receiveUntilClosed()
        #expect(recorder.webSocketEvents.isEmpty, "a plain request is no WebSocket")

        let provider = try MuxTest.provider(server)
        let stream = try await provider.callStream(store: .defaultStore, request: MuxTest.message("hi"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("hi"))
        #expect(server.webSocketCount == 1)
        #expect(recorder.webSocketEvents == ["opened"])
        await provider.close()
        #expect(await RuntimeTests.waitUntil { server.webSocketCount == 0 && recorder.webSocketEvents.count == 2 })
        #expect(recorder.webSocketEvents.last?.hasPrefix("closed: ") == true)
        await server.shutdown(graceMs: 1_000)
    }
}
