import CoordTestKit
import StreamCore
import Testing

@testable import Transport

/// Large payloads fanned out to many streams are base64-encoded once, and frames stay byte-exact.
@Suite struct MuxPayloadCacheTests {
    let store = WireUUID(storeText)!
    let channel = WireUUID(channelText)!

    private func generalFrame(_ frame: MuxFrame) -> [UInt8] {
        var encoder = WebSocketFrameEncoder(role: .server)
        var out: [UInt8] = []
        encoder.encodeText(frame.encoded(), into: &out)
        return out
    }

    @Test func aSharedPayloadGivesTheGeneralEncodersBytesOnEveryStream() {
        var generator = SplitMix64(seed: 7)
        let payload = generator.bytes(20_000)
        for n in 0..<3 {
            let frame = MuxFrame(controlType: .data, storeID: store, channelID: WireUUID(high: 1, low: UInt64(n)), payload: payload)
            #expect(MuxFrameCodec.webSocketFrame(frame, maskKey: nil) == generalFrame(frame))
        }
    }

    @Test func aLargePayloadIsWrittenAsAHeadTheSharedBase64AndATailThatTogetherAreTheFrame() {
        var generator = SplitMix64(seed: 5)
        let payload = generator.bytes(12_000)
        var middles: [[UInt8]] = []
        for n in 0..<2 {
            let frame = MuxFrame(controlType: .data, storeID: store, channelID: WireUUID(high: 2, low: UInt64(n)), payload: payload)
            let parts = MuxFrameCodec.webSocketFrameParts(frame, maskKey: nil)
            #expect(parts.count == 3)
            #expect(Array(parts.joined()) == generalFrame(frame), "byte for byte the frame")
            middles.append(parts[1])
        }
        let addresses = middles.map { $0.withUnsafeBytes { $0.baseAddress } }
        #expect(addresses[0] == addresses[1], "both streams' frames hold the one encoded payload")
        // A client's frame is masked whole, and a small payload is cheaper copied: one buffer each.
        let masked = MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: payload)
        #expect(MuxFrameCodec.webSocketFrameParts(masked, maskKey: 0x1234_5678).count == 1)
        let small = MuxFrame(controlType: .data, storeID: store, channelID: channel, payload: [1, 2, 3])
        #expect(MuxFrameCodec.webSocketFrameParts(small, maskKey: nil) == [MuxFrameCodec.webSocketFrame(small, maskKey: nil)])
    }

    @Test func theSameStorageIsEncodedOnceAndOtherStorageIsEncodedForItself() {
        let cache = MuxPayloadCache()
        var generator = SplitMix64(seed: 11)
        let payload = generator.bytes(9_000)
        let first = cache.base64(of: payload)
        let shared = payload  // same storage
        #expect(cache.base64(of: shared) == first)
        #expect(cache.count == 1, "a second encoding of the same storage is a hit")
        var changed = payload
        changed[0] ^= 0xFF  // copied on write: new storage, other bytes
        #expect(cache.base64(of: changed) == Base64.encodedStandard(changed))
        #expect(cache.base64(of: changed) != first)
        #expect(cache.count == 2)
    }

    @Test func theCacheStaysWithinItsEntriesAndBytes() {
        let cache = MuxPayloadCache(limits: .init(minimumPayloadBytes: 1, entries: 3, maxBytes: 50_000))
        var generator = SplitMix64(seed: 3)
        var kept: [[UInt8]] = []
        for _ in 0..<10 {
            let payload = generator.bytes(8_000)
            kept.append(payload)
            #expect(cache.base64(of: payload) == Base64.encodedStandard(payload))
            #expect(cache.count <= 3 && cache.heldBytes <= 50_000)
        }
        let huge = generator.bytes(60_000)
        #expect(cache.base64(of: huge) == Base64.encodedStandard(huge), "a payload over the bound is encoded, not kept")
        #expect(cache.heldBytes <= 50_000)
    }

    @Test func smallPayloadsBypassTheCache() {
        #expect(!MuxPayloadCache.shared.accepts([UInt8](repeating: 1, count: 100)))
        #expect(MuxPayloadCache.shared.accepts([UInt8](repeating: 1, count: 4_096)))
    }
}
