import StreamCore
import Testing

@Suite struct JSONTests {
    @Test func integersKeepFull64BitPrecision() throws {
        #expect(try JSONValue.parse("18446744073709551615") == .uint(.max))
        #expect(try JSONValue.parse("9223372036854775807") == .int(.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONValue.parse("1.5") == .double(1.5))
        #expect(try JSONValue.parse("1e3") == .double(1000))
        let limit = try ConsumeSegment(decoding: Array(#"{"space":"s","segment":"g","limit":18446744073709551615}"#.utf8))
        #expect(limit.limit == .max)
    }

    @Test func stringsDecodeEscapesAndSurrogatePairs() throws {
        #expect(try JSONValue.parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\n\té😀"))
        #expect(try JSONValue.parse(#""\ud800x""#) == .string("\u{FFFD}x"), "a lone surrogate becomes U+FFFD")
    }

    @Test func writerEscapesWhatJSONRequires() throws {
        var w = JSONWriter()
        w.string("q\"b\\n\n\u{01}é")
        #expect(String(decoding: w.bytes, as: UTF8.self) == #""q\"b\\n\n\u0001é""#)
        #expect(try JSONValue.parse(w.bytes) == .string("q\"b\\n\n\u{01}é"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "01", "1.", "\"\u{01}\"", "{} x", "-", "[1 2]", "\"\\x\""])
    func malformedDocumentsAreRejected(_ text: String) {
        #expect(throws: JSONError.self) { try JSONValue.parse(text) }
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONError.self) { try JSONValue.parse(deep) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONValue.parse(ok) }
    }

    @Test func wrongFieldTypesNameTheField() {
        #expect(throws: StreamsError.malformed(#"field "sequence": expected an unsigned integer, got number"#)) {
            try Record(decoding: Array(#"{"sequence":-1}"#.utf8))
        }
        #expect(throws: StreamsError.malformed(#"field "payload": invalid base64"#)) {
            try Record(decoding: Array(#"{"sequence":1,"payload":"!!"}"#.utf8))
        }
    }

    @Test func missingAndNullFieldsReadAsZeroValues() throws {
        let record = try Record(decoding: Array(#"{"payload":null}"#.utf8))
        #expect(record == Record(sequence: 0, payload: nil, metadata: nil))
    }
}

@Suite struct Base64Tests {
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
                      ("foobar", "Zm9vYmFy")])
    func rfc4648Vectors(_ plain: String, _ encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func urlAlphabetIsUnpadded() {
        #expect(Base64.encode([0xfb, 0xff], alphabet: .url) == "-_8")
        #expect(Base64.decode("-_8", alphabet: .url) == [0xfb, 0xff])
        #expect(Base64.decode("-_8=", alphabet: .url) == nil)
    }

    @Test(arguments: ["Zg", "Zg=", "Z===", "Zm9v!", "Zg==Zg==", "-_8="])
    func invalidStandardTextIsRejected(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test func allByteValuesRoundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        #expect(Base64.decode(Base64.encode(bytes, alphabet: .url), alphabet: .url) == bytes)
    }
}

@Suite struct WireUUIDTests {
    @Test func parsesEitherCaseAndWritesLowercase() {
        let id = WireUUID("AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA")
        #expect(id?.description == "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
        #expect(WireUUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa") == nil)
        #expect(WireUUID("aaaaaaaaaaaaa-4aaa-8aaa-aaaaaaaaaaaa") == nil)
        #expect(WireUUID("gaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa") == nil)
    }

    @Test func ordersByBytesAndRoundTripsBytes() {
        let a = WireUUID("00000000-0000-0000-0000-0000000000ff")!
        let b = WireUUID("00000000-0000-0000-0100-000000000000")!
        #expect(a < b)
        #expect(WireUUID(bytes: b.bytes) == b)
        let random = WireUUID.random()
        #expect(random.description.count == 36)
        #expect(Array(random.description.utf8)[14] == UInt8(ascii: "4"), "version 4")
    }
}
