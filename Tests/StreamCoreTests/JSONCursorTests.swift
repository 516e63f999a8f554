import Testing
@testable import StreamCore

@Suite struct JSONCursorTests {
    /// Runs `body` with a cursor over `text`.
    private static func withCursor<T>(_ text: String, _ body: (inout JSONCursor) -> T) -> T {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw in
            var cursor = JSONCursor(input: raw)
            return body(&cursor)
        }
    }

    @Test func aLiteralIsTakenWholeOrNotAtAll() {
        let taken = Self.withCursor(#"{"ok":true}"#) { cursor in
            [cursor.take(#"{"ok":false"#), cursor.index == 0,  // differs in its last bytes
             cursor.take(#"{"ok":true}!"#), cursor.index == 0,  // longer than what is left
             cursor.take(#"{"ok":true"#), cursor.index == 10,
             cursor.take(Array("}".utf8)), cursor.atEnd]
        }
        #expect(taken == [false, true, false, true, true, true, true, true])
    }

    @Test func anEmptyLiteralTakesNothingEvenFromEmptyInput() {
        #expect(Self.withCursor("") { cursor in cursor.take("") && cursor.take([]) && cursor.atEnd })
        // Empty memory may come without an address at all.
        var addressless = JSONCursor(input: UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(addressless.take("") && addressless.atEnd)
        #expect(Self.withCursor("x") { cursor in cursor.take("") && cursor.index == 0 })
    }
}
