import CoordTestKit
import StreamCore
import Testing
@testable import Transport

/// A connected client/server stream pair over one transport, and how to take it down.
struct StreamPair: Sendable {
    let client: any BidiStream
    let server: any BidiStream
    let tearDown: @Sendable () async -> Void

    /// The transports whose streams must behave alike.
    enum Kind: String, CaseIterable, Sendable, CustomStringConvertible {
        case inProcess, webSocket
        var description: String { rawValue }
    }

    /// True while a receive on `stream`, of either transport, is parked waiting for a message.
    static func isReceiving(_ stream: any BidiStream) -> Bool {
        switch stream {
        case let stream as InProcessStream: return stream.isReceiving
        case let stream as MuxStream: return stream.isReceiving
        default:
            Issue.record("no parked-receive check for \(type(of: stream))")
            return false
        }
    }

    static func make(_ kind: Kind) async throws -> StreamPair {
        switch kind {
        case .inProcess:
            let (client, server) = InProcessStream.pair()
            return StreamPair(client: client, server: server, tearDown: {})
        case .webSocket:
            let acceptor = TestAcceptor()
            let server = try await MuxTest.server(acceptor)
            let provider = try MuxTest.provider(server)
            let client = try await provider.callStream(store: TestStores.silent, request: MuxTest.message("open"))
            #expect(await eventually { acceptor.streams.count == 1 })
            let serverSide = try #require(acceptor.streams.first)
            // The request is the server side's first message; the pair starts after it, as in process.
            #expect(try await MuxTest.receive(serverSide) == MuxTest.message("open"))
            return StreamPair(client: client, server: serverSide) {
                await provider.close()
                await server.shutdown(graceMs: 1_000)
            }
        }
    }
}

/// The in-process stream tests, run over both transports with the same expectations: a network stream
/// behaves exactly like an in-process one.
@Suite struct MuxParityTests {
    let hello = MuxTest.message("hello")

    @Test(arguments: StreamPair.Kind.allCases)
    func messagesCrossInBothDirectionsInOrder(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        for i in 0..<10 { try await pair.client.send(MuxTest.message("\(i)")) }
        for i in 0..<10 { #expect(try await MuxTest.receive(pair.server) == MuxTest.message("\(i)")) }
        try await pair.server.send(hello)
        #expect(try await MuxTest.receive(pair.client) == hello)
        await pair.tearDown()
    }

    @Test(arguments: StreamPair.Kind.allCases)
    func arrivalsCountMessagesThatReachedThisSideReadOrNot(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        #expect(pair.client.arrivals == 0)
        for i in 0..<3 { try await pair.server.send(MuxTest.message("\(i)")) }
        #expect(await eventually(seconds: 10) { pair.client.arrivals == 3 }, "counted before anything is read")
        for i in 0..<3 { #expect(try await MuxTest.receive(pair.client) == MuxTest.message("\(i)")) }
        #expect(pair.client.arrivals == 3, "reading does not count again")
        await pair.tearDown()
    }

    @Test(arguments: StreamPair.Kind.allCases)
    func aCleanHalfCloseEndsTheStreamAfterBufferedMessages(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        try await pair.client.send(hello)
        pair.client.closeSend(error: nil)
        #expect(try await MuxTest.receive(pair.server) == hello)
        #expect(try await MuxTest.receive(pair.server) == nil)
        #expect(try await MuxTest.receive(pair.server) == nil, "the end is sticky")
        try await pair.server.send(hello)
        #expect(try await MuxTest.receive(pair.client) == hello, "the half-closed side still reads")
        await pair.tearDown()
    }

    @Test(arguments: StreamPair.Kind.allCases)
    func aCloseErrorArrivesTypedWithItsCodeAfterBufferedMessages(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        try await pair.server.send(hello)
        pair.server.close(error: .sequenceGap(expected: 4, got: 6))
        #expect(try await MuxTest.receive(pair.client) == hello)
        let error = try await MuxTest.ending(of: pair.client)
        #expect(error == .sequenceGap(expected: 4, got: 6) && error?.code == .permanent && error?.name == "sequence_gap")
        await pair.tearDown()
    }

    @Test(arguments: StreamPair.Kind.allCases)
    func sendAfterCloseSendFails(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        pair.client.closeSend(error: nil)
        await #expect(throws: StreamsError.self) { try await pair.client.send(MuxTest.message("late")) }
        await pair.tearDown()
    }

    @Test(arguments: StreamPair.Kind.allCases)
    func anOfferGoesOutInOrderWithSendsAndIsRefusedOnceTheSideIsClosed(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        try await pair.server.send(MuxTest.message("1"))
        #expect(pair.server.offer(MuxTest.message("2")))
        try await pair.server.send(MuxTest.message("3"))
        for i in 1...3 { #expect(try await MuxTest.receive(pair.client) == MuxTest.message("\(i)")) }
        pair.server.closeSend(error: nil)
        #expect(!pair.server.offer(MuxTest.message("late")), "nothing goes after the close")
        #expect(try await MuxTest.receive(pair.client) == nil)
        await pair.tearDown()
    }

    @Test(arguments: StreamPair.Kind.allCases)
    func aBatchOfferGoesOutInOrderWithSendsFromEitherSideAndIsRefusedOnceTheSideIsClosed(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        for (from, to) in [(pair.server, pair.client), (pair.client, pair.server)] {
            try await from.send(MuxTest.message("0"))
            #expect(from.offer(contentsOf: (1...5).map { MuxTest.message("\($0)") }) == 5)
            #expect(from.offer(contentsOf: []) == 0)
            try await from.send(MuxTest.message("6"))
            for i in 0...6 { #expect(try await MuxTest.receive(to) == MuxTest.message("\(i)"), "\(kind): message \(i)") }
            from.closeSend(error: nil)
            #expect(from.offer(contentsOf: [MuxTest.message("late")]) == 0, "nothing goes after the close")
            #expect(try await MuxTest.receive(to) == nil)
        }
        await pair.tearDown()
    }

    @Test(arguments: StreamPair.Kind.allCases)
    func theFirstCloseErrorWins(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        pair.server.closeSend(error: .accessDenied)
        pair.server.closeSend(error: nil)
        #expect(try await MuxTest.ending(of: pair.client) == .accessDenied)
        await pair.tearDown()
    }

    @Test(arguments: StreamPair.Kind.allCases)
    func aLocalCloseUnblocksAPendingReceive(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        let client = pair.client
        let receiving = Task { try await client.receive() }
        // The receive is parked before the close, so the close is what must wake it.
        #expect(await eventually { StreamPair.isReceiving(client) })
        client.close(error: nil)
        // The close's own error, not the deadline's: a receive left hanging fails here.
        await #expect(throws: StreamEndState.closedLocally) { try await withDeadline { try await receiving.value } }
        #expect(client.isClosed)
        await pair.tearDown()
    }

    @Test(arguments: StreamPair.Kind.allCases)
    func cancellingAWaitingReceiveEndsItWithCancelled(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        let client = pair.client
        let receiving = Task { try await client.receive() }
        // Cancelled while parked, not before it started: the wait itself must end.
        #expect(await eventually { StreamPair.isReceiving(client) })
        receiving.cancel()
        await #expect(throws: StreamsError.cancelled) { try await withDeadline { try await receiving.value } }
        await pair.tearDown()
    }

    @Test(arguments: StreamPair.Kind.allCases)
    func closingOneEndEndsTheOthersInputAndSoonFailsItsSends(_ kind: StreamPair.Kind) async throws {
        let pair = try await StreamPair.make(kind)
        pair.client.close(error: nil)
        #expect(try await MuxTest.receive(pair.server) == nil)
        // In process the send fails at once; over the network it goes out, and the closed side answers
        // this frame sent after its close, which ends the stream here.
        let server = pair.server
        _ = try? await server.send(hello)
        try await withDeadline { await server.waitClosed() }
        #expect(server.isClosed)
        await #expect(throws: StreamsError.self) { try await server.send(hello) }
        await pair.tearDown()
    }
}
