import CoordTestKit
import StreamCore
import Testing

@testable import Transport

/// The hot-path codec gives exactly what the general mux frame codec gives.
@Suite struct MuxFrameCodecTests {
    let store = WireUUID(storeText)!
    let channel = WireUUID(channelText)!

    /// `frame` as the general encoder writes it, behind an unmasked text frame header.
    func generalFrame(_ frame: MuxFrame) -> [UInt8] {
        var encoder = WebSocketFrameEncoder(role: .server)
        var out: [UInt8] = []
        encoder.encodeText(frame.encoded(), into: &out)
        return out
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 40, 41, 42, 63, 64, 65, 47_000, 49_000, 70_000])
    func encodingMatchesTheGeneralEncoderAtEveryLengthForm(_ count: Int) {
        var generator = SplitMix64(seed: UInt64(count) + 1)
        let frame = MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: generator.bytes(count))
        #expect(MuxFrameCodec.webSocketFrame(frame, maskKey: nil) == generalFrame(frame))
    }

    @Test(arguments: [MuxFrame.ping, .pong, .close, MuxFrame(controlType: .error, channelID: WireUUID(channelText)!),
                      MuxFrame(controlType: .data, storeID: WireUUID(storeText)!, payload: [1], traceContext: ["b": "2", "a": "1"])])
    func controlAndTracedFramesMatchTheGeneralEncoder(_ frame: MuxFrame) {
        #expect(MuxFrameCodec.webSocketFrame(frame, maskKey: nil) == generalFrame(frame))
    }

    @Test func aMaskedFrameUnmasksToTheSameText() throws {
        let frame = MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: Array("hello".utf8))
        let masked = MuxFrameCodec.webSocketFrame(frame, maskKey: 0x1234_5678)
        var parser = WebSocketFrameParser(role: .server)
        var offset = 0
        guard case .frame(let parsed) = parser.next(in: masked, at: &offset) else {
            Issue.record("the masked frame did not parse")
            return
        }
        #expect(parsed.payload == frame.encoded() && offset == masked.count)
    }

    @Test(arguments: [
        #"{"ControlType":"data","store_id":"\#(storeText)","channel_id":"\#(channelText)","payload":"aGVsbG8="}"#,
        #" { "payload" : "aGk=" , "channel_id":"\#(channelText)", "ControlType" : "data" } "#,
        #"{"controltype":"ping","STORE_ID":null,"channel_id":"\#(nilUUIDText)","payload":null}"#,
        #"{"ControlType":"pong"}"#,
        #"{"ControlType":"data","payload":""}"#,
        #"{"ControlType":"data","payload":"aGVsbG8","channel_id":"\#(channelText)"}"#,
        #"{"ControlType":"data","payload":"a-_h","channel_id":"\#(channelText)"}"#,
        #"{"ControlType":"data","payload":"aGk=aGk=","channel_id":"\#(channelText)"}"#,
        #"{"ControlType":"data","payload":"=aGk","channel_id":"\#(channelText)"}"#,
        #"{"ControlType":"data","payload":"aGVsbG8gd29ybGQ=","channel_id":"\#(channelText)"}"#,
        #"{"ControlType":"data","payload":"aGk\/","channel_id":"\#(channelText)"}"#,
        #"{"ControlType":"data","payload":"aG\"k=","channel_id":"\#(channelText)"}"#,
        #"{"ControlType":"data","payload":"aGk\u003d","channel_id":"\#(channelText)"}"#,
        #"{"ControlType":"data","payload":"aG\#tk=","channel_id":"\#(channelText)"}"#,
        #"{"ControlType":"data","payload":"aGk=}"#,
        #"{"ControlType":"d\u0061ta","channel_id":"\#(channelText)"}"#,
        #"{"ControlType":"data","ControlType":"ping"}"#,
        #"{"ControlType":"data","controltype":"ping"}"#,
        #"{"ControlType":"data","trace_context":{"a":"b"},"extra":[1,2]}"#,
        #"{"ControlType":null}"#, #"{}"#, #"{"ControlType":"data",}"#, #"{"ControlType":"data"} x"#,
        #"{"ControlType":"data","channel_id":"\#(channelText.uppercased())"}"#,
        #"{"ControlType":"data","store_id":"not-a-uuid"}"#,
        #"{"ControlType":"DATA"}"#,
        "{\"ControlType\":\"data\",\"payload\":\"aGk=\t\"}", "{\"Control\u{1}Type\":\"data\"}",
        #"{"ControlType":"clos"}"#, #"{"ControlType":"pang"}"#, #"{"ControlType":"errors"}"#,
    ])
    func decodingMatchesTheGeneralDecoder(_ json: String) {
        let bytes = Array(json.utf8)
        #expect(MuxFrameCodec.decode(bytes, maxPayloadBytes: 8) == MuxFrame.decode(bytes, maxPayloadBytes: 8))
    }

    @Test(arguments: [MuxFrame.ping, .pong, .close, MuxFrame(controlType: .error, channelID: WireUUID(channelText)!),
                      MuxFrame(controlType: .data, storeID: WireUUID(storeText)!, channelID: WireUUID(channelText)!, payload: [9, 8, 7])])
    func framesAsCoorddAndStreamkitWriteThemAreReadWithoutTheGeneralDecoder(_ frame: MuxFrame) throws {
        let text = frame.encoded()
        let scanned = text.withUnsafeBytes { MuxFrameCodec.scanCanonical($0, maxPayloadBytes: 64) }
        #expect(try scanned?.get() == frame)
    }

    @Test func base64DecodingMatchesTheGeneralDecoderOnRandomText() {
        let seed = SplitMix64.seedFromEnvironment()
        var generator = SplitMix64(seed: seed)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_!".utf8)
        for _ in 0..<2_000 {
            let count = Int(generator.next() % 14)
            let text = (0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            let fast = text.withUnsafeBytes { Base64.decodeStandard($0) }
            // A lazy view has no contiguous storage: it takes the general decoder's loop.
            #expect(fast == Base64.decode(text.lazy.map { $0 }), "seed \(seed): \(String(decoding: text, as: UTF8.self))")
        }
        for count in 0..<40 {
            let bytes = generator.bytes(count)
            let text = Base64.encodedStandard(bytes)
            var general: [UInt8] = []
            Base64.encode(bytes.lazy.map { $0 }, into: &general)
            #expect(text == general)
            // Appended in place after what the array holds (a JSON writer's text so far).
            var prefixed = Array(#"{"payload":""#.utf8)
            Base64.encode(bytes, into: &prefixed)
            #expect(prefixed == Array(#"{"payload":""#.utf8) + text)
            #expect(text.withUnsafeBytes { Base64.decodeStandard($0) } == bytes)
        }
    }

    /// The payload length an unmasked WebSocket frame's header declares: what the peer's frame cap
    /// applies to (RFC 6455 §5.2).
    func declaredPayloadCount(_ frame: [UInt8]) -> Int {
        switch frame[1] & 0x7F {
        case 126: return Int(frame[2]) << 8 | Int(frame[3])
        case 127: return frame[2..<10].reduce(0) { $0 << 8 | Int($1) }
        case let short: return Int(short)
        }
    }

    @Test(.serialized, arguments: [MuxControlType.data, .error])
    func theLargestOutboundPayloadFillsAnEightMiBFrameWithoutPassingIt(_ type: MuxControlType) {
        let cap = WebSocketLimits.standard.maxFramePayloadBytes
        let largest = MuxLimits().maxOutboundPayloadBytes(frameBytes: cap)
        #expect(largest == WireLimits.maxMessageBytes)
        let frame = MuxFrame(controlType: type, storeID: store, channelID: channel, payload: [UInt8](repeating: 0x5A, count: largest))
        let whole = MuxFrameCodec.webSocketFrame(frame, maskKey: nil)
        let declared = declaredPayloadCount(whole)
        #expect(declared <= cap && declared > cap - 8 && declared + 10 == whole.count)
        #expect(MuxFrameCodec.webSocketFrameParts(frame, maskKey: nil).reduce(0) { $0 + $1.count } == whole.count)
        #expect(frame.encoded().count == declared, "the general encoder writes the same size")
        let bigger = MuxFrame(controlType: type, storeID: store, channelID: channel, payload: [UInt8](repeating: 0x5A, count: largest + 1))
        #expect(bigger.encoded().count > cap, "one byte more would make a frame the peer refuses")
    }
}
