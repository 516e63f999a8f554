import CoordTestKit
import Glibc
import StreamCore
import Synchronization
import Testing
@testable import Transport

@Suite struct RuntimeConnectionTests {
    /// A listener whose connections record into probes, and a blocking client connected to it.
    func serverAndClient(
        group: EventLoopGroup, echoes: Bool = false
    ) async throws -> (TCPListener, BlockingSocket, ConnectionProbe) {
        let probes = ProbeList()
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: group) { connection in
            RecordingHandler(connection, probe: probes.add(), echoes: echoes)
        }
        let client = try BlockingSocket(connectingTo: listener.localAddress)
        #expect(await RuntimeTests.waitUntil { probes.count == 1 })
        return (listener, client, try #require(probes.all.first))
    }

    @Test func closeFlushesEveryQueuedByteThenEndsTheStream() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let (_, client, probe) = try await serverAndClient(group: group)
        let connection = try #require(probe.connection)
        var generator = SplitMix64(seed: 7)
        let payload = generator.bytes(4 << 20)

        // Queue 4 MiB and close in the same turn: nothing may be lost.
        try await connection.loop.perform {
            connection.write(payload)
            connection.close()
            connection.write([1, 2, 3])  // ignored after close
        }
        let received = try await RuntimeTests.offCooperativePool {
            Result { () throws(IOError) in
                (try client.receive(exactly: payload.count), try client.receive())
            }
        }.get()
        #expect(received.0 == payload)
        #expect(received.1.isEmpty, "end of stream after the payload")
        client.close()
        #expect(await RuntimeTests.waitUntil { probe.isClosed })
        #expect(probe.closeError == nil)
    }

    @Test func closeGivesUpWithAnErrorWhenThePeerDoesNotReadWithinTheCloseTimeout() async throws {
        var limits = RuntimeLimits()
        limits.closeTimeoutMs = 200
        let group = try EventLoopGroup(loopCount: 1, limits: limits)
        defer { group.shutdownGracefully(graceMs: 0) }
        let (_, client, probe) = try await serverAndClient(group: group)
        let connection = try #require(probe.connection)
        let started = ContinuousClock.now
        // Far more than the socket buffers hold, to a peer that never reads.
        try await connection.loop.perform {
            connection.write([UInt8](repeating: 1, count: 32 << 20))
            connection.close()
        }
        #expect(await RuntimeTests.waitUntil { probe.isClosed })
        #expect(ContinuousClock.now - started >= .milliseconds(limits.closeTimeoutMs))
        let error = try #require(probe.closeError)
        #expect(error.errno == ETIMEDOUT)
        #expect(error.description.contains("unsent"))
        client.close()
    }

    @Test func peerEndOfStreamClosesTheConnectionWithoutError() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let (_, client, probe) = try await serverAndClient(group: group)
        try client.send([9, 9])
        client.close()
        #expect(await RuntimeTests.waitUntil { probe.isClosed })
        #expect(probe.closeError == nil)
        #expect(probe.received == [9, 9])
    }

    @Test func closeNowDropsQueuedBytesAndTellsTheHandlerOnce() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let (_, client, probe) = try await serverAndClient(group: group)
        let connection = try #require(probe.connection)
        let open = try await connection.loop.perform {
            connection.write([1, 2, 3])
            connection.closeNow()
            connection.closeNow()
            connection.close()
            return connection.isOpen
        }
        #expect(!open)
        #expect(probe.isClosed)
        #expect(try client.receive().isEmpty, "the queued bytes were dropped, the stream ended")
    }

    @Test func pausedReadingDeliversNothingUntilResumed() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let (_, client, probe) = try await serverAndClient(group: group)
        let connection = try #require(probe.connection)
        try await connection.loop.perform { connection.pauseReading() }
        try client.send(Array("paused".utf8))
        try await Task.sleep(for: .milliseconds(100))
        #expect(probe.received.isEmpty)
        try await connection.loop.perform { connection.resumeReading() }
        #expect(await RuntimeTests.waitUntil { probe.receivedCount == 6 })
        #expect(probe.received == Array("paused".utf8))
    }

    @Test func handsOffWritesFromOtherThreadsThroughExecute() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let (_, client, probe) = try await serverAndClient(group: group)
        let connection = try #require(probe.connection)
        await withTaskGroup(of: Void.self) { tasks in
            for index in 0..<50 {
                tasks.addTask { connection.execute { $0.write(contentsOf: [[UInt8(index)], [UInt8(index)]]) } }
            }
        }
        let received = try client.receive(exactly: 100)
        #expect(received.count == 100)
        #expect(Set(received) == Set((0..<50).map { UInt8($0) }))
    }

    @Test func connectToAPortWithNoListenerFailsWithConnectionRefused() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: group) { connection in
            RecordingHandler(connection, probe: ConnectionProbe())
        }
        let port = listener.port
        await listener.stop()
        let error = await #expect(throws: IOError.self) {
            _ = try await TCPConnection.connect(host: "127.0.0.1", port: port, on: group.next()) { connection in
                RecordingHandler(connection, probe: ConnectionProbe())
            }
        }
        #expect(error?.errno == ECONNREFUSED)
    }

    @Test func connectGivesUpAfterTheConnectTimeout() async throws {
        var limits = RuntimeLimits()
        limits.connectTimeoutMs = 200
        limits.listenBacklog = 1
        let group = try EventLoopGroup(loopCount: 1, limits: limits)
        defer { group.shutdownGracefully(graceMs: 0) }
        // A listener that never accepts, with a backlog of one: once its accept queue is full the
        // kernel drops further handshakes, so a connect gets no answer at all.
        let neverAccept: TCPListener.AcceptFunction = { _ throws(IOError) in .wouldBlock }
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: group, accept: neverAccept) {
            RecordingHandler($0, probe: ConnectionProbe())
        }
        var outcomes: [Int32] = []
        for _ in 0..<4 {
            let started = ContinuousClock.now
            do {
                _ = try await TCPConnection.connect(host: "127.0.0.1", port: listener.port, on: group.next()) {
                    RecordingHandler($0, probe: ConnectionProbe())
                }
                outcomes.append(0)
            } catch {
                #expect(ContinuousClock.now - started >= .milliseconds(limits.connectTimeoutMs))
                outcomes.append(error.errno)
            }
        }
        #expect(outcomes.first == 0)
        #expect(outcomes.last == ETIMEDOUT, "outcomes: \(outcomes)")
    }

    @Test(arguments: ["example.com", "300.1.1.1", "::g"])
    func connectRefusesNamesItWouldHaveToLookUp(host: String) async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let error = await #expect(throws: IOError.self) {
            _ = try await TCPConnection.connect(host: host, port: 80, on: group.next()) { connection in
                RecordingHandler(connection, probe: ConnectionProbe())
            }
        }
        #expect(error?.errno == EINVAL)
    }

    @Test func shutdownClosesConnectionsAndTheListenerSoPeersSeeEndOfStream() async throws {
        let group = try EventLoopGroup(loopCount: 2)
        let (listener, client, probe) = try await serverAndClient(group: group, echoes: true)
        try client.send([42])
        #expect(try client.receive(exactly: 1) == [42])

        await RuntimeTests.offCooperativePool { group.shutdownGracefully(graceMs: 0) }
        #expect(try client.receive().isEmpty, "the client sees end of stream")
        #expect(probe.isClosed)
        #expect(probe.closeError?.errno == ESHUTDOWN)
        for loop in group.loops { #expect(loop.execute {} == false) }
        #expect(throws: IOError.self) { _ = try BlockingSocket(connectingTo: listener.localAddress) }
    }

    @Test func gracefulShutdownFlushesQueuedBytesBeforeClosing() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let (_, client, probe) = try await serverAndClient(group: group)
        let connection = try #require(probe.connection)
        var generator = SplitMix64(seed: 11)
        let payload = generator.bytes(8 << 20)
        // More than the socket buffers hold, so most of it is still queued when the shutdown starts.
        try await connection.loop.perform { connection.write(payload) }

        let shutdown = Task { await RuntimeTests.offCooperativePool { group.shutdownGracefully(graceMs: 20_000) } }
        let received = try await RuntimeTests.offCooperativePool {
            Result { () throws(IOError) in (try client.receive(exactly: payload.count), try client.receive()) }
        }.get()
        // The server waits for the peer's end of stream before it closes (so no reset can destroy
        // what it sent); without this close it would wait out the close timeout.
        client.close()
        let started = ContinuousClock.now
        await shutdown.value
        #expect(ContinuousClock.now - started < .milliseconds(group.limits.closeTimeoutMs))
        #expect(received.0 == payload)
        #expect(received.1.isEmpty)
        #expect(probe.isClosed)
        #expect(probe.closeError == nil)
    }
}
