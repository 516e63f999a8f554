import Glibc
import StreamCore
import Testing
@testable import Transport

/// A connection a client opens lets the kernel delay the ACKs of what it only receives; a server's
/// connections, and a client's replies to its own requests, keep the kernel's way.
@Suite struct RuntimeAcknowledgementTests {
    /// A listener recording what each accepted connection receives, and a client connected to it.
    func connected(_ group: EventLoopGroup) async throws -> (server: TCPConnection, client: TCPConnection, clientProbe: ConnectionProbe) {
        let probes = ProbeList()
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: group) { RecordingHandler($0, probe: probes.add()) }
        let clientProbe = ConnectionProbe()
        let client = try await TCPConnection.connect(host: "127.0.0.1", port: listener.port, on: group.next()) {
            RecordingHandler($0, probe: clientProbe)
        }
        #expect(await RuntimeTests.waitUntil { probes.count == 1 })
        let server = try #require(probes.all.first?.connection)
        return (server, client, clientProbe)
    }

    /// Whether `connection`'s socket ACKs at once now (`TCP_QUICKACK` as the kernel reports it), read on
    /// its loop.
    func acknowledgesAtOnce(_ connection: TCPConnection) async throws -> Bool {
        try await connection.loop.perform { () throws(IOError) in
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = try Posix.call("getsockopt(TCP_QUICKACK)") { getsockopt(connection.fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &value, &length) }
            return value != 0
        }
    }

    @Test func aClientThatOnlyReceivesLetsTheKernelDelayItsAcks() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let (server, client, clientProbe) = try await connected(group)
        #expect(try await acknowledgesAtOnce(client), "a fresh connection ACKs at once")
        try await server.loop.perform { server.write([1, 2, 3]) }
        #expect(await RuntimeTests.waitUntil { clientProbe.receivedCount == 3 })
        #expect(try await !acknowledgesAtOnce(client))
    }

    @Test func aClientReadingTheReplyToWhatItSentLeavesTheKernelAlone() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let (server, client, clientProbe) = try await connected(group)
        try await client.loop.perform { client.write([9]) }
        try await server.loop.perform { server.write([1]) }
        #expect(await RuntimeTests.waitUntil { clientProbe.receivedCount == 1 })
        // The kernel delays a reply's ACK by itself once the exchange is a conversation; the client pays
        // no call for it.
        #expect(try await acknowledgesAtOnce(client))
    }

    @Test func aServerConnectionThatOnlyReceivesKeepsTheKernelsWay() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let probes = ProbeList()
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: group) { RecordingHandler($0, probe: probes.add()) }
        let peer = try BlockingSocket(connectingTo: listener.localAddress)
        defer { peer.close() }
        #expect(await RuntimeTests.waitUntil { probes.count == 1 })
        let probe = try #require(probes.all.first)
        try peer.send([7, 7])
        #expect(await RuntimeTests.waitUntil { probe.receivedCount == 2 })
        #expect(try await acknowledgesAtOnce(try #require(probe.connection)))
    }
}
