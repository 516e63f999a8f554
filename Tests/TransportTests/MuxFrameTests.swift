import StreamCore
import Testing

@testable import Transport

let nilUUIDText = "00000000-0000-0000-0000-000000000000"
let storeText = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
let channelText = "a3e2b1c0-d9e8-4f7a-8b6c-5d4e3f2a1b0c"

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// The mux frame and its in-band control messages, byte for byte (streamkit v1 §3.3).
@Suite struct MuxFrameTests {
    let store = WireUUID(storeText)!
    let channel = WireUUID(channelText)!
    /// The Peek request of the reference's example frame.
    let peek = Array(#"{"$type":"streamkit://api/v1/peek","content":{"space":"orders","segment":"order-42"}}"#.utf8)
    let peekBase64 =
        "eyIkdHlwZSI6InN0cmVhbWtpdDovL2FwaS92MS9wZWVrIiwiY29udGVudCI6eyJzcGFjZSI6Im9yZGVycyIsInNlZ21lbnQiOiJvcmRlci00MiJ9fQ=="

    @Test func aDataFrameIsWrittenExactlyAsStreamkitWritesIt() {
        let frame = MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: peek)
        #expect(
            text(frame.encoded())
                == #"{"ControlType":"data","store_id":"\#(storeText)","channel_id":"\#(channelText)","payload":"\#(peekBase64)"}"#
        )
    }

    @Test(arguments: [(MuxFrame.ping, "ping"), (MuxFrame.pong, "pong"), (MuxFrame.close, "close")])
    func connectionLevelFramesCarryNilUUIDsAndANullPayload(_ frame: MuxFrame, _ type: String) {
        #expect(
            text(frame.encoded())
                == #"{"ControlType":"\#(type)","store_id":"\#(nilUUIDText)","channel_id":"\#(nilUUIDText)","payload":null}"#)
    }

    @Test func anErrorFrameCarriesAMuxErrorPayloadOnItsChannel() {
        let payload = MuxControlMessage.error(.accessDenied).encoded()
        let frame = MuxFrame(controlType: .error, storeID: store, channelID: channel, payload: payload)
        #expect(
            text(frame.encoded())
                == #"{"ControlType":"error","store_id":"\#(storeText)","channel_id":"\#(channelText)","payload":"\#(Base64.encode(payload))"}"#
        )
        #expect(text(payload) == #"{"type":"mux::error","err":"access denied","code":2,"error":"access_denied"}"#)
    }

    @Test func traceContextIsWrittenWithSortedKeysAndOmittedWhenEmpty() {
        var frame = MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: [])
        frame.traceContext = [:]
        #expect(!text(frame.encoded()).contains("trace_context"))
        frame.traceContext = ["traceparent": "00-abc-01", "baggage": "k=v"]
        #expect(text(frame.encoded()).hasSuffix(#","payload":"","trace_context":{"baggage":"k=v","traceparent":"00-abc-01"}}"#))
    }

    @Test func anEmptyTraceContextReadsAsNoneSoAFrameReadsBackAsItIsSent() throws {
        let received = try MuxFrame.decodeReceived(Array(#"{"ControlType":"data","payload":"","trace_context":{}}"#.utf8)).get()
        #expect(received.traceContext == nil)
        #expect(try MuxFrame.decodeReceived(received.encoded()).get() == received)
    }

    @Test func framesRoundTripForEveryControlType() throws {
        for type in MuxControlType.allCases {
            let frame = MuxFrame(
                controlType: type, storeID: store, channelID: channel, payload: type == .data ? peek : nil,
                traceContext: type == .data ? ["traceparent": "x"] : nil)
            #expect(try MuxFrame.decode(frame.encoded()).get() == frame)
        }
    }

    @Test func theReferenceExampleDecodesToItsRequest() throws {
        let json = #"{"ControlType":"data","store_id":"\#(storeText)","channel_id":"\#(channelText)","payload":"\#(peekBase64)"}"#
        let frame = try MuxFrame.decode(Array(json.utf8)).get()
        #expect(frame.controlType == .data && frame.storeID == store && frame.channelID == channel)
        #expect(try Envelope.decode(Peek.self, from: #require(frame.payload)) == Peek(space: "orders", segment: "order-42"))
    }

    @Test(arguments: ["ControlType", "controltype", "CONTROLTYPE", "controlType"])
    func keysAreMatchedIgnoringCaseLikeGo(_ key: String) throws {
        let json = #"{"\#(key)":"ping","STORE_ID":"\#(nilUUIDText)","Channel_Id":"\#(channelText)"}"#
        let frame = try MuxFrame.decode(Array(json.utf8)).get()
        #expect(frame == MuxFrame(controlType: .ping, channelID: channel))
    }

    @Test func theNilUUIDAndMissingFieldsReadAsAbsent() throws {
        let frame = try MuxFrame.decode(Array(#"{"ControlType":"pong","store_id":"\#(nilUUIDText)"}"#.utf8)).get()
        #expect(frame == .pong && frame.storeID == nil && frame.channelID == nil && frame.payload == nil)
    }

    @Test(arguments: [
        (#"not json"#, false, "invalid mux frame: invalid JSON"),
        (#"[1,2]"#, false, "invalid mux frame: expected a JSON object, got array"),
        (#"{"ControlType":"data","channel_id":"\#(channelText)","payload":"!!!!"}"#, true, "invalid mux frame: payload is not valid base64"),
        (#"{"ControlType":"data","channel_id":"\#(channelText)","payload":7}"#, true, "invalid mux frame: payload must be a base64 string, got number"),
        (#"{"ControlType":"shout","channel_id":"\#(channelText)"}"#, true, #"invalid mux frame: unknown ControlType "shout""#),
        (#"{"channel_id":"\#(channelText)"}"#, true, "invalid mux frame: missing ControlType"),
        (#"{"ControlType":"data","channel_id":"nope"}"#, false, #"invalid mux frame: channel_id "nope" is not a UUID"#),
    ])
    func badFramesAreRejectedNamingTheirChannelWhenTheyHaveOne(_ json: String, _ named: Bool, _ message: String) {
        guard case .failure(let error) = MuxFrame.decode(Array(json.utf8)) else {
            Issue.record("\(json) decoded")
            return
        }
        #expect(error.message.hasPrefix(message), "\(error.message)")
        #expect((error.channelID == channel) == named)
    }

    @Test func anOversizedPayloadIsRejectedBeforeItIsDecoded() {
        let payload = [UInt8](repeating: 7, count: 301)
        let frame = MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: payload)
        guard case .failure(let error) = MuxFrame.decode(frame.encoded(), maxPayloadBytes: 300) else {
            Issue.record("an oversized payload was accepted")
            return
        }
        #expect(error.channelID == channel && error.storeID == store)
        #expect(error.message.contains("MuxLimits.maxMessagePayloadBytes"))
        #expect((try? MuxFrame.decode(frame.encoded(), maxPayloadBytes: 301).get()) == frame)
    }
}

/// `mux::close` / `mux::error` with coordd's typed additions, and streamkit's text-only form.
@Suite struct MuxControlMessageTests {
    @Test func controlMessagesAreWrittenExactly() {
        #expect(text(MuxControlMessage.close(nil).encoded()) == #"{"type":"mux::close"}"#)
        #expect(
            text(MuxControlMessage.close(.sequenceGap(expected: 4, got: 6)).encoded())
                == #"{"type":"mux::close","err":"sequence gap: expected 4, got 6","code":2,"error":"sequence_gap"}"#)
        #expect(
            text(MuxControlMessage.error(.storeUnavailable).encoded())
                == #"{"type":"mux::error","err":"store unavailable","code":1,"error":"store_unavailable"}"#)
    }

    @Test(arguments: [
        MuxControlMessage.close(nil), .close(.sequenceGap(expected: 1, got: 3)), .close(.shuttingDown),
        .error(.accessDenied), .error(.tooManyStreams), .error(.limitExceeded("too many metadata entries: 65 (limit 64)")),
    ])
    func coorddsTypedMessagesRoundTripWithCodeAndName(_ message: MuxControlMessage) {
        #expect(MuxControlMessage.decode(message.encoded()) == message)
    }

    @Test(arguments: [
        (#"{"type":"mux::close","err":"sequence gap: expected 4, got 6"}"#, ErrorCode.permanent),
        (#"{"type":"mux::close","err":"sequence mismatch"}"#, .permanent),
        (#"{"type":"mux::close","err":"invalid request msg type: *api.Presence"}"#, .permanent),
        (#"{"type":"mux::close","err":"type \"streamkit://api/v1/nope\" is not registered"}"#, .permanent),
        (#"{"type":"mux::error","err":"access denied"}"#, .permanent),
        (#"{"type":"mux::error","err":"store unavailable"}"#, .transient),
        (#"{"type":"mux::close","err":"EOF"}"#, .transient),
        (#"{"type":"mux::error","err":"stream receive buffer overloaded"}"#, .transient),
    ])
    func streamkitTextOnlyErrorsBecomeRemoteErrorsClassifiedByTheirText(_ json: String, _ code: ErrorCode) throws {
        let message = try #require(MuxControlMessage.decode(Array(json.utf8)))
        let error = try #require(message.streamError)
        #expect(error.code == code && error.name == "remote_error")
        let value = try JSONValue.parse(json)
        guard case .object(let members) = value, case .string(let err)? = members["err"] else {
            Issue.record("bad fixture")
            return
        }
        #expect(error.message == err)
    }

    @Test func aCleanStreamkitCloseHasNoError() {
        #expect(MuxControlMessage.decode(Array(#"{"type":"mux::close"}"#.utf8)) == .close(nil))
        #expect(MuxControlMessage.decode(Array(#"  {"err":"","type":"mux::close"}"#.utf8)) == .close(nil))
    }

    @Test func anUnknownControlTypeBecomesStreamkitsUnknownErrorText() {
        let message = MuxControlMessage.decode(Array(#"{"type":"mux::zap","err":"boom"}"#.utf8))
        #expect(message?.streamError?.message == #"unknown error type "mux::zap": boom"#)
    }

    @Test(arguments: [
        #"{"type":"order","id":1}"#, #"{"type":"not-mux::close"}"#, #""mux::close""#, #"[{"type":"mux::close"}]"#,
        #"{"$type":"streamkit://api/v1/peek","content":{"space":"mux::close"}}"#, #"{"type":5,"note":"mux::"}"#,
    ])
    func aTypeFieldThatIsNotAControlTypeIsData(_ json: String) {
        #expect(MuxControlMessage.decode(Array(json.utf8)) == nil)
    }
}

/// Late frames for overloaded or refused channels are silenced for a while, then forgotten.
@Suite struct MuxTombstoneTests {
    let a = WireUUID(high: 1, low: 1)
    let b = WireUUID(high: 2, low: 2)
    let c = WireUUID(high: 3, low: 3)

    @Test func aTombstoneSilencesItsChannelUntilItExpires() {
        var tombstones = MuxTombstones(capacity: 4, ttlMs: 1_000)
        tombstones.insert(a, nowMs: 0)
        #expect(tombstones.contains(a, nowMs: 999))
        #expect(!tombstones.contains(b, nowMs: 999))
        #expect(!tombstones.contains(a, nowMs: 1_000))
        tombstones.expire(nowMs: 1_000)
        #expect(tombstones.count == 0, "an expired tombstone is forgotten, so the channel can open again")
    }

    @Test func theOldestTombstoneIsEvictedWhenFull() {
        var tombstones = MuxTombstones(capacity: 2, ttlMs: 60_000)
        tombstones.insert(a, nowMs: 0)
        tombstones.insert(b, nowMs: 1)
        tombstones.insert(c, nowMs: 2)
        #expect(!tombstones.contains(a, nowMs: 3) && tombstones.contains(b, nowMs: 3) && tombstones.contains(c, nowMs: 3))
        #expect(tombstones.count == 2)
    }

    @Test func reTombstoningAChannelExtendsItAndKeepsTheBound() {
        var tombstones = MuxTombstones(capacity: 2, ttlMs: 100)
        for now in 0..<1_000 { tombstones.insert(a, nowMs: Int64(now)) }
        #expect(tombstones.contains(a, nowMs: 1_098))
        #expect(!tombstones.contains(a, nowMs: 1_099))
        tombstones.insert(b, nowMs: 2_000)
        tombstones.insert(c, nowMs: 2_001)
        #expect(tombstones.count == 2)
    }
}

extension MuxTombstoneTests {
    @Test func aChannelClosedWhileThePeerSentIsAnsweredOnceThenSilenced() {
        var tombstones = MuxTombstones(capacity: 4, ttlMs: 1_000)
        tombstones.insert(a, nowMs: 0, answered: false)
        tombstones.insert(b, nowMs: 0)
        let first = tombstones.takeAnswer(a, nowMs: 1)
        let second = tombstones.takeAnswer(a, nowMs: 2)
        let refused = tombstones.takeAnswer(b, nowMs: 1)
        #expect(first && !second, "answered once")
        #expect(!refused, "already answered when it was refused")
        #expect(tombstones.contains(a, nowMs: 3) && tombstones.contains(b, nowMs: 3))
        tombstones.insert(c, nowMs: 0, answered: false)
        let expired = tombstones.takeAnswer(c, nowMs: 1_000)
        #expect(!expired, "an expired tombstone is not answered")
    }
}
