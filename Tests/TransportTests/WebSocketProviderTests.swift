import CoordTestKit
import StreamCore
import Synchronization
import Testing

@testable import Transport

/// The client provider: addresses, backoff, bounded attempts, reconnects (streamkit v1 §3.5).
@Suite struct WebSocketProviderTests {
    @Test(arguments: [
        ("ws://127.0.0.1:7070", "ws://127.0.0.1:7070/streamz", "127.0.0.1", 7070, false),
        ("wss://coordd.example.com/", "wss://coordd.example.com/streamz", "coordd.example.com", 443, true),
        ("https://example.com/", "wss://example.com/streamz", "example.com", 443, true),
        ("ws://[::1]:9000/base//", "ws://[::1]:9000/base/streamz", "::1", 9000, false),
        ("WS://localhost", "ws://localhost/streamz", "localhost", 80, false),
    ])
    func serverURLsAreNormalisedToTheStreamzPath(_ text: String, _ normalised: String, _ host: String, _ port: Int, _ secure: Bool)
        throws
    {
        let url = try WebSocketURL(parsing: text)
        #expect(url.description == normalised)
        #expect(url.host == host && url.port == port && url.secure == secure)
    }

    @Test(arguments: ["127.0.0.1:7070", "ftp://host", "ws://", "ws://host:0", "ws://host:99999", "ws://host/x?y=1", "ws://[::1"])
    func unusableURLsAreRefusedWithAReason(_ text: String) {
        #expect(throws: WebSocketURLError.self) { try WebSocketURL(parsing: text) }
    }

    @Test func theBackoffDoublesFrom100MsToTheCapWithTwentyPercentJitter() {
        let backoff = ReconnectBackoff(limits: WebSocketClientLimits())
        #expect((1...8).map { backoff.delayMs(attempt: $0, unit: 0) } == [100, 200, 400, 800, 1_600, 3_200, 6_400, 10_000])
        #expect(backoff.delayMs(attempt: 40, unit: 0) == 10_000)
        #expect(backoff.delayMs(attempt: 1, unit: -1) == 80 && backoff.delayMs(attempt: 1, unit: 1) == 120)
        #expect(backoff.delayMs(attempt: 9, unit: 1) == 12_000)
        for attempt in 1...10 {
            let delay = backoff.delayMs(attempt: attempt)
            let base = Double(min(100 << (attempt - 1), 10_000))
            #expect(Double(delay) >= base * 0.8 - 1 && Double(delay) <= base * 1.2 + 1)
        }
    }

    @Test func aCallToAServerThatIsNotThereFailsAfterItsAttemptsWithATransientError() async throws {
        // Bind and release a port so nothing listens on it.
        let probe = try await MuxTest.server()
        let port = probe.port
        await probe.shutdown(graceMs: 0)
        let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(port)", group: TestNetwork.group, limits: MuxTest.quickLimits)
        let started = ContinuousClock.now
        var failure: StreamsError?
        do {
            _ = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("x"))
        } catch {
            failure = error
        }
        #expect(failure?.code == .transient && failure?.message.contains("cannot connect") == true, "\(String(describing: failure))")
        // Three quick attempts: seconds at most, even on a loaded machine (the default is about six).
        #expect(ContinuousClock.now - started < .seconds(10))
        await provider.close()
    }

    @Test func aClosedProviderRefusesCallsAndEndsItsStreams() async throws {
        let server = try await MuxTest.server()
        let provider = try MuxTest.provider(server)
        let stream = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("x"))
        _ = try await MuxTest.receive(stream)
        await provider.close()
        #expect(try await MuxTest.ending(of: stream) == .providerClosed)
        await #expect(throws: StreamsError.providerClosed) {
            _ = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("y"))
        }
        await server.shutdown(graceMs: 1_000)
    }

    @Test func afterTheServerRestartsTheNextCallWorksAndReconnectsAreAnnounced() async throws {
        let first = try await MuxTest.server()
        let port = first.port
        let provider = try MuxTest.provider(first)
        let announced = Mutex<[UInt64]>([])
        provider.onReconnect { generation in announced.withLock { $0.append(generation) } }
        let reconnections = provider.reconnections()
        let stream = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("before"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("before"))
        await first.shutdown(graceMs: 1_000)
        #expect(try await MuxTest.ending(of: stream) == .shuttingDown)
        let second = try await MuxTest.server(port: port)
        let generation = try await withDeadline(seconds: 10) { () async -> UInt64? in
            for await generation in reconnections { return generation }
            return nil
        }
        #expect(generation == 2)
        let again = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("after"))
        #expect(try await MuxTest.receive(again) == MuxTest.message("after"))
        #expect(announced.withLock { $0 } == [2])
        #expect(provider.connectionGeneration == 2)
        again.close(error: nil)
        await provider.close()
        await second.shutdown(graceMs: 1_000)
    }
}
