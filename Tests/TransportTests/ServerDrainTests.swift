import CoordTestKit
import StreamCore
import Testing
@testable import Transport

@Suite struct ServerDrainTests {
    @Test func theDrainedSignalOpensWhenTheLastConnectionHasClosed() async throws {
        let server = try await MuxTest.server()
        let provider = try MuxTest.provider(server)
        let stream = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("hi"))
        #expect(try await MuxTest.receive(stream) == MuxTest.message("hi"))
        #expect(!server.drained.isOpen, "a connection is open and no shutdown began")
        // A long grace: the shutdown returns as soon as the connection has closed, not at the grace.
        let clock = ContinuousClock()
        let started = clock.now
        await server.shutdown(graceMs: 60_000)
        #expect(server.drained.isOpen && server.connectionCount == 0)
        #expect(started.duration(to: clock.now) < .seconds(50), "the drain waited for the signal, not the grace")
        await provider.close()
    }

    @Test func aServerWithNoConnectionIsDrainedAtOnce() async throws {
        let server = try await MuxTest.server()
        await server.shutdown(graceMs: 60_000)
        #expect(server.drained.isOpen)
    }
}
