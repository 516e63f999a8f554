import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// Bad input on one connection gets a clear answer there while other connections and streams go on
/// and no stored data changes (ARCHITECTURE §6).
@Suite struct NetworkBadInputTests {
    /// What a bad peer sends, and what it must get back.
    enum BadInput: String, CaseIterable, Sendable, CustomStringConvertible {
        case nonJSONTextFrame, badBase64, unknownDiscriminator, frameOver8MiB, binaryFrame, fragmentedFrame
        case unmaskedFrame, trickledHeader, junkInsteadOfHandshake

        var description: String { rawValue }
    }

    /// A daemon holding some data, a healthy client with a live subscription, and a 1 s header timeout.
    struct Scene {
        let daemon: NetworkDaemon
        let provider: WebSocketProvider
        let client: CoordClient
        let subscription: any BidiStream

        static func make(tls: TLSContext? = nil, clientTLS: TLSContext? = nil) async throws -> Scene {
            let daemon = try await NetworkDaemon.start(tls: tls, http: HTTPLimits(headerTimeoutMs: 1_000))
            let provider = try daemon.provider(tls: clientTLS)
            let client = CoordClient(provider: provider, store: .random())
            try await client.produce(space: "s", segment: "g", records: makeRecords(3))
            let subscription = try await client.open(SubscribeToSegmentStatus(space: "s", segment: "g"))
            #expect(try await StatusReader(stream: subscription).next()?.lastSequence == 3)
            return Scene(daemon: daemon, provider: provider, client: client, subscription: subscription)
        }

        /// The healthy client and its subscription still work, and the stored data is what it was.
        func checkUnharmed() async throws {
            #expect(try await client.spaces() == ["s"])
            #expect(try await client.peek(space: "s", segment: "g").sequence == 3, "no stored data changed")
            #expect(try await client.segments(in: "s") == ["g"])
            try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 4))
            #expect(try await StatusReader(stream: subscription).next()?.lastSequence == 4, "the live stream goes on")
        }

        func stop() async {
            subscription.close(error: nil)
            await provider.close()
            await daemon.stop()
        }
    }

    @Test(arguments: BadInput.allCases)
    func badInputIsAnsweredOnItsOwnConnectionOnly(_ input: BadInput) async throws {
        let scene = try await Scene.make()
        let port = scene.daemon.port
        let store = WireUUID.random()
        let channel = WireUUID.random()
        switch input {
        case .nonJSONTextFrame:
            let raw = try await RawWebSocket.upgraded(port: port)
            try await raw.sendText(Array("this is not json".utf8))
            let answer = try #require(try await raw.nextMuxFrame())
            #expect(answer.controlType == .error && answer.channelID == nil)
            #expect(answer.carriedError?.message.hasPrefix("invalid mux frame: invalid JSON") == true)
            try await expectWorkingStream(on: raw, store: store)
        case .badBase64:
            let raw = try await RawWebSocket.upgraded(port: port)
            let json = #"{"ControlType":"data","store_id":"\#(store)","channel_id":"\#(channel)","payload":"@@not base64@@"}"#
            try await raw.sendText(Array(json.utf8))
            let answer = try #require(try await raw.nextMuxFrame())
            #expect(answer.controlType == .error && answer.channelID == channel)
            #expect(answer.carriedError?.message == "invalid mux frame: payload is not valid base64")
            try await expectWorkingStream(on: raw, store: store)
        case .unknownDiscriminator:
            let raw = try await RawWebSocket.upgraded(port: port)
            let request = Array(#"{"$type":"streamkit://api/v1/nope","content":{}}"#.utf8)
            try await raw.send(MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: request))
            let answer = try #require(try await raw.nextMuxFrame())
            #expect(answer.channelID == channel)
            #expect(answer.carriedError == .invalidRequest(#"type "streamkit://api/v1/nope" is not registered"#))
            try await expectWorkingStream(on: raw, store: store)
        case .frameOver8MiB:
            let raw = try await RawWebSocket.upgraded(port: port)
            // Only the header and a little payload are sent: the length alone is refused.
            var header: [UInt8] = [0x81, 0x80 | 127]
            for shift in stride(from: 56, through: 0, by: -8) { header.append(UInt8(truncatingIfNeeded: (9 << 20) >> shift)) }
            try await raw.socket.send(header + [1, 2, 3, 4] + [UInt8](repeating: 0x20, count: 1_024))
            #expect(try await raw.closeCode() == .messageTooBig)
        case .binaryFrame:
            let raw = try await RawWebSocket.upgraded(port: port)
            try await raw.sendFrame(opcode: 0x2, payload: [1, 2, 3])
            #expect(try await raw.closeCode() == .unsupportedData)
        case .fragmentedFrame:
            let raw = try await RawWebSocket.upgraded(port: port)
            try await raw.sendFrame(opcode: 0x1, payload: Array(#"{"ControlType":"#.utf8), fin: false)
            #expect(try await raw.closeCode() == .unsupportedData)
        case .unmaskedFrame:
            let raw = try await RawWebSocket.upgraded(port: port)
            try await raw.sendFrame(opcode: 0x1, payload: MuxFrame.ping.encoded(), masked: false)
            #expect(try await raw.closeCode() == .protocolError)
        case .trickledHeader:
            let socket = try await RawSocket.connect(port: port)
            // 120 bytes at one every 50 ms would take 6 s; the 1 s header timeout ends it long before.
            let request = Array(("GET /streamz HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Slow: "
                + String(repeating: "s", count: 60)).utf8)
            var closedEarly = false
            for byte in request {
                do {
                    try await socket.send([byte])
                } catch {
                    closedEarly = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(closedEarly, "the server closed the connection before the head was complete")
            #expect(try await socket.receiveUntilClosed(timeoutMs: 3_000).isEmpty, "a timed-out head gets no answer")
        case .junkInsteadOfHandshake:
            let socket = try await RawSocket.connect(port: port)
            var generator = SplitMix64(seed: 7)
            try? await socket.send(generator.bytes(10 * 1_024))
            let answer = String(decoding: try await socket.receiveUntilClosed(), as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(answer)")
        }
        try await scene.checkUnharmed()
        await scene.stop()
    }

    /// A Peek on a fresh channel of `raw` gets its answer: the connection survived the bad frame.
    func expectWorkingStream(on raw: RawWebSocket, store: WireUUID) async throws {
        let channel = WireUUID.random()
        try await raw.send(
            MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: Peek(space: "x", segment: "y").enveloped()))
        let answer = try #require(try await raw.nextMuxFrame())
        #expect(answer.controlType == .data && answer.channelID == channel && answer.carriedError == nil)
        #expect(try Entry(decoding: #require(answer.payload)) == Entry.empty(space: "x", segment: "y"))
    }

    @Test func aTLSHandshakeWithGarbageClosesOnlyThatConnection() async throws {
        let scene = try await Scene.make(tls: TestNetwork.serverTLS, clientTLS: TestNetwork.clientTLS)
        let socket = try await RawSocket.connect(port: scene.daemon.port)
        var garbage: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00]
        var generator = SplitMix64(seed: 11)
        garbage += generator.bytes(600)
        try? await socket.send(garbage)
        let answer = try await socket.receiveUntilClosed(timeoutMs: 5_000)
        #expect(answer.count < 64, "at most a TLS alert")
        try await scene.checkUnharmed()
        await scene.stop()
    }

    @Test func aWorkerOnADroppedConnectionLeavesTheInventoryAtOnce() async throws {
        let daemon = try await NetworkDaemon.start()
        let provider = try daemon.provider()
        let store = WireUUID.random()
        let observer = try await CoordClient(provider: provider, store: store).workers()
        var inventories = observer.makeAsyncIterator()
        #expect(try await inventories.next()?.workers.isEmpty == true)
        let raw = try await RawWebSocket.upgraded(port: daemon.port)
        let worker = WireUUID.random()
        try await raw.send(
            MuxFrame(controlType: .data, storeID: store, channelID: .random(), payload: SubscribeWorkers(workerID: worker).enveloped()))
        let joined = try await withDeadline { [inventories] in
            var iterator = inventories
            return try await iterator.next()
        }
        #expect(joined.map(ids) == [worker])
        let dropped = ContinuousClock.now
        raw.socket.shutdownWrite()
        let left = try await withDeadline { [inventories] in
            var iterator = inventories
            return try await iterator.next()
        }
        #expect(left?.workers.isEmpty == true)
        #expect(ContinuousClock.now - dropped < .seconds(3), "long before the 30 s presence TTL")
        observer.close()
        await provider.close()
        await daemon.stop()
    }
}
