import StreamCore
import Testing

/// How much of a peer's input an error text quotes (``InputExcerpt``).
struct InputExcerptTests {
    @Test func shortInputIsQuotedWhole() {
        #expect(InputExcerpt.excerpt("orders") == "orders")
        let exact = String(repeating: "a", count: InputExcerpt.maxBytes)
        #expect(InputExcerpt.excerpt(exact) == exact)
        #expect(InputExcerpt.excerpt(Array("bytes".utf8)) == "bytes")
    }

    @Test func longInputIsCutToTheLimitAndMarked() {
        let excerpt = InputExcerpt.excerpt(String(repeating: "a", count: 6 << 20))
        #expect(excerpt == String(repeating: "a", count: InputExcerpt.maxBytes) + "…")
        #expect(InputExcerpt.excerpt([UInt8](repeating: 0x62, count: 1 << 20)) == String(repeating: "b", count: InputExcerpt.maxBytes) + "…")
    }

    @Test func theCutNeverSplitsACharacter() {
        // 255 one-byte characters, then four-byte ones: the limit falls inside the first of them.
        let text = String(repeating: "a", count: InputExcerpt.maxBytes - 1) + String(repeating: "🎉", count: 10)
        #expect(InputExcerpt.excerpt(text) == String(repeating: "a", count: InputExcerpt.maxBytes - 1) + "…")
        #expect(Array(InputExcerpt.utf8Prefix("é🎉", maxBytes: 4)) == Array("é".utf8))
        #expect(Array(InputExcerpt.utf8Prefix("é🎉", maxBytes: 6)) == Array("é🎉".utf8))
    }
}
