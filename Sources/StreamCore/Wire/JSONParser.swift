/// A recursive-descent parser over a byte buffer.
struct JSONParser {
    private let input: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    private let limits: JSONLimits

    init(_ input: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
        self.input = input
        self.limits = limits
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        guard input.count <= limits.maxBytes else {
            throw JSONError("document of \(input.count) bytes exceeds the limit of \(limits.maxBytes)")
        }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard index == input.count else { throw error("unexpected data after the value") }
        return value
    }

    private func error(_ what: String) -> JSONError {
        JSONError("invalid JSON at offset \(index): \(what)")
    }

    private mutating func skipWhitespace() {
        while index < input.count {
            switch input[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONError) -> JSONValue {
        guard index < input.count else { throw error("unexpected end of input") }
        switch input[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= input.count else { throw error("unexpected end of input") }
        let matches = literal.withUTF8Buffer { lit in
            (0..<count).allSatisfy { input[index + $0] == lit[$0] }
        }
        guard matches else { throw error("invalid literal") }
        index += count
    }

    private mutating func enter() throws(JSONError) {
        depth += 1
        guard depth <= limits.maxDepth else { throw error("nesting deeper than \(limits.maxDepth)") }
    }

    /// Members an object has room for before it grows: covers an envelope, a mux frame, a lease request and
    /// a lease result.
    static let objectCapacity = 8

    private mutating func parseObject() throws(JSONError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if index < input.count, input[index] == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        // Room for a typical message's fields at once: grown from empty, the members' storage is reallocated
        // on its way to 2, 4 and 8 members. An empty object allocates nothing.
        var object = JSONObject(minimumCapacity: Self.objectCapacity)
        while true {
            skipWhitespace()
            guard index < input.count, input[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard index < input.count, input[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            if object.updateValue(value, forKey: key) != nil, limits.rejectsDuplicateKeys {
                throw JSONError("invalid JSON at offset \(keyOffset): duplicate key \"\(InputExcerpt.excerpt(key))\"")
            }
            skipWhitespace()
            guard index < input.count else { throw error("unexpected end of input") }
            if input[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard input[index] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
            index += 1
            return .object(object)
        }
    }

    private mutating func parseArray() throws(JSONError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if index < input.count, input[index] == UInt8(ascii: "]") {
            index += 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            array.append(try parseValue())
            skipWhitespace()
            guard index < input.count else { throw error("unexpected end of input") }
            if input[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard input[index] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
            index += 1
            return .array(array)
        }
    }

    private mutating func parseString() throws(JSONError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        while index < input.count {
            let c = input[index]
            if c == UInt8(ascii: "\"") {
                let s = try string(UnsafeBufferPointer(rebasing: input[start..<index]))
                index += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("control character in string") }
            index += 1
        }
        var bytes = Array(input[start..<index])
        while index < input.count {
            let c = input[index]
            index += 1
            switch c {
            case UInt8(ascii: "\""):
                return try bytes.withUnsafeBufferPointer { buffer throws(JSONError) in try string(buffer) }
            case UInt8(ascii: "\\"):
                try parseEscape(into: &bytes)
            case 0..<0x20:
                throw error("control character in string")
            default:
                bytes.append(c)
            }
        }
        throw error("unterminated string")
    }

    /// The string of these UTF-8 bytes: invalid sequences become U+FFFD, or an error under
    /// ``JSONLimits/rejectsInvalidUnicode``.
    private func string(_ utf8: UnsafeBufferPointer<UInt8>) throws(JSONError) -> String {
        guard limits.rejectsInvalidUnicode else { return String(decoding: utf8, as: UTF8.self) }
        guard let string = String(validating: utf8, as: UTF8.self) else { throw error("string is not valid UTF-8") }
        return string
    }

    private mutating func parseEscape(into bytes: inout [UInt8]) throws(JSONError) {
        guard index < input.count else { throw error("unterminated escape") }
        let c = input[index]
        index += 1
        switch c {
        case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate; otherwise U+FFFD, as Go does.
                if index + 1 < input.count, input[index] == UInt8(ascii: "\\"), input[index + 1] == UInt8(ascii: "u") {
                    let save = index
                    index += 2
                    let low = try parseHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                        scalar = try unpairedSurrogate()
                    }
                } else {
                    scalar = try unpairedSurrogate()
                }
            } else if (0xDC00..<0xE000).contains(scalar) {
                scalar = try unpairedSurrogate()
            }
            let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            bytes.append(contentsOf: String(Character(unicode)).utf8)
        default:
            throw error("invalid escape")
        }
    }

    /// U+FFFD for an escaped surrogate without its pair, or an error under
    /// ``JSONLimits/rejectsInvalidUnicode`` (RFC 8259 §8.2).
    private func unpairedSurrogate() throws(JSONError) -> UInt32 {
        if limits.rejectsInvalidUnicode { throw error("unpaired surrogate in string") }
        return 0xFFFD
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard index + 4 <= input.count else { throw error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = input[index]
            index += 1
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | digit
        }
        return value
    }

    private mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = index
        var negative = false
        if input[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < input.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[index]) else {
            throw error("invalid number")
        }
        if input[index] == UInt8(ascii: "0"), index + 1 < input.count,
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[index + 1])
        {
            throw error("leading zero in number")
        }
        var magnitude: UInt64 = 0
        var overflow = false
        while index < input.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[index]) {
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(input[index] - UInt8(ascii: "0")))
            magnitude = m2
            overflow = overflow || o1 || o2
            index += 1
        }
        var isInteger = true
        if index < input.count, input[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try skipDigits()
        }
        if index < input.count, input[index] == UInt8(ascii: "e") || input[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < input.count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") {
                index += 1
            }
            try skipDigits()
        }
        if isInteger && !overflow {
            if negative {
                if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
                if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            } else if magnitude <= UInt64(Int64.max) {
                return .int(Int64(magnitude))
            } else {
                return .uint(magnitude)
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: input[start..<index]), as: UTF8.self)
        guard let value = Double(text) else { throw error("invalid number") }
        // Go's decoder refuses a number no float64 holds; so does this one, rather than yield infinity.
        guard value.isFinite else {
            index = start
            throw error("number out of range")
        }
        return .double(value)
    }

    private mutating func skipDigits() throws(JSONError) {
        let start = index
        while index < input.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[index]) { index += 1 }
        guard index > start else { throw error("expected digits") }
    }
}
