import Glibc
import StreamCore
import Synchronization
import Testing
@testable import Transport

@Suite struct RuntimeBackpressureTests {
    /// A server connection to a peer that does not read, plus that peer.
    struct Setup {
        let group: EventLoopGroup
        let listener: TCPListener
        let client: BlockingSocket
        let probe: ConnectionProbe
        let connection: TCPConnection
    }

    func connectedPair() async throws -> Setup {
        let group = try EventLoopGroup(loopCount: 1)
        let probes = ProbeList()
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: group) { connection in
            RecordingHandler(connection, probe: probes.add())
        }
        let client = try BlockingSocket(connectingTo: listener.localAddress, timeoutMs: 20_000)
        #expect(await RuntimeTests.waitUntil { probes.count == 1 })
        let probe = try #require(probes.all.first)
        let connection = try #require(probe.connection)
        return Setup(group: group, listener: listener, client: client, probe: probe, connection: connection)
    }

    @Test func unreadPeerTurnsWritabilityOffAboveHighWatermarkAndOnAgainBelowLow() async throws {
        let setup = try await connectedPair()
        defer { setup.group.shutdownGracefully(graceMs: 0) }
        let limits = setup.group.limits
        let chunk = (0..<(64 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }

        // One chunk per turn of the loop, so each is flushed before the next: the queue only grows
        // once the kernel's buffers are full because the peer does not read.
        var written = 0
        var writable = true
        var queuedAtTurnOff = 0
        for _ in 0..<(limits.writeQueueHardCapBytes / chunk.count) where writable {
            (writable, queuedAtTurnOff) = try await setup.connection.loop.perform { [connection = setup.connection] in
                connection.write(chunk)
                return (connection.isWritable, connection.queuedByteCount)
            }
            written += chunk.count
        }
        #expect(!writable)
        #expect(setup.probe.writability == [false])
        #expect(queuedAtTurnOff > limits.writeHighWatermarkBytes)
        #expect(queuedAtTurnOff <= limits.writeHighWatermarkBytes + chunk.count)

        // The peer reads everything: the queue drains through the low watermark.
        let total = written
        let received = try await RuntimeTests.offCooperativePool { [client = setup.client] in
            Result { () throws(IOError) in try client.receive(exactly: total) }
        }.get()
        #expect(received.count == total)
        #expect(received.prefix(chunk.count).elementsEqual(chunk))
        #expect(received.suffix(chunk.count).elementsEqual(chunk))
        #expect(await RuntimeTests.waitUntil { setup.probe.writability.count == 2 })
        #expect(setup.probe.writability == [false, true])
        #expect(!setup.probe.isClosed)
    }

    @Test func unreadPeerPastTheHardCapClosesTheConnectionWithAnError() async throws {
        let setup = try await connectedPair()
        defer { setup.group.shutdownGracefully(graceMs: 0) }
        let limits = setup.group.limits
        // One shared megabyte, queued over and over: the queue holds references, not copies.
        let chunk = [UInt8](repeating: 0x5A, count: 1 << 20)

        var largestQueue = 0
        var stillOpen = true
        for _ in 0..<(2 * limits.writeQueueHardCapBytes / chunk.count) where stillOpen {
            (stillOpen, largestQueue) = try await setup.connection.loop.perform { [connection = setup.connection, largest = largestQueue] in
                connection.write(chunk)
                return (connection.isOpen, max(largest, connection.queuedByteCount))
            }
        }
        #expect(!stillOpen)
        #expect(largestQueue <= limits.writeQueueHardCapBytes)
        #expect(largestQueue > limits.writeQueueHardCapBytes - chunk.count)
        #expect(setup.probe.isClosed)
        let error = try #require(setup.probe.closeError)
        #expect(error.errno == ENOBUFS)
        #expect(error.description.contains("hard cap"))
        #expect(setup.probe.writability == [false])
    }
}
