import CoordTestKit
import StreamCore
import Synchronization
import Testing
@testable import Transport

/// The group-wide budget of bytes held for clients (``OutboundBudget``).
@Suite(.serialized) struct RuntimeOutboundBudgetTests {
    /// A WebSocket server on a group of its own whose budget is `budget` bytes.
    static func server(budget: Int) async throws -> (server: WebSocketServer, group: EventLoopGroup) {
        var limits = RuntimeLimits()
        limits.maxOutboundBytes = budget
        // A closed client's last frames wait for it to read them while the test looks at the others.
        limits.closeTimeoutMs = 30_000
        limits.shutdownGraceMs = 31_000
        let group = try EventLoopGroup(loopCount: 2, limits: limits)
        let server = try await WebSocketServer.start(
            configuration: WebSocketServerConfiguration(host: "127.0.0.1", port: 0), group: group, acceptor: TestAcceptor())
        return (server, group)
    }

    /// Waits (up to 10 s) until the held bytes stop changing for 200 ms: every ping sent has been
    /// answered and every close made.
    static func settle(_ budget: OutboundBudget) async {
        for _ in 0..<50 {
            let before = budget.heldBytes
            try? await Task.sleep(for: .milliseconds(200))
            if budget.heldBytes == before { return }
        }
    }

    @Test func aBufferSharedByManyQueuesIsCountedOnceAndSmallOnesPerQueue() {
        let budget = OutboundBudget(limits: RuntimeLimits())
        let shared = [UInt8](repeating: 7, count: 64 * 1024)
        let copy = shared
        let small = [UInt8](repeating: 1, count: 100)
        for _ in 0..<3 { budget.charge(copy) }
        #expect(budget.heldBytes == budget.cost(of: shared), "three queues holding one snapshot hold it once")
        budget.charge(small)
        budget.charge(small)
        #expect(budget.heldBytes == budget.cost(of: shared) + 2 * budget.cost(of: small))
        budget.release(shared)
        budget.release(shared)
        #expect(budget.heldBytes == budget.cost(of: shared) + 2 * budget.cost(of: small), "one queue still holds it")
        budget.release(shared)
        budget.release(small)
        budget.release(small)
        #expect(budget.heldBytes == 0)
    }

    @Test func theSlowestReadersAreClosedFirstWithTheReasonAndTheOthersCarryOn() async throws {
        let budget = 16 << 20
        let (server, group) = try await Self.server(budget: budget)
        // A client that reads, on the shared test loops (its own queue is not under this budget).
        let provider = try MuxTest.provider(server)
        let reader = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("hello"))
        #expect(try await MuxTest.receive(reader) == MuxTest.message("hello"))

        // Clients flood pings and read none of the pongs, one after the other, until the budget is
        // passed: each holds 8-10 MiB once the kernel's buffers are full (60,000 pongs), so it takes two
        // or three, and the earlier ones stalled first.
        var floods: [RawWebSocket] = []
        for _ in 0..<6 where group.outboundBudget.closeCount == 0 {
            let before = group.outboundBudget.heldBytes
            let flood = try await RawWebSocket.upgraded(port: server.port, receiveBufferBytes: 4_096)
            try await flood.send(.ping, times: 60_000)
            floods.append(flood)
            #expect(await eventually {
                group.outboundBudget.heldBytes > before + (6 << 20) || group.outboundBudget.closeCount > 0
            })
            await Self.settle(group.outboundBudget)
        }
        let closes = group.outboundBudget.closeCount
        #expect(closes >= 1 && closes < floods.count, "\(closes) of \(floods.count) flooding clients closed")
        #expect(group.outboundBudget.heldBytes <= budget, "the held bytes are back under the budget")

        // The first to stall were closed, in that order, and each is told why once it reads. All of them
        // read at once: each has megabytes of pongs before its close frame, and a closing connection whose
        // peer stays silent is cut off after the server's close grace, which reading them one after
        // another on a loaded machine can outlast.
        let closed = Array(floods.prefix(closes))
        let closeFrames = try await withThrowingTaskGroup(of: (Int, WebSocketFrame?).self) { tasks in
            for (index, flood) in closed.enumerated() {
                tasks.addTask { (index, try await flood.closeFrame(timeoutMs: 5_000, maxFrames: 100_000)) }
            }
            var frames = [WebSocketFrame?](repeating: nil, count: closed.count)
            for try await (index, frame) in tasks { frames[index] = frame }
            return frames
        }
        for (flood, frame) in zip(closed, closeFrames) {
            let close = try #require(frame)
            #expect(close.closeCode == .tryAgainLater)
            #expect(close.closeReason.contains("outbound memory budget of \(budget) bytes exceeded: slowest reader"))
            #expect(try await flood.nextFrame(timeoutMs: 5_000) == nil, "then the connection ends")
            flood.socket.shutdownWrite()
        }
        // The later ones were not: their connections are open, with their pongs still queued.
        let stillOpen = 1 + floods.count - closes
        #expect(await eventually { server.connectionCount == stillOpen }, "\(server.connectionCount) open")

        // The reading client was never touched.
        try await reader.send(MuxTest.message("after"))
        #expect(try await MuxTest.receive(reader) == MuxTest.message("after"))
        #expect(group.outboundBudget.closeCount == closes)
        reader.close(error: nil)
        await provider.close()
        await server.shutdown(graceMs: 1_000)
        group.shutdownGracefully(graceMs: 0)
    }
}
