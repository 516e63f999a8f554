@testable import Coordinator
import StreamCore
import Testing

/// A token's header and claims go through the shared JSON parser with the strict limits.
@Suite struct JWTClaimsJSONTests {
    private func parse(_ text: String) throws(JSONError) -> JSONValue {
        try JSONValue.parse(Array(text.utf8), limits: AuthLimits.claimsJSON)
    }

    @Test func parsesEveryKindOfValue() throws {
        let text = #" {"s":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00","n":[0,-1.5e3,1800000000,2E-2],"b":[true,false],"z":null,"o":{}} "#
        let value = try parse(text)
        #expect(value == .object([
            "s": .string("a\"b\\c/d\n\té😀"),
            "n": .array([.int(0), .double(-1500), .int(1_800_000_000), .double(0.02)]),
            "b": .array([.bool(true), .bool(false)]),
            "z": .null,
            "o": .object([:]),
        ]))
        #expect(value.objectValue?["n"] == .array([.int(0), .double(-1500), .int(1_800_000_000), .double(0.02)]))
    }

    @Test func acceptsNestingUpToTheLimit() throws {
        let depth = AuthLimits.maximumJSONDepth
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: Never.self) { try parse(text) }
    }

    static let invalid: [(String, String)] = [
        ("nesting past the limit", String(repeating: "[", count: AuthLimits.maximumJSONDepth + 1)
            + String(repeating: "]", count: AuthLimits.maximumJSONDepth + 1)),
        ("duplicate key", #"{"exp":1,"exp":2}"#),
        ("duplicate key in a nested object", #"{"a":{"k":1,"k":1}}"#),
        ("duplicate key spelt with an escape", #"{"exp":1,"\u0065xp":2}"#),
        ("trailing bytes", #"{} {}"#),
        ("trailing comma", #"[1,]"#),
        ("unterminated string", #"{"a":"b}"#),
        ("control character in a string", "[\"a\u{01}b\"]"),
        ("lone high surrogate", #"["\ud83d"]"#),
        ("high surrogate followed by a non-surrogate escape", #"["\ud83d\u0041"]"#),
        ("lone low surrogate", #"["\ude00"]"#),
        ("invalid escape", #"["\x41"]"#),
        ("leading zero", "[01]"),
        ("bare minus", "[-]"),
        ("fraction without digits", "[1.]"),
        ("exponent without digits", "[1e]"),
        ("number out of range", "[1e400]"),
        ("single quotes", "['a']"),
        ("misspelt literal", "[tru]"),
        ("empty input", ""),
        ("key that is not a string", "{1:2}"),
        ("document longer than a token", "[" + String(repeating: "1,", count: AuthLimits.maximumTokenBytes / 2) + "1]"),
    ]

    @Test(arguments: invalid)
    func rejectsInvalidJSON(name: String, text: String) {
        #expect(throws: JSONError.self, "\(name)") { try parse(text) }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        let bytes: [UInt8] = [0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]  // ["\xC3("]
        #expect(throws: JSONError.self) { try JSONValue.parse(bytes, limits: AuthLimits.claimsJSON) }
    }

    @Test func duplicateKeyErrorNamesTheKeyAndItsOffset() {
        #expect(throws: JSONError("invalid JSON at offset 9: duplicate key \"exp\"")) { try parse(#"{"exp":1,"exp":2}"#) }
    }
}
