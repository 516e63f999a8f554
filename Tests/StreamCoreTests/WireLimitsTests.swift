import CoordTestKit
import StreamCore
import Testing

/// The sizes derived from streamkit's 8 MiB frame and 6 MiB message, and the store's record limits
/// derived from them (``WireLimits``, ``StoreLimits``).
struct WireLimitsTests {
    @Test func theLargestMessageIsWhatAnEightMiBFrameLeavesForBase64() {
        #expect(WireLimits.frameEnvelopeBytes == 138)
        #expect(WireLimits.maxMessageBytes == 6_291_351)
        #expect(WireLimits.maxMessageBytes < WireLimits.maxMessagePayloadBytes, "the frame binds, not the 6 MiB")
        let framed = Base64.encodedCount(WireLimits.maxMessageBytes) + WireLimits.frameEnvelopeBytes
        #expect(framed <= WireLimits.maxFramePayloadBytes)
        #expect(Base64.encodedCount(WireLimits.maxMessageBytes + 1) + WireLimits.frameEnvelopeBytes > WireLimits.maxFramePayloadBytes)
        #expect(WireLimits.largestMessage(frameBytes: 1_000, messageBytes: 10_000) == 645)
        #expect(WireLimits.largestMessage(frameBytes: 10_000, messageBytes: 100) == 100)
    }

    @Test(arguments: [
        "", "plain", "quote\" and back\\slash", "\n\r\t", "\u{01}\u{1F}\u{7F}", "ünïcödé 🎉", "\u{00}x\u{0B}\"\\",
    ])
    func quotedSizesAreWhatTheWriterWrites(_ text: String) {
        var writer = JSONWriter()
        writer.string(text)
        #expect(JSONWriter.quotedCount(text) == writer.bytes.count)
        #expect(JSONWriter.quotedCount(text) <= JSONWriter.maxQuotedCount(utf8Count: text.utf8.count))
        let map = [text: text, "k": "\u{02}v", text + "x": ""]
        var mapWriter = JSONWriter()
        mapWriter.stringMap(map)
        #expect(JSONWriter.stringMapCount(map) == mapWriter.bytes.count)
    }

    @Test func theDefaultRecordLimitsAreDerivedFromTheMessageLimit() {
        let limits = StoreLimits()
        #expect(limits.maxEntryBytes == WireLimits.maxMessageBytes)
        #expect(StoreLimits.entryFixedBytes == 239)
        #expect(limits.maxPayloadBytes == 4_659_963)
    }

    @Test(.serialized, arguments: [(WireLimits.maxMessageBytes, 64 << 10, 1_024), (100_000, 1_000, 10), (50_003, 7, 1)])
    func anEntryWithEveryPartAtItsLimitFitsOneMessageAndLeavesNoRoomForMore(
        _ entryBytes: Int, _ metadataBytes: Int, _ nameBytes: Int
    ) {
        var limits = StoreLimits()
        limits.maxEntryBytes = entryBytes
        limits.maxMetadataBytes = metadataBytes
        limits.maxNameBytes = nameBytes
        let metadata = LimitFixtures.metadata(jsonBytes: metadataBytes)
        #expect(JSONWriter.stringMapCount(metadata) == metadataBytes)
        var entry = Entry(
            sequence: .max, timestamp: .min, trx: TRX(id: .random(), number: .max),
            payload: [UInt8](repeating: 0xAB, count: limits.maxPayloadBytes), metadata: metadata,
            space: LimitFixtures.name(bytes: nameBytes), segment: LimitFixtures.name(bytes: nameBytes))
        let size = entry.encoded().count
        #expect(size <= entryBytes)
        // Base64 grows in groups of 4: one byte more of payload would not fit.
        #expect(size + 4 > entryBytes, "the payload limit leaves \(entryBytes - size) bytes unused")
        entry.payload?.append(0)
        #expect(entry.encoded().count > entryBytes)
    }
}
