import CoordTestKit
import Testing

@testable import Transport

/// The role at the other end of a connection.
func peer(of role: WebSocketRole) -> WebSocketRole { role == .server ? .client : .server }

/// Printable ASCII that does not repeat with period 4, so a wrong mask offset shows.
func asciiPayload(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(ascii: "a") + UInt8($0 % 23) }
}

@Suite struct WebSocketFrameEncoderTests {
    @Test func serverEncoderWritesTheRFCUnmaskedExamples() {
        var encoder = WebSocketFrameEncoder(role: .server)
        var out: [UInt8] = []
        encoder.encodeText("Hello", into: &out)
        #expect(out == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        out = []
        encoder.encodePing(Array("Hello".utf8), into: &out)
        #expect(out == [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    }

    @Test func headerLengthFormsMatchTheRFCExamples() {
        #expect(WebSocketFrameEncoder.unmaskedHeader(.text, payloadLength: 125).bytes == [0x81, 0x7D])
        #expect(WebSocketFrameEncoder.unmaskedHeader(.text, payloadLength: 256).bytes == [0x81, 0x7E, 0x01, 0x00])
        #expect(
            WebSocketFrameEncoder.unmaskedHeader(.text, payloadLength: 65536).bytes == [0x81, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
        #expect(WebSocketFrameHeader(opcode: .pong, payloadLength: 5, maskKey: 0).count == 6)
    }

    @Test func maskingWithTheRFCKeyGivesTheRFCBytes() {
        var payload = Array("Hello".utf8)
        let key = testMask.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        payload.withUnsafeMutableBytes { WebSocketMasking.apply(key: key, keyOffset: 0, to: $0) }
        #expect(payload == [0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test func wordMaskingMatchesBytewiseMaskingAtEveryOffsetAndLength() {
        let key = testMask.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        for length in 0..<80 {
            for keyOffset in 0..<4 {
                let source = asciiPayload(length)
                let expected = source.enumerated().map { $0.element ^ testMask[($0.offset + keyOffset) % 4] }
                var inPlace = source
                inPlace.withUnsafeMutableBytes { WebSocketMasking.apply(key: key, keyOffset: keyOffset, to: $0) }
                #expect(inPlace == expected)
                var copied = [UInt8](repeating: 0, count: length)
                source.withUnsafeBytes { from in
                    copied.withUnsafeMutableBytes { WebSocketMasking.copy(from, to: $0, key: key, keyOffset: keyOffset) }
                }
                #expect(copied == expected)
            }
        }
    }

    @Test func clientFramesAreMaskedWithFreshKeysAndServerFramesAreNot() {
        var client = WebSocketFrameEncoder(role: .client)
        var keys: Set<[UInt8]> = []
        for _ in 0..<300 {
            var out: [UInt8] = []
            client.encodeText("{}", into: &out)
            #expect(out[1] & 0x80 != 0)
            keys.insert(Array(out[2..<6]))
        }
        // 300 keys drawn across a pool refill; a repeat among 2^32 values is practically impossible.
        #expect(keys.count == 300)

        var server = WebSocketFrameEncoder(role: .server)
        var out: [UInt8] = []
        server.encodeText("{}", into: &out)
        #expect(out[1] & 0x80 == 0)
    }

    @Test func unmaskedHeaderFollowedByThePayloadEqualsTheEncodedFrame() {
        let payload = asciiPayload(70_000)
        var encoder = WebSocketFrameEncoder(role: .server)
        var out: [UInt8] = []
        encoder.encodeText(payload, into: &out)
        #expect(WebSocketFrameEncoder.unmaskedHeader(.text, payloadLength: payload.count).bytes + payload == out)
    }

    @Test func encodingAppendsToWhatTheBufferHolds() {
        var encoder = WebSocketFrameEncoder(role: .server)
        var out: [UInt8] = [0xAA]
        encoder.encodeText("a", into: &out)
        encoder.encodePong([1], into: &out)
        #expect(out == [0xAA, 0x81, 0x01, 0x61, 0x8A, 0x01, 0x01])
    }

    @Test func appendingManyFramesToOneBufferGrowsItGeometrically() {
        var encoder = WebSocketFrameEncoder(role: .client)
        var out: [UInt8] = []
        var capacityChanges = 0
        for _ in 0..<1000 {
            let before = out.capacity
            encoder.encodeText("{\"ControlType\":\"ping\"}", into: &out)
            if out.capacity != before { capacityChanges += 1 }
        }
        // Exact reservations would reallocate (and copy the whole buffer) on every frame.
        #expect(capacityChanges < 20)
    }

    @Test func closeFramesCarryCodeAndReasonOrNothing() {
        var encoder = WebSocketFrameEncoder(role: .server)
        var out: [UInt8] = []
        encoder.encodeClose(code: .goingAway, reason: "bye", into: &out)
        #expect(out == [0x88, 0x05, 0x03, 0xE9, 0x62, 0x79, 0x65])
        out = []
        encoder.encodeClose(code: nil, into: &out)
        #expect(out == [0x88, 0x00])
    }

    @Test func longCloseReasonIsCutAtACharacterBoundary() {
        var encoder = WebSocketFrameEncoder(role: .client)
        var out: [UInt8] = []
        let reason = String(repeating: "é", count: 100)
        encoder.encodeClose(code: .protocolError, reason: reason, into: &out)
        let events = parseFrames([out], role: .server)
        guard case .frame(let frame) = events.first else {
            Issue.record("close frame refused: \(events)")
            return
        }
        #expect(frame.payload.count == 124)
        #expect(frame.closeCode == .protocolError)
        #expect(frame.closeReason == String(repeating: "é", count: 61))
    }

    @Test(arguments: [0, 125, 126, 65535, 65536, 1 << 20], [WebSocketRole.server, .client])
    func encodedFramesParseBackUnchanged(size: Int, sender: WebSocketRole) {
        let payload = asciiPayload(size)
        var encoder = WebSocketFrameEncoder(role: sender)
        var out: [UInt8] = []
        encoder.encodeText(payload, into: &out)
        let lengthBytes = size < 126 ? 0 : size <= 0xFFFF ? 2 : 8
        #expect(out.count == 2 + lengthBytes + (sender == .client ? 4 : 0) + size)
        let expected: [WebSocketFrameParser.Event] = [.frame(WebSocketFrame(opcode: .text, payload: payload))]
        #expect(parseFrames([out], role: peer(of: sender)) == expected)
        // Odd-sized chunks exercise the header and payload paths that span inputs.
        let chunks = stride(from: 0, to: out.count, by: 4093).map { Array(out[$0..<min($0 + 4093, out.count)]) }
        #expect(parseFrames(chunks, role: peer(of: sender)) == expected)
    }

    @Test(arguments: [WebSocketRole.server, .client])
    func controlFramesRoundTrip(_ sender: WebSocketRole) {
        var encoder = WebSocketFrameEncoder(role: sender)
        var out: [UInt8] = []
        encoder.encodePing([1, 2, 3], into: &out)
        encoder.encodePong(asciiPayload(125), into: &out)
        encoder.encodeClose(code: .normalClosure, reason: "done", into: &out)
        let events = parseFrames([out], role: peer(of: sender))
        #expect(
            events == [
                .frame(WebSocketFrame(opcode: .ping, payload: [1, 2, 3])),
                .frame(WebSocketFrame(opcode: .pong, payload: asciiPayload(125))),
                .frame(WebSocketFrame(opcode: .close, payload: [0x03, 0xE8] + Array("done".utf8))),
            ])
    }
}

@Suite struct WebSocketUTF8ValidationTests {
    @Test func wellFormedTextIsValid() {
        for text in ["", "plain ascii that is longer than eight bytes", "héllo", "€uro", "𝄞 clef", "\u{10FFFF}", "\u{D7FF}\u{E000}"] {
            #expect(UTF8Validation.isValid(Array(text.utf8)), "\(text.debugDescription)")
        }
    }

    @Test func validationAgreesWithTheStandardLibraryOnRandomBytes() {
        var generator = SplitMix64(seed: 0x5EED_0002)
        // Bytes drawn mostly from lead and continuation ranges, so multi-byte paths are exercised.
        let alphabet: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC,
            0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...12, using: &generator)
            var bytes = (0..<count).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            if Bool.random(using: &generator) { bytes = Array("ascii-run".utf8) + bytes }
            #expect(UTF8Validation.isValid(bytes) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
    }
}
