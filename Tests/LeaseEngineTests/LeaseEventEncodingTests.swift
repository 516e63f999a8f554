import CoordTestKit
import LeaseEngine
import Testing

private let sampleEvents: [LeaseEvent] = [
    .granted(key: "partition/7", holder: "3f0e2a9c-7d41-4b55-9a55-0c1d2e3f4a5b", token: 42, ttlMs: 30_000, boundTo: nil),
    .granted(key: "k", holder: "h", token: 1, ttlMs: 1, boundTo: 0),
    .granted(key: "ключ/🔑", holder: "caf\u{E9}", token: UInt64.max, ttlMs: Int64.max, boundTo: UInt64.max),
    .released(key: "partition/7", holder: "h", token: 42),
    .released(key: "", holder: "", token: 0),
    .expired(key: "partition/7", token: 43),
    .expired(key: String(repeating: "x", count: 300), token: 1 << 40),
]

@Test(arguments: sampleEvents)
func eventEncodingRoundTrips(_ event: LeaseEvent) throws {
    #expect(try LeaseEvent(decoding: event.encoded()) == event)
    // Any collection decodes, not only arrays.
    #expect(try LeaseEvent(decoding: event.encoded()[...]) == event)
}

@Test(arguments: sampleEvents)
func everyTruncationOfAnEventThrowsTruncated(_ event: LeaseEvent) {
    let bytes = event.encoded()
    for length in 0..<bytes.count {
        #expect(throws: LeaseEventDecodingError.truncated) { try LeaseEvent(decoding: bytes.prefix(length)) }
    }
}

@Test func encodingLayoutIsPinned() {
    // Version 1 | kind 3 (expired), key length 1 (UInt32 LE), "k", token 258 (UInt64 LE).
    #expect(LeaseEvent.expired(key: "k", token: 258).encoded() == [0x13, 1, 0, 0, 0, 0x6B, 2, 1, 0, 0, 0, 0, 0, 0])
    // Version 1 | kind 1 (granted), "k", "h", token 1, ttl 1000, bound flag 1, worker 5.
    #expect(LeaseEvent.granted(key: "k", holder: "h", token: 1, ttlMs: 1_000, boundTo: 5).encoded() == [
        0x11, 1, 0, 0, 0, 0x6B, 1, 0, 0, 0, 0x68, 1, 0, 0, 0, 0, 0, 0, 0, 0xE8, 0x03, 0, 0, 0, 0, 0, 0, 1,
        5, 0, 0, 0, 0, 0, 0, 0,
    ])
}

/// Bytes that are well-framed but wrong, and the error each must produce.
@Test(arguments: [
    ([UInt8](), LeaseEventDecodingError.truncated),
    ([0x23, 1, 0, 0, 0, 0x6B, 1, 0, 0, 0, 0, 0, 0, 0], .unsupportedVersion(2)),
    ([0x03, 1, 0, 0, 0, 0x6B, 1, 0, 0, 0, 0, 0, 0, 0], .unsupportedVersion(0)),
    ([0x14, 1, 0, 0, 0, 0x6B, 1, 0, 0, 0, 0, 0, 0, 0], .unknownKind(4)),
    ([0x10], .unknownKind(0)),
    ([0x13, 1, 0, 0, 0, 0xFF, 1, 0, 0, 0, 0, 0, 0, 0], .invalidUTF8),
    ([0x13, 2, 0, 0, 0, 0xC3, 0x28, 1, 0, 0, 0, 0, 0, 0, 0], .invalidUTF8),
    ([0x13, 0xFF, 0xFF, 0xFF, 0xFF, 0x6B], .truncated),
    ([0x13, 1, 0, 0, 0, 0x6B, 1, 0, 0, 0, 0, 0, 0, 0, 0], .trailingBytes(1)),
    ([0x11, 1, 0, 0, 0, 0x6B, 1, 0, 0, 0, 0x68, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], .nonPositiveTTL(0)),
    ([0x11, 1, 0, 0, 0, 0x6B, 1, 0, 0, 0, 0x68, 1, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8) + [0],
     .nonPositiveTTL(-1)),
    ([0x11, 1, 0, 0, 0, 0x6B, 1, 0, 0, 0, 0x68, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2], .invalidFlag(2)),
] as [([UInt8], LeaseEventDecodingError)])
func malformedEventsThrowTheMatchingError(_ bytes: [UInt8], _ expected: LeaseEventDecodingError) {
    #expect(throws: expected) { try LeaseEvent(decoding: bytes) }
}

@Test func randomGarbageNeverTrapsAndAnythingAcceptedReencodesIdentically() {
    var random = SplitMix64(seed: 0xBADC_0FFE)
    var decoded = 0
    for _ in 0..<20_000 {
        var bytes = (0..<Int.random(in: 0...48, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        // Steer a share of inputs past the header and the length prefixes so deeper checks are reached.
        if !bytes.isEmpty, Bool.random(using: &random) { bytes[0] = [0x11, 0x12, 0x13].randomElement(using: &random) ?? 0x11 }
        if bytes.count > 4, Bool.random(using: &random) { bytes.replaceSubrange(1..<5, with: [1, 0, 0, 0]) }
        if let event = try? LeaseEvent(decoding: bytes) {
            decoded += 1
            #expect(event.encoded() == bytes)
        }
    }
    #expect(decoded > 0, "the steering must reach successful decodes, or the re-encoding check is vacuous")
}
