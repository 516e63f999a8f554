import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

extension LargeMessageSuites {
    /// An error answers bad input by quoting at most ``InputExcerpt/maxBytes`` of it: a peer cannot make
    /// the daemon echo megabytes back (a 6 MiB `store_id` used to come back in an 8 MiB error frame).
    @Suite(.serialized) struct NetworkErrorEchoTests {
        /// Input of `count` bytes that no check accepts.
        static func huge(_ count: Int) -> String { String(repeating: "x", count: count) }

        /// What a peer sends with a huge piece in it.
        enum HugeInput: String, CaseIterable, Sendable, CustomStringConvertible {
            case storeID, controlType, discriminator, uuidField, mapKey, metadataKey, peerError, muxType

            var description: String { rawValue }
        }

        @Test(arguments: HugeInput.allCases)
        func anErrorQuotesAtMostAnExcerptOfTheInput(_ input: HugeInput) async throws {
            let daemon = try await NetworkDaemon.start()
            let raw = try await RawWebSocket.upgraded(port: daemon.port)
            let store = WireUUID.random()
            let channel = WireUUID.random()
            func request(_ json: String) -> MuxFrame {
                MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: Array(json.utf8))
            }
            let big = Self.huge(1 << 20)
            switch input {
            case .storeID:
                // 6 MiB inside an 8 MiB frame, where a UUID belongs.
                let text = #"{"ControlType":"data","store_id":"\#(Self.huge(6 << 20))","channel_id":"\#(channel)","payload":null}"#
                try await raw.sendText(Array(text.utf8))
            case .controlType:
                let text = #"{"ControlType":"\#(big)","store_id":"\#(store)","channel_id":"\#(channel)","payload":null}"#
                try await raw.sendText(Array(text.utf8))
            case .discriminator:
                try await raw.send(request(#"{"$type":"\#(big)","content":{}}"#))
            case .uuidField:
                try await raw.send(request(#"{"$type":"\#(SubscribeWorkers.discriminator)","content":{"worker_id":"\#(big)"}}"#))
            case .mapKey:
                try await raw.send(request(#"{"$type":"\#(Consume.discriminator)","content":{"offsets":{"\#(big)":"zz"}}}"#))
            case .metadataKey:
                try await raw.send(request(#"{"$type":"\#(Produce.discriminator)","content":{"space":"s","segment":"g"}}"#))
                try await raw.send(request(#"{"sequence":1,"payload":null,"metadata":{"\#(big)":7}}"#))
            case .peerError:
                try await raw.send(request(#"{"$type":"\#(Produce.discriminator)","content":{"space":"s","segment":"g"}}"#))
                try await raw.send(request(#"{"type":"mux::close","err":"\#(Self.huge(60 << 10))"}"#))
            case .muxType:
                try await raw.send(request(#"{"$type":"\#(Produce.discriminator)","content":{"space":"s","segment":"g"}}"#))
                try await raw.send(request(#"{"type":"mux::\#(Self.huge(60 << 10))","err":"x"}"#))
            }
            let answer = try #require(try await raw.nextMuxFrame(timeoutMs: 10_000))
            let error = try #require(answer.carriedError)
            #expect(answer.payload?.count ?? 0 < 1_024, "the error frame is small (\(answer.payload?.count ?? 0) bytes)")
            #expect(error.message.utf8.count < 2 * InputExcerpt.maxBytes, "\(error.message.prefix(80))")
            #expect(error.message.contains(String(repeating: "x", count: 200)) && error.message.contains("…"))
            #expect(!error.message.contains(String(repeating: "x", count: InputExcerpt.maxBytes + 1)))
            // The connection goes on.
            let next = WireUUID.random()
            try await raw.send(
                MuxFrame(controlType: .data, storeID: store, channelID: next, payload: Peek(space: "x", segment: "y").enveloped()))
            var entry: MuxFrame?
            for _ in 0..<4 {
                guard let frame = try await raw.nextMuxFrame() else { break }
                if frame.channelID == next {
                    entry = frame
                    break
                }
            }
            #expect(try Entry(decoding: #require(entry?.payload)) == Entry.empty(space: "x", segment: "y"))
            await daemon.stop()
        }

        @Test(arguments: ["alg", "scope"])
        func aRefusedTokenIsQuotedInPart(_ part: String) async throws {
            let daemon = try await NetworkDaemon.start(verifier: JWTFixture.hmacVerifier(), allowAnonymous: false)
            let big = Self.huge(6 << 10)
            let token =
                part == "alg"
                ? TestJWT.token(header: #"{"alg":"\#(big)","typ":"JWT"}"#, claims: JWTFixture.claims(), signature: [1, 2, 3])
                : hs256Token(scopes: #"["streamkit::\#(big)"]"#)
            switch try await RawWebSocket.open(port: daemon.port, headers: [("Authorization", "Bearer " + token)]) {
            case .upgraded:
                Issue.record("a bad token was accepted")
            case .refused(let status, let response):
                #expect(status == 401)
                #expect(response.count < 1_024, "\(response.count) bytes")
                #expect(response.contains(String(repeating: "x", count: 200)) && response.contains("…"))
            }
            await daemon.stop()
        }
    }
}
