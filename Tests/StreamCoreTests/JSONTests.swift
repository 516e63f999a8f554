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
        w.string("q\"b\\n\n\u{01}\u{1F}é")
        #expect(String(decoding: w.bytes, as: UTF8.self) == #""q\"b\\n\n\u0001\u001fé""#)
        #expect(try JSONValue.parse(w.bytes) == .string("q\"b\\n\n\u{01}\u{1F}é"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "01", "1.", "\"\u{01}\"", "{} x", "-", "[1 2]", "\"\\x\""])
    func malformedDocumentsAreRejected(_ text: String) {
        #expect(throws: JSONError.self) { try JSONValue.parse(text) }
    }

    @Test func duplicateKeysKeepTheLastValueByDefaultAsGoDoes() throws {
        #expect(try JSONValue.parse(#"{"a":1,"a":2}"#) == .object(["a": .int(2)]))
        #expect(try JSONValue.parse(#"{"a":{"b":1,"b":[]}}"#) == .object(["a": .object(["b": .array([])])]))
    }

    /// Objects of every size around the one where a key index is added: each key once, its last value.
    @Test(arguments: [1, 5, 12, 13, 14, 40])
    func objectsOfAnySizeKeepEachKeyOnceWithItsLastValue(_ count: Int) throws {
        // Every key, then every even one again with a new value.
        let members = (0..<count).map { #""k\#($0)":\#($0)"# } + stride(from: 0, to: count, by: 2).map { #""k\#($0)":"again""# }
        let object = try #require(try JSONValue.parse("{" + members.joined(separator: ",") + "}").objectValue)
        #expect(object.count == count)
        #expect(object.keys == (0..<count).map { "k\($0)" }, "keys in the order they first appeared")
        for i in 0..<count {
            #expect(object["k\(i)"] == (i % 2 == 0 ? .string("again") : .int(Int64(i))), "k\(i)")
        }
        #expect(object["k\(count)"] == nil && object["K0"] == nil)
        #expect(Array(object.map(\.key)) == object.keys)

        let strict = JSONLimits.strict(maxDepth: JSONLimits.defaultMaxDepth, maxBytes: JSONLimits.defaultMaxBytes)
        let last = #""k\#(count - 1)":0"#
        #expect(throws: JSONError.self, "a key repeated after \(count) members") {
            try JSONValue.parse("{" + (0..<count).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "," + last + "}", limits: strict)
        }
    }

    @Test func objectsAreEqualWhenTheirMembersAreWhateverTheirOrder() throws {
        let keys = (0..<20).map { "k\($0)" }
        let forward = JSONObject(Dictionary(uniqueKeysWithValues: keys.map { ($0, JSONValue.string($0)) }))
        var backward = JSONObject()
        for key in keys.reversed() { backward.updateValue(.string(key), forKey: key) }
        #expect(forward == backward)
        #expect(try JSONValue.parse(#"{"a":1,"b":[true]}"#) == JSONValue.parse(#"{"b":[true],"a":1}"#))
        #expect(try JSONValue.parse(#"{"a":1,"b":2}"#) != JSONValue.parse(#"{"a":1,"b":3}"#))
        #expect(try JSONValue.parse(#"{"a":1}"#) != JSONValue.parse(#"{"a":1,"b":2}"#))
        #expect(try JSONValue.parse(#"{"a":1,"b":2}"#) != JSONValue.parse(#"{"a":1,"c":2}"#))
        var replaced = forward
        #expect(replaced.updateValue(.null, forKey: "k3") == .string("k3"))
        #expect(replaced != forward && replaced.count == forward.count && replaced["k3"] == .null)
        #expect(replaced.dictionary.count == 20 && replaced.dictionary["k3"] == .null)
    }

    @Test(arguments: [#"{"a":1,"a":2}"#, #"{"a":{"b":1,"b":1}}"#, #"[{"a":1},{"b":1,"c":2,"b":3}]"#, #"{"a":1,"a":2}"#])
    func duplicateKeysAreRefusedUnderStrictLimits(_ text: String) {
        let strict = JSONLimits.strict(maxDepth: JSONLimits.defaultMaxDepth, maxBytes: JSONLimits.defaultMaxBytes)
        #expect(throws: JSONError.self) { try JSONValue.parse(text, limits: strict) }
        #expect(throws: Never.self) { try JSONValue.parse(text) }
    }

    @Test func strictLimitsRefuseInvalidUnicodeThatDefaultsReplace() throws {
        let strict = JSONLimits.strict(maxDepth: JSONLimits.defaultMaxDepth, maxBytes: JSONLimits.defaultMaxBytes)
        let invalidUTF8: [UInt8] = [0x22, 0xFF, 0x22]
        #expect(try JSONValue.parse(invalidUTF8) == .string("\u{FFFD}"))
        #expect(throws: JSONError.self) { try JSONValue.parse(invalidUTF8, limits: strict) }
        #expect(throws: JSONError.self) { try JSONValue.parse(#""\udc00""#, limits: strict) }
        #expect(try JSONValue.parse(#""\ud83d\ude00""#, limits: strict) == .string("😀"))
    }

    @Test func numbersBeyondDoubleAreRefused() throws {
        #expect(throws: JSONError.self) { try JSONValue.parse("1e400") }
        #expect(throws: JSONError.self) { try JSONValue.parse("-1e400") }
        #expect(try JSONValue.parse("1e-400") == .double(0))
    }

    @Test func documentSizeIsBounded() throws {
        var limits = JSONLimits()
        limits.maxBytes = 4
        #expect(throws: JSONError.self) { try JSONValue.parse("12345", limits: limits) }
        #expect(try JSONValue.parse("1234", limits: limits) == .int(1234))
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

    @Test(arguments: ["Z", "Zm9vY", "Zg=", "Zm+v", "Zm/v", "Zg==", "Zm\u{00}v", "Zm v", "Z g"])
    func invalidURLTextIsRejected(_ text: String) {
        #expect(Base64.decode(text, alphabet: .url) == nil)
    }

    @Test(arguments: ["====", "Zm9v====", "=Zg=", "Zm9v\n", "Zm9\u{80}", "Zm+v", "Zm/v"])
    func edgesOfTheStandardAlphabet(_ text: String) {
        let accepted = text == "Zm+v" || text == "Zm/v"
        #expect((Base64.decode(text) != nil) == accepted, "\(text)")
    }

    @Test func everyLengthRoundTripsThroughBothAlphabetsAndEveryEntryPoint() {
        var generator = SystemRandomNumberGenerator()
        for count in 0..<40 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let standard = Base64.encode(bytes)
            #expect(standard.utf8.count == Base64.encodedCount(count))
            #expect(Base64.decode(standard) == bytes)
            #expect(Base64.decode(standard.utf8.reversed().reversed()) == bytes, "a non-contiguous collection")
            #expect(Base64.encodedStandard(bytes) == Array(standard.utf8))
            let url = Base64.encode(bytes[...], alphabet: .url)
            #expect(url.utf8.count == Base64.encodedCount(count, alphabet: .url))
            #expect(!url.contains("="))
            #expect(Base64.decode(url, alphabet: .url) == bytes)
            #expect(url == String(standard.filter { $0 != "=" }.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }))
        }
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

    @Test(arguments: ["", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaaa", "aaaaaaaa+aaaa-4aaa-8aaa-aaaaaaaaaaaa",
                      "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa\u{00}", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa-", "é aaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa"])
    func invalidTextIsRejected(_ text: String) {
        #expect(WireUUID(text) == nil)
        #expect(WireUUID(anyForm: text.utf8) == nil)
    }

    @Test func everyDigitPositionTakesExactlyTheHexDigitsOfEitherCase() {
        let base = Array("00000000-0000-0000-0000-000000000000".utf8)
        let digits = Array("0123456789abcdefABCDEF".utf8)
        for position in 0..<36 where ![8, 13, 18, 23].contains(position) {
            // The digit's place value in the 128 bits: 32 digits, the first the highest.
            let digitIndex = position - [8, 13, 18, 23].filter { $0 < position }.count
            for byte in UInt8.min...UInt8.max {
                var text = base
                text[position] = byte
                let parsed = text.withUnsafeBytes { WireUUID(ascii: $0) }
                guard let value = digits.firstIndex(of: byte).map({ UInt64($0 < 16 ? $0 : $0 - 6) }) else {
                    #expect(parsed == nil, "byte \(byte) at \(position)")
                    continue
                }
                let shift = UInt64(4 * (15 - digitIndex % 16))
                let expected = digitIndex < 16 ? WireUUID(high: value << shift, low: 0) : WireUUID(high: 0, low: value << shift)
                #expect(parsed == expected, "byte \(byte) at \(position)")
            }
        }
    }

    @Test func everyHyphenPositionTakesOnlyAHyphen() {
        let base = Array("00000000-0000-0000-0000-000000000000".utf8)
        for position in [8, 13, 18, 23] {
            for byte in UInt8.min...UInt8.max {
                var text = base
                text[position] = byte
                let parsed = text.withUnsafeBytes { WireUUID(ascii: $0) }
                #expect((parsed != nil) == (byte == UInt8(ascii: "-")), "byte \(byte) at \(position)")
            }
        }
    }

    @Test func everyFormGoAcceptsParsesToTheSameID() {
        let id = WireUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
        for text in ["6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
                     "URN:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6ba7b8109dad11d180b400c04fd430c8"] {
            #expect(WireUUID(anyForm: text.utf8) == id, "\(text)")
        }
        #expect(WireUUID(anyForm: "[6ba7b810-9dad-11d1-80b4-00c04fd430c8]".utf8) == nil)
        #expect(WireUUID(anyForm: "6ba7b8109dad11d180b400c04fd430cg".utf8) == nil)
        #expect(WireUUID("6ba7b8109dad11d180b400c04fd430c8") == nil, "the wire takes only the canonical form")
    }

    @Test func textRoundTripsThroughEveryWriter() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let id = WireUUID.random(using: &generator)
            var appended: [UInt8] = [0x41]
            id.appendText(to: &appended)
            #expect(Array(appended.dropFirst()) == Array(id.description.utf8))
            #expect(appended.dropFirst().withUnsafeBytes { WireUUID(ascii: $0) } == id)
            #expect(WireUUID(id.description.uppercased()) == id)
        }
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
