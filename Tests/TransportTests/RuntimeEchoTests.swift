import CoordTestKit
import Glibc
import StreamCore
import Synchronization
import Testing
@testable import Transport

@Suite struct RuntimeEchoTests {
    @Test func twoHundredConcurrentClientsGetTheirBytesEchoedExactly() async throws {
        let server = try EventLoopGroup(loopCount: 2)
        let clients = try EventLoopGroup(loopCount: 2)
        defer {
            clients.shutdownGracefully(graceMs: 0)
            server.shutdownGracefully(graceMs: 0)
        }
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: server) { connection in
            RecordingHandler(connection, probe: ConnectionProbe(), echoes: true)
        }
        #expect(listener.port != 0)

        let connectionCount = 200
        let bytesPerConnection = 64 * 1024
        let seed = UInt64.random(in: 0...UInt64.max)
        print("echo test seed: \(seed)")

        let probes = (0..<connectionCount).map { _ in ConnectionProbe() }
        var payloads: [[UInt8]] = []
        var pieces: [[[UInt8]]] = []
        var generator = SplitMix64(seed: seed)
        for _ in 0..<connectionCount {
            let payload = generator.bytes(bytesPerConnection)
            var cuts: [[UInt8]] = []
            var offset = 0
            while offset < payload.count {
                let size = min(Int.random(in: 1...8192, using: &generator), payload.count - offset)
                cuts.append(Array(payload[offset..<offset + size]))
                offset += size
            }
            payloads.append(payload)
            pieces.append(cuts)
        }

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<connectionCount {
                let probe = probes[index]
                let cuts = pieces[index]
                tasks.addTask {
                    let connection = try await TCPConnection.connect(
                        host: "127.0.0.1", port: listener.port, on: clients.next()
                    ) { RecordingHandler($0, probe: probe) }
                    // One hand-off per piece, so pieces leave in separate turns and writes.
                    for piece in cuts { connection.execute { $0.write(piece) } }
                }
            }
            try await tasks.waitForAll()
        }

        let allEchoed = await RuntimeTests.waitUntil(timeoutMs: 60_000) {
            probes.allSatisfy { $0.receivedCount >= bytesPerConnection }
        }
        #expect(allEchoed)
        for (index, probe) in probes.enumerated() {
            #expect(probe.received == payloads[index], "connection \(index) (seed \(seed))")
        }
        #expect(listener.acceptedCount == connectionCount)
        #expect(listener.acceptBackoffCount == 0)
    }

    @Test(arguments: ["127.0.0.1", "::1", "[::1]", "localhost"])
    func listenerBindsLoopbackLiteralsAndReadsBackItsPort(host: String) async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let listener = try await TCPListener.bind(host: host, port: 0, group: group) { connection in
            RecordingHandler(connection, probe: ConnectionProbe(), echoes: true)
        }
        #expect(listener.port != 0)
        #expect(listener.localAddress.family == (host.contains(":") ? .ipv6 : .ipv4))

        let client = try BlockingSocket(connectingTo: listener.localAddress)
        try client.send(Array("hello".utf8))
        #expect(try client.receive(exactly: 5) == Array("hello".utf8))
        await listener.stop()
    }

    @Test func acceptedConnectionsHaveNoDelayAndKnowTheirAddresses() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let probes = ProbeList()
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: group) { connection in
            RecordingHandler(connection, probe: probes.add())
        }
        let client = try BlockingSocket(connectingTo: listener.localAddress)
        #expect(await RuntimeTests.waitUntil { probes.count == 1 })
        let connection = try #require(probes.all.first?.connection)
        let (local, noDelay) = try await connection.loop.perform { () throws(IOError) in
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = try Posix.call("getsockopt") {
                getsockopt(connection.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length)
            }
            return (connection.localAddress, value)
        }
        #expect(noDelay != 0)
        #expect(local == listener.localAddress)
        #expect(connection.remoteAddress?.host == "127.0.0.1")
        #expect(connection.remoteAddress?.port != 0)
        client.close()
    }
}
