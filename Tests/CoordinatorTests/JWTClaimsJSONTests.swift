@testable import Coordinator
import Testing

@Suite struct JWTClaimsJSONTests {
    @Test func parsesEveryKindOfValue() throws {
        let text = #" {"s":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00","n":[0,-1.5e3,1800000000,2E-2],"b":[true,false],"z":null,"o":{}} "#
        let value = try ClaimsJSON.parse(Array(text.utf8))
        #expect(value == .object([
            "s": .string("a\"b\\c/d\n\té😀"),
            "n": .array([.number(0), .number(-1500), .number(1_800_000_000), .number(0.02)]),
            "b": .array([.bool(true), .bool(false)]),
            "z": .null,
            "o": .object([:]),
        ]))
    }

    @Test func acceptsNestingUpToTheLimit() throws {
        let depth = AuthLimits.maximumJSONDepth
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: Never.self) { try ClaimsJSON.parse(Array(text.utf8)) }
    }

    static let invalid: [(String, String)] = [
        ("nesting past the limit", String(repeating: "[", count: AuthLimits.maximumJSONDepth + 1)
            + String(repeating: "]", count: AuthLimits.maximumJSONDepth + 1)),
        ("duplicate key", #"{"exp":1,"exp":2}"#),
        ("trailing bytes", #"{} {}"#),
        ("trailing comma", #"[1,]"#),
        ("unterminated string", #"{"a":"b}"#),
        ("control character in a string", "[\"a\u{01}b\"]"),
        ("lone high surrogate", #"["\ud83d"]"#),
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
    ]

    @Test(arguments: invalid)
    func rejectsInvalidJSON(name: String, text: String) {
        #expect(throws: ClaimsJSON.ParseError.self, "\(name)") { try ClaimsJSON.parse(Array(text.utf8)) }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        let bytes: [UInt8] = [0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]  // ["\xC3("]
        #expect(throws: ClaimsJSON.ParseError.self) { try ClaimsJSON.parse(bytes) }
    }
}
