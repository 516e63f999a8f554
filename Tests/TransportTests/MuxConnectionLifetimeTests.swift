import CoordTestKit
import StreamCore
import Testing
@testable import Transport

/// A muxer holds its WebSocket connection strongly (a weak reference would make every retain of the
/// connection the slow kind), so the connection must break that cycle when its socket closes.
@Suite struct MuxConnectionLifetimeTests {
    /// Holds a reference that does not keep its object alive. `@unchecked`: it is set once, and the
    /// runtime loads a weak reference atomically.
    final class WeakBox: @unchecked Sendable {
        weak var object: AnyObject?
        init(_ object: AnyObject?) { self.object = object }
    }

    @Test func aClosedConnectionIsFreedWhileItsStreamsAreStillHeld() async throws {
        let acceptor = TestAcceptor()
        let server = try await MuxTest.server(acceptor)
        let raw = try await RawWebSocket.upgraded(port: server.port)
        try await raw.send(MuxFrame(controlType: .data, storeID: TestStores.silent, channelID: .random(), payload: MuxTest.message("hi")))
        #expect(await eventually { acceptor.streams.count == 1 })
        let stream = try #require(acceptor.streams.first as? MuxStream)
        let link = stream.link
        let transport = await onLoop(link.loop) { WeakBox(link.transport) }
        #expect(transport.object != nil, "an open connection's muxer writes through its transport")

        raw.socket.shutdownWrite()
        #expect(try await MuxTest.ending(of: stream, seconds: 3) != nil)
        #expect(await eventually { server.connectionCount == 0 })
        #expect(await onLoop(link.loop) { link.transport == nil }, "the closed socket dropped the muxer's hold")
        #expect(await eventually { transport.object == nil }, "the WebSocket connection was freed although its stream is held")
        await server.shutdown(graceMs: 1_000)
    }

    /// Runs `body` on `loop` and returns its result.
    private func onLoop<T: Sendable>(_ loop: EventLoop, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            _ = loop.execute { continuation.resume(returning: body()) }
        }
    }
}
