import CoordTestKit
import StreamCore
import Synchronization
import Testing
@testable import Transport

/// One slow or greedy stream never holds up the others on its connection (streamkit v1 §3.4).
@Suite struct MuxOverloadTests {
    /// Small receive limits so a few messages reach them.
    static var smallLimits: MuxLimits {
        var limits = MuxLimits()
        limits.streamReceiveQueueMessages = 4
        limits.streamReceiveBufferBytes = 4_096
        limits.streamReceiveStallMs = 200
        limits.maxStreamsPerConnection = 3
        return limits
    }

    @Test func aStreamWhoseReaderNeverReadsDoesNotBlockAnotherStreamOnTheSameConnection() async throws {
        let server = try await MuxTest.server(limits: Self.smallLimits)
        let provider = try MuxTest.provider(server)
        let silent = try await provider.callStream(store: TestStores.silent, request: MuxTest.message("start"))
        let echo = try await provider.callStream(store: TestStores.echo, request: MuxTest.message("e"))
        #expect(try await MuxTest.receive(echo) == MuxTest.message("e"))
        let filler = MuxTest.message(String(repeating: "x", count: 200))
        for round in 0..<40 {
            // Sends to the silent stream are accepted locally until the server tells it to stop.
            try? await silent.send(filler)
            try await echo.send(MuxTest.message("r\(round)"))
            #expect(try await MuxTest.receive(echo) == MuxTest.message("r\(round)"))
        }
        let error = try await MuxTest.ending(of: silent)
        #expect(error == .streamOverloaded && error?.message == "stream receive buffer overloaded")
        #expect(server.connectionCount == 1)
        echo.close(error: nil)
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aClientStreamOverItsConnectionsLimitFailsAndItsRequestIsNeverSent() async throws {
        let acceptor = TestAcceptor()
        let server = try await MuxTest.server(acceptor)
        var limits = MuxTest.quickLimits
        limits.mux.maxStreamsPerConnection = 2
        let provider = try MuxTest.provider(server, limits: limits)
        var opened: [any BidiStream] = []
        for n in 0..<2 { opened.append(try await provider.callStream(store: TestStores.silent, request: MuxTest.message("open \(n)"))) }
        // The stream is handed back before the loop registers it; the refusal comes as its error.
        do {
            let third = try await provider.callStream(store: TestStores.silent, request: MuxTest.message("one too many"))
            #expect(try await MuxTest.ending(of: third) == .tooManyStreams)
        } catch {
            #expect(error as? StreamsError == .tooManyStreams)
        }
        #expect(await eventually { acceptor.streams.count == 2 })
        // The ordering point: a message on each open stream, sent after the refusal. The connection's
        // frames are read in order, and reading a new channel's first frame starts the task that accepts
        // it, so a refused request that went out anyway was read, and its accept begun, before these.
        for stream in opened { try await stream.send(MuxTest.message("after")) }
        for serverSide in acceptor.streams {
            #expect(try await MuxTest.receive(serverSide) != nil, "the stream's request")
            #expect(try await MuxTest.receive(serverSide) == MuxTest.message("after"))
        }
        #expect(acceptor.streams.count == 2, "the refused stream's request never reached the server")
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aReaderThatStopsTakingMessagesIsOverloadedAfterTheStallTime() async throws {
        let acceptor = TestAcceptor()
        let server = try await MuxTest.server(acceptor, limits: Self.smallLimits)
        let provider = try MuxTest.provider(server)
        let silent = try await provider.callStream(store: TestStores.silent, request: MuxTest.message("0"))
        for index in 1...5 { try await silent.send(MuxTest.message("\(index)")) }
        // Six small messages: over the queue depth (4), far under the byte bound.
        let started = ContinuousClock.now
        let error = try await MuxTest.ending(of: silent)
        #expect(error == .streamOverloaded)
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        let serverSide = try #require(acceptor.streams.first)
        await #expect(throws: StreamsError.streamOverloaded) { try await serverSide.receive() }
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aReaderThatKeepsTakingMessagesIsNotOverloadedWhileBehind() async throws {
        let acceptor = TestAcceptor()
        var limits = Self.smallLimits
        limits.streamReceiveStallMs = 10_000
        let server = try await MuxTest.server(acceptor, limits: limits)
        let provider = try MuxTest.provider(server)
        let stream = try await provider.callStream(store: TestStores.silent, request: MuxTest.message("0"))
        for index in 1...8 { try await stream.send(MuxTest.message("\(index)")) }
        #expect(await eventually { acceptor.streams.count == 1 })
        let serverSide = try #require(acceptor.streams.first)
        // All nine have arrived unread: the stream is behind, past its queue depth of four, which alone
        // does not overload it while its reader has not stalled for the stall time.
        #expect(await eventually { serverSide.arrivals == 9 })
        for index in 0...8 {
            #expect(try await MuxTest.receive(serverSide) == MuxTest.message("\(index)"))
        }
        stream.close(error: nil)
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aStreamOverTheConnectionsLimitIsRefusedAndItsLateFramesAreIgnored() async throws {
        let server = try await MuxTest.server(limits: Self.smallLimits)
        let raw = try await RawWebSocket.upgraded(port: server.port)
        let channels = (0..<4).map { _ in WireUUID.random() }
        for channel in channels.prefix(3) {
            try await raw.send(MuxFrame(controlType: .data, storeID: TestStores.silent, channelID: channel, payload: MuxTest.message("a")))
        }
        let refused = channels[3]
        try await raw.send(MuxFrame(controlType: .data, storeID: TestStores.echo, channelID: refused, payload: MuxTest.message("b")))
        let answer = try #require(try await raw.nextMuxFrame())
        #expect(answer.controlType == .error && answer.channelID == refused && answer.carriedError == .tooManyStreams)
        #expect(String(decoding: answer.payload ?? [], as: UTF8.self).contains(#""err":"too many active streams""#))
        // The refused channel is tombstoned: a late frame on it neither opens a stream nor gets an answer.
        try await raw.send(MuxFrame(controlType: .data, storeID: TestStores.echo, channelID: refused, payload: MuxTest.message("c")))
        try await raw.send(.ping)
        #expect(try await raw.nextMuxFrame() == .pong, "nothing came before the pong")
        await server.shutdown(graceMs: 1_000)
    }

    @Test func aStreamsSendWaitsWhileTheConnectionCannotWriteAndResumesWhenItCan() async throws {
        let acceptor = TestAcceptor()
        let server = try await MuxTest.server(acceptor)
        let raw = try await RawWebSocket.upgraded(port: server.port)
        try await raw.send(MuxFrame(controlType: .data, storeID: TestStores.silent, channelID: .random(), payload: MuxTest.message("go")))
        #expect(await eventually { acceptor.streams.count == 1 })
        let stream = try #require(acceptor.streams.first)
        let sent = Atomic<Int>(0)
        let chunk = MuxTest.message(String(repeating: "z", count: 64 * 1024))
        // The peer reads nothing: the kernel's buffers and the write queue fill, then sends wait.
        let sender = Task {
            for _ in 0..<2_000 {
                do {
                    try await stream.send(chunk)
                } catch {
                    return
                }
                sent.add(1, ordering: .relaxed)
            }
        }
        // The sender is parked at the connection's outbound gate, waiting for credit.
        let gate = try #require(stream as? MuxStream).link.gate
        #expect(await eventually { gate.waitingSenders == 1 }, "sending stopped while nothing was read")
        let last = sent.load(ordering: .relaxed)
        #expect(last < 1_000, "the queue did not grow without bound (\(last) frames of 64 KiB)")
        #expect(server.connectionCount == 1, "the connection was not closed for overflowing")
        // Reading again lets the sender go on.
        let stalledAt = last
        for _ in 0..<2_000 where sent.load(ordering: .relaxed) <= stalledAt + 8 {
            _ = try? await raw.socket.receive(maxBytes: 1 << 20, timeoutMs: 100)
        }
        #expect(sent.load(ordering: .relaxed) > stalledAt + 8)
        sender.cancel()
        stream.close(error: nil)
        await server.shutdown(graceMs: 1_000)
    }
}
