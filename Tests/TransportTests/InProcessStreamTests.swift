import CoordTestKit
import StreamCore
import Testing
@testable import Transport

let hello = Array(#""hello""#.utf8)

@Suite struct InProcessStreamTests {
    @Test func messagesCrossInBothDirectionsInOrder() async throws {
        let (client, server) = InProcessStream.pair()
        for i in 0..<10 { try await client.send(Array("\(i)".utf8)) }
        for i in 0..<10 { #expect(try await server.receive() == Array("\(i)".utf8)) }
        try await server.send(hello)
        #expect(try await client.receive() == hello)
    }

    @Test func aCleanHalfCloseEndsTheStreamAfterBufferedMessages() async throws {
        let (client, server) = InProcessStream.pair()
        try await client.send(hello)
        client.closeSend(error: nil)
        #expect(try await server.receive() == hello)
        #expect(try await server.receive() == nil)
        #expect(try await server.receive() == nil, "the end is sticky")
        // The half-closed side can still read what the peer sends.
        try await server.send(hello)
        #expect(try await client.receive() == hello)
    }

    @Test func aCloseErrorArrivesTypedWithItsCodeAfterBufferedMessages() async throws {
        let (client, server) = InProcessStream.pair()
        try await server.send(hello)
        server.close(error: .sequenceGap(expected: 4, got: 6))
        #expect(try await client.receive() == hello)
        do {
            _ = try await client.receive()
            Issue.record("expected the server's error")
        } catch {
            #expect(error == .sequenceGap(expected: 4, got: 6))
            #expect(error.code == .permanent)
            #expect(error.name == "sequence_gap")
        }
    }

    @Test func sendAfterCloseSendFails() async throws {
        let (client, _) = InProcessStream.pair()
        client.closeSend(error: nil)
        await #expect(throws: StreamsError.self) { try await client.send(hello) }
    }

    @Test func theFirstCloseErrorWins() async throws {
        let (client, server) = InProcessStream.pair()
        server.closeSend(error: .accessDenied)
        server.closeSend(error: nil)
        await #expect(throws: StreamsError.accessDenied) { try await client.receive() }
    }

    @Test func aLocalCloseUnblocksAPendingReceive() async throws {
        let (client, _) = InProcessStream.pair()
        let receiving = Task { try await client.receive() }
        // The receive is parked before the close, so the close is what must wake it.
        #expect(await eventually { client.isReceiving })
        client.close(error: nil)
        // The close's own error, not the deadline's: a receive left hanging fails here.
        await #expect(throws: StreamEndState.closedLocally) { try await withDeadline { try await receiving.value } }
    }

    @Test func closingOneEndSignalsTheOtherAndFailsItsSends() async throws {
        let (client, server) = InProcessStream.pair()
        let waiting = Task { await server.waitClosed() }
        client.close(error: nil)
        try await withDeadline { await waiting.value }
        #expect(server.isClosed)
        await #expect(throws: StreamsError.self) { try await server.send(hello) }
        #expect(try await server.receive() == nil)
    }

    @Test func bothEndsClosingAtOnceDoesNotDeadlock() async throws {
        for _ in 0..<100 {
            let (client, server) = InProcessStream.pair()
            async let a: Void = client.close(error: nil)
            async let b: Void = server.close(error: .shuttingDown)
            _ = await (a, b)
            #expect(client.isClosed && server.isClosed)
        }
    }

    @Test func aMessageOverWhatAFrameCarriesFailsItsSendAndTheStreamGoesOn() async throws {
        let (client, server) = InProcessStream.pair()
        let largest = [UInt8](repeating: 0x22, count: WireLimits.maxMessageBytes)
        try await client.send(largest)
        #expect(try await server.receive() == largest)
        let error = await #expect(throws: StreamsError.self) { try await client.send(largest + [0x22]) }
        #expect(error?.name == "limit_exceeded" && error?.code == .permanent)
        #expect(error?.message.hasPrefix("muxer payload too large: 6291352 bytes (limit 6291351") == true)
        #expect(!client.offer(largest + [0x22]))
        try await client.send(hello)
        #expect(try await server.receive() == hello, "the refused message did not end the stream")
    }

    @Test func aFullBufferMakesTheSenderWaitUntilTheReaderReads() async throws {
        var limits = InProcessLimits()
        limits.bufferedMessages = 4
        let (client, server) = InProcessStream.pair(limits: limits)
        for _ in 0..<4 { try await client.send(hello) }
        let fifth = Task { try await client.send(Array("5".utf8)) }
        // The fifth send is parked waiting for room: it did not complete into an unbounded buffer.
        #expect(await eventually { client.sendsWaitingForRoom == 1 })
        for _ in 0..<4 { #expect(try await server.receive() == hello) }
        try await withDeadline { try await fifth.value }
        #expect(try await server.receive() == Array("5".utf8))
    }

    @Test func aBatchOfferTakesWhatFitsAndStopsAtTheFirstThatDoesNot() async throws {
        var limits = InProcessLimits()
        limits.bufferedMessages = 3
        let (client, server) = InProcessStream.pair(limits: limits)
        #expect(client.offer(hello))
        #expect(client.offer(contentsOf: (1...4).map { Array("\($0)".utf8) }) == 2, "room for two more")
        for expected in [hello, Array("1".utf8), Array("2".utf8)] { #expect(try await server.receive() == expected) }
        client.closeSend(error: nil)
        #expect(try await server.receive() == nil, "the third and fourth were not sent")
    }

    @Test func anOfferIsRefusedRatherThanWaitingWhenTheBufferIsFull() async throws {
        var limits = InProcessLimits()
        limits.bufferedMessages = 2
        let (client, server) = InProcessStream.pair(limits: limits)
        #expect(client.offer(hello) && client.offer(hello))
        #expect(!client.offer(Array("3".utf8)), "a full buffer refuses the offer")
        for _ in 0..<2 { #expect(try await server.receive() == hello) }
        // A waiting receiver takes an offer directly.
        let receiving = Task { try await server.receive() }
        #expect(await eventually { client.offer(Array("4".utf8)) })
        #expect(try await withDeadline { try await receiving.value } == Array("4".utf8))
    }

    @Test func cancellingAWaitingReceiveEndsItWithCancelled() async throws {
        let (client, _) = InProcessStream.pair()
        let receiving = Task { try await client.receive() }
        // Cancelled while parked, not before it started: the wait itself must end.
        #expect(await eventually { client.isReceiving })
        receiving.cancel()
        await #expect(throws: StreamsError.cancelled) { try await withDeadline { try await receiving.value } }
    }

    @Test func theProviderSendsTheRequestFirstAndReportsAcceptFailures() async throws {
        let accepted = AcceptedStreams()
        let provider = InProcessProvider { store, stream throws(StreamsError) in
            guard store != .nil else { throw .storeUnavailable }
            await accepted.add(stream)
        }
        let store = WireUUID.random()
        let client = try await provider.callStream(store: store, request: Peek(space: "s", segment: "g"))
        let server = try #require(await accepted.first)
        let first = try #require(try await server.receive())
        #expect(try Envelope.decode(Peek.self, from: first) == Peek(space: "s", segment: "g"))
        client.close(error: nil)
        await #expect(throws: StreamsError.storeUnavailable) {
            _ = try await provider.callStream(store: .nil, request: GetSpaces())
        }
    }
}

actor AcceptedStreams {
    private var streams: [any BidiStream] = []
    func add(_ stream: any BidiStream) { streams.append(stream) }
    var first: (any BidiStream)? { streams.first }
}
