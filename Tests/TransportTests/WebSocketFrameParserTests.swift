import Testing

@testable import Transport

/// A frame built byte by byte, independently of the encoder. `length` overrides the declared payload
/// length (to send a header alone); `lengthBytes` forces the 0-, 2- or 8-byte length form.
func rawFrame(
    _ first: UInt8, _ payload: [UInt8] = [], mask: [UInt8]? = nil, length: UInt64? = nil, lengthBytes: Int? = nil
) -> [UInt8] {
    let declared = length ?? UInt64(payload.count)
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    var out: [UInt8] = [first]
    switch lengthBytes ?? (declared < 126 ? 0 : declared <= 0xFFFF ? 2 : 8) {
    case 0:
        out.append(maskBit | UInt8(declared))
    case 2:
        out.append(maskBit | 126)
        out += [UInt8(declared >> 8 & 0xFF), UInt8(declared & 0xFF)]
    default:
        out.append(maskBit | 127)
        out += (0..<8).map { UInt8(truncatingIfNeeded: declared >> (56 - 8 * UInt64($0))) }
    }
    if let mask {
        out += mask
        out += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    } else {
        out += payload
    }
    return out
}

let testMask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

/// Feeds `chunks` in order and returns every frame and failure (never `.needMoreData`), stopping at
/// the first failure.
func parseFrames(
    _ chunks: [[UInt8]], role: WebSocketRole, limits: WebSocketLimits = .standard
) -> [WebSocketFrameParser.Event] {
    var parser = WebSocketFrameParser(role: role, limits: limits)
    var events: [WebSocketFrameParser.Event] = []
    for chunk in chunks {
        var offset = 0
        while true {
            let event = parser.next(in: chunk, at: &offset)
            if event == .needMoreData { break }
            events.append(event)
            if case .failure = event { return events }
        }
        #expect(offset == chunk.count)
    }
    return events
}

/// `bytes` as one chunk per byte.
func byteByByte(_ bytes: [UInt8]) -> [[UInt8]] { bytes.map { [$0] } }

func text(_ string: String) -> WebSocketFrameParser.Event {
    .frame(WebSocketFrame(opcode: .text, payload: Array(string.utf8)))
}

@Suite struct WebSocketFrameParserTests {
    // MARK: RFC 6455 §5.7 examples

    @Test func rfcUnmaskedHelloIsOneTextFrame() {
        #expect(parseFrames([[0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]], role: .client) == [text("Hello")])
    }

    @Test func rfcMaskedHelloIsOneTextFrame() {
        let bytes: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        #expect(parseFrames([bytes], role: .server) == [text("Hello")])
        #expect(parseFrames(byteByByte(bytes), role: .server) == [text("Hello")])
    }

    @Test func rfcFragmentedHelloIsRefusedAsUnsupported() {
        let bytes: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F]
        #expect(
            parseFrames([bytes], role: .client)
                == [.failure(WebSocketProtocolFailure(code: .unsupportedData, reason: "fragmented messages are not supported"))])
    }

    @Test func rfcPingAndMaskedPongCarryTheirPayloads() {
        let hello = Array("Hello".utf8)
        #expect(
            parseFrames([[0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]], role: .client)
                == [.frame(WebSocketFrame(opcode: .ping, payload: hello))])
        #expect(
            parseFrames([[0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]], role: .server)
                == [.frame(WebSocketFrame(opcode: .pong, payload: hello))])
    }

    @Test func rfcTwoByteAndEightByteLengthsAreDecoded() {
        // The RFC's 256-byte and 64 KiB examples are binary frames, which coordd refuses from the header…
        #expect(
            parseFrames([[0x82, 0x7E, 0x01, 0x00]], role: .client)
                == [.failure(WebSocketProtocolFailure(code: .unsupportedData, reason: "binary frames are not supported"))])
        // …so the same length encodings are checked on text frames.
        let small = [UInt8](repeating: 0x61, count: 256)
        #expect(
            parseFrames([[0x81, 0x7E, 0x01, 0x00] + small], role: .client)
                == [.frame(WebSocketFrame(opcode: .text, payload: small))])
        let large = [UInt8](repeating: 0x62, count: 65536)
        #expect(
            parseFrames([[0x81, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + large], role: .client)
                == [.frame(WebSocketFrame(opcode: .text, payload: large))])
    }

    @Test func nonMinimalLengthEncodingsAreAccepted() {
        let hello = Array("Hello".utf8)
        for lengthBytes in [2, 8] {
            let bytes = rawFrame(0x81, hello, mask: testMask, lengthBytes: lengthBytes)
            #expect(parseFrames([bytes], role: .server) == [text("Hello")])
        }
    }

    @Test func framesSharingOneInputAreYieldedOneByOne() {
        let bytes = rawFrame(0x81, Array("a".utf8)) + rawFrame(0x89, [1, 2]) + rawFrame(0x81, Array("b".utf8))
        var parser = WebSocketFrameParser(role: .client)
        var offset = 0
        #expect(parser.next(in: bytes, at: &offset) == text("a"))
        #expect(offset == 3)
        #expect(parser.next(in: bytes, at: &offset) == .frame(WebSocketFrame(opcode: .ping, payload: [1, 2])))
        #expect(parser.next(in: bytes, at: &offset) == text("b"))
        #expect(parser.next(in: bytes, at: &offset) == .needMoreData)
        #expect(offset == bytes.count)
    }

    // MARK: Close frames

    @Test func emptyCloseFrameHasNoCode() {
        let events = parseFrames([rawFrame(0x88, mask: testMask)], role: .server)
        guard case .frame(let frame) = events.first else {
            Issue.record("expected a frame, got \(events)")
            return
        }
        #expect(frame.opcode == .close)
        #expect(frame.closeCode == nil)
        #expect(frame.closeReason == "")
    }

    @Test(arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999] as [UInt16])
    func closeFrameWithAValidCodeCarriesCodeAndReason(_ code: UInt16) {
        let payload = [UInt8(code >> 8), UInt8(code & 0xFF)] + Array("bye ✓".utf8)
        let events = parseFrames([rawFrame(0x88, payload, mask: testMask)], role: .server)
        guard case .frame(let frame) = events.first else {
            Issue.record("expected a frame, got \(events)")
            return
        }
        #expect(frame.closeCode == WebSocketCloseCode(rawValue: code))
        #expect(frame.closeReason == "bye ✓")
    }

    // MARK: Rejections

    struct RejectionCase: Sendable, CustomTestStringConvertible {
        var name: String
        var role: WebSocketRole
        var bytes: [UInt8]
        var code: WebSocketCloseCode
        var testDescription: String { name }
    }

    static func closeFrame(code: UInt16, reason: [UInt8] = []) -> [UInt8] {
        rawFrame(0x88, [UInt8(code >> 8), UInt8(code & 0xFF)] + reason, mask: testMask)
    }

    static let rejectionCases: [RejectionCase] = [
        RejectionCase(name: "unmasked frame to a server", role: .server, bytes: rawFrame(0x81, [0x61]), code: .protocolError),
        RejectionCase(
            name: "masked frame to a client", role: .client, bytes: rawFrame(0x81, [0x61], mask: testMask), code: .protocolError),
        RejectionCase(name: "RSV1 set", role: .server, bytes: rawFrame(0xC1, [0x61], mask: testMask), code: .protocolError),
        RejectionCase(name: "RSV2 set", role: .server, bytes: rawFrame(0xA1, [0x61], mask: testMask), code: .protocolError),
        RejectionCase(name: "RSV3 set", role: .server, bytes: rawFrame(0x91, [0x61], mask: testMask), code: .protocolError),
        RejectionCase(name: "opcode 3", role: .server, bytes: rawFrame(0x83, mask: testMask), code: .protocolError),
        RejectionCase(name: "opcode 0xB", role: .server, bytes: rawFrame(0x8B, mask: testMask), code: .protocolError),
        RejectionCase(
            name: "ping of 126 bytes", role: .server, bytes: rawFrame(0x89, [UInt8](repeating: 0, count: 126), mask: testMask),
            code: .protocolError),
        RejectionCase(name: "fragmented ping", role: .server, bytes: rawFrame(0x09, mask: testMask), code: .protocolError),
        RejectionCase(
            name: "64-bit length with the top bit set", role: .client, bytes: rawFrame(0x81, length: 1 << 63),
            code: .protocolError),
        RejectionCase(name: "close with 1 byte", role: .server, bytes: rawFrame(0x88, [0x03], mask: testMask), code: .protocolError),
        RejectionCase(name: "close code 999", role: .server, bytes: closeFrame(code: 999), code: .protocolError),
        RejectionCase(name: "close code 1004", role: .server, bytes: closeFrame(code: 1004), code: .protocolError),
        RejectionCase(name: "close code 1005", role: .server, bytes: closeFrame(code: 1005), code: .protocolError),
        RejectionCase(name: "close code 1006", role: .server, bytes: closeFrame(code: 1006), code: .protocolError),
        RejectionCase(name: "close code 1015", role: .server, bytes: closeFrame(code: 1015), code: .protocolError),
        RejectionCase(name: "close code 2999", role: .server, bytes: closeFrame(code: 2999), code: .protocolError),
        RejectionCase(name: "close code 5000", role: .server, bytes: closeFrame(code: 5000), code: .protocolError),
        RejectionCase(name: "binary frame", role: .server, bytes: rawFrame(0x82, [1, 2], mask: testMask), code: .unsupportedData),
        RejectionCase(
            name: "text without FIN", role: .server, bytes: rawFrame(0x01, [0x61], mask: testMask), code: .unsupportedData),
        RejectionCase(
            name: "continuation frame", role: .server, bytes: rawFrame(0x80, [0x61], mask: testMask), code: .unsupportedData),
        RejectionCase(
            name: "overlong UTF-8", role: .server, bytes: rawFrame(0x81, [0xC0, 0xAF], mask: testMask), code: .invalidPayload),
        RejectionCase(
            name: "UTF-16 surrogate", role: .server, bytes: rawFrame(0x81, [0xED, 0xA0, 0x80], mask: testMask),
            code: .invalidPayload),
        RejectionCase(
            name: "code point above U+10FFFF", role: .server, bytes: rawFrame(0x81, [0xF4, 0x90, 0x80, 0x80], mask: testMask),
            code: .invalidPayload),
        RejectionCase(
            name: "truncated UTF-8", role: .server, bytes: rawFrame(0x81, Array("ok".utf8) + [0xE2, 0x82], mask: testMask),
            code: .invalidPayload),
        RejectionCase(
            name: "invalid UTF-8 in close reason", role: .server, bytes: closeFrame(code: 1000, reason: [0xFF]),
            code: .invalidPayload),
        RejectionCase(
            name: "length over the cap", role: .server, bytes: rawFrame(0x81, mask: testMask, length: (8 << 20) + 1),
            code: .messageTooBig),
    ]

    @Test(arguments: rejectionCases)
    func protocolViolationsFailWithTheirCloseCode(_ testCase: RejectionCase) {
        let whole = parseFrames([testCase.bytes], role: testCase.role)
        guard case .failure(let failure) = whole.last, whole.count == 1 else {
            Issue.record("expected one failure, got \(whole)")
            return
        }
        #expect(failure.code == testCase.code)
        #expect(failure.reason.utf8.count <= 123)
        #expect(parseFrames(byteByByte(testCase.bytes), role: testCase.role) == whole)
    }

    @Test func aFailureIsRepeatedForEveryLaterInput() {
        var parser = WebSocketFrameParser(role: .server)
        var offset = 0
        let failure = parser.next(in: rawFrame(0x82, [1], mask: testMask), at: &offset)
        guard case .failure = failure else {
            Issue.record("expected a failure, got \(failure)")
            return
        }
        offset = 0
        #expect(parser.next(in: rawFrame(0x81, [0x61], mask: testMask), at: &offset) == failure)
    }

    // MARK: Limits

    @Test func payloadExactlyAtTheCapIsAcceptedAndOneMoreIsRefusedFromTheHeader() {
        let cap = WebSocketLimits.standard.maxFramePayloadBytes
        #expect(cap == 8 << 20)
        var encoder = WebSocketFrameEncoder(role: .client)
        var atCap: [UInt8] = []
        encoder.encodeText([UInt8](repeating: 0x7A, count: cap), into: &atCap)
        let accepted = parseFrames([atCap], role: .server)
        guard case .frame(let frame) = accepted.first else {
            Issue.record("frame at the cap refused: \(accepted)")
            return
        }
        #expect(frame.payload.count == cap)

        // Only the header of the oversized frame is fed: the refusal needs no payload bytes.
        let overCap = rawFrame(0x81, mask: testMask, length: UInt64(cap) + 1)
        #expect(overCap.count == 14)
        guard case .failure(let failure) = parseFrames([overCap], role: .server).first else {
            Issue.record("frame over the cap accepted")
            return
        }
        #expect(failure.code == .messageTooBig)
    }

    @Test func configuredCapIsEnforcedExactly() {
        let limits = WebSocketLimits(maxFramePayloadBytes: 1000)
        let payload = [UInt8](repeating: 0x61, count: 1000)
        #expect(
            parseFrames([rawFrame(0x81, payload)], role: .client, limits: limits)
                == [.frame(WebSocketFrame(opcode: .text, payload: payload))])
        let events = parseFrames([rawFrame(0x81, length: 1001)], role: .client, limits: limits)
        #expect(
            events
                == [.failure(WebSocketProtocolFailure(code: .messageTooBig, reason: "frame payload of 1001 bytes exceeds the 1000-byte limit"))])
    }

    // MARK: Incremental parsing

    /// Several frames of each header form, as a client (masked) or a server (unmasked) sends them.
    static func mixedStream(masked: Bool) -> [UInt8] {
        let mask = masked ? testMask : nil
        return rawFrame(0x81, Array("Hello".utf8), mask: mask)
            + rawFrame(0x89, [], mask: mask)
            + rawFrame(0x81, Array(String(repeating: "é€𝄞x", count: 30).utf8), mask: mask)
            + rawFrame(0x8A, Array("pong".utf8), mask: mask)
            + rawFrame(0x81, Array("{}".utf8), mask: mask, lengthBytes: 8)
            + rawFrame(0x88, [0x03, 0xE8] + Array("done".utf8), mask: mask)
    }

    @Test(arguments: [WebSocketRole.server, .client])
    func framesSplitAtEveryByteBoundaryParseIdentically(_ role: WebSocketRole) {
        let stream = Self.mixedStream(masked: role == .server)
        let reference = parseFrames([stream], role: role)
        #expect(reference.count == 6)
        #expect(!reference.contains { if case .failure = $0 { true } else { false } })
        for split in 0...stream.count {
            #expect(parseFrames([Array(stream[..<split]), Array(stream[split...])], role: role) == reference)
        }
        #expect(parseFrames(byteByByte(stream), role: role) == reference)
    }
}
