/// A Redis reply in RESP2, the protocol Redis speaks to every client that has not asked for RESP3.
public enum RESPValue: Sendable, Equatable {
    /// `+OK`.
    case simpleString(String)
    /// `-ERR …`: the command failed; the text says why.
    case error(String)
    /// `:42`.
    case integer(Int64)
    /// `$n` followed by n bytes; nil for the null bulk string `$-1`.
    case bulk([UInt8]?)
    /// `*n` followed by n values; nil for the null array `*-1`.
    case array([RESPValue]?)
}

/// Why bytes from a Redis server are not RESP.
public struct RESPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong, with the offset where it was found.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Encodes commands and decodes replies of the Redis serialization protocol (RESP2).
public enum RESP {
    /// Deepest nesting of arrays a reply may have. Replies of the commands coordbench sends nest at most
    /// three deep (XRANGE: entries → [id, fields] → fields); the bound keeps a corrupt stream from
    /// recursing without end.
    public static let maxDepth = 8

    /// Appends `arguments` as one command: an array of bulk strings, the only form Redis requires
    /// clients to send.
    public static func appendCommand(_ arguments: [[UInt8]], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        appendDecimal(arguments.count, to: &out)
        out.append(cr)
        out.append(lf)
        for argument in arguments {
            out.append(UInt8(ascii: "$"))
            appendDecimal(argument.count, to: &out)
            out.append(cr)
            out.append(lf)
            out.append(contentsOf: argument)
            out.append(cr)
            out.append(lf)
        }
    }

    /// One command as bytes.
    public static func command(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        appendCommand(arguments, to: &out)
        return out
    }

    /// One command from text arguments.
    public static func command(_ arguments: String...) -> [UInt8] {
        command(arguments.map { Array($0.utf8) })
    }

    /// Decodes the first complete reply in `bytes`: the reply and how many bytes it took, or nil when
    /// `bytes` ends before the reply does (call again with more). Throws when the bytes are not RESP.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(RESPError) -> (value: RESPValue, consumed: Int)? {
        var index = 0
        guard let value = try decodeValue(bytes, &index, depth: 0) else { return nil }
        return (value, index)
    }

    /// Decodes the first complete reply in `bytes` (see the other overload).
    public static func decode(_ bytes: [UInt8]) throws(RESPError) -> (value: RESPValue, consumed: Int)? {
        try bytes.withUnsafeBytes { buffer in Result { () throws(RESPError) in try decode(buffer) } }.get()
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        out.append(contentsOf: String(value).utf8)
    }

    /// The value starting at `index`, advancing it past the value; nil (and `index` unspecified) when
    /// the bytes end first.
    private static func decodeValue(_ bytes: UnsafeRawBufferPointer, _ index: inout Int, depth: Int) throws(RESPError) -> RESPValue? {
        guard index < bytes.count else { return nil }
        let start = index
        let type = bytes[index]
        guard let line = try lineEnd(bytes, from: index + 1) else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<line])
        index = line + 2
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(String(decoding: text, as: UTF8.self))
        case UInt8(ascii: "-"):
            return .error(String(decoding: text, as: UTF8.self))
        case UInt8(ascii: ":"):
            return .integer(try integer(text, at: start))
        case UInt8(ascii: "$"):
            let length = try integer(text, at: start)
            if length == -1 { return .bulk(nil) }
            guard length >= 0 else { throw RESPError("negative bulk length \(length) at offset \(start)") }
            let end = index + Int(length)
            guard end + 2 <= bytes.count else { return nil }
            guard bytes[end] == cr, bytes[end + 1] == lf else {
                throw RESPError("bulk string of \(length) bytes at offset \(start) not followed by CRLF")
            }
            let payload = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
            index = end + 2
            return .bulk(payload)
        case UInt8(ascii: "*"):
            let count = try integer(text, at: start)
            if count == -1 { return .array(nil) }
            guard count >= 0 else { throw RESPError("negative array length \(count) at offset \(start)") }
            guard depth < maxDepth else { throw RESPError("arrays nested deeper than \(maxDepth) at offset \(start)") }
            // Each element takes at least 3 bytes (type, CR, LF): a count beyond what could fit is
            // either incomplete input or garbage, and must not size an allocation.
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(min(count, Int64(max(bytes.count - index, 0) / 3))))
            for _ in 0..<count {
                guard let element = try decodeValue(bytes, &index, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        default:
            throw RESPError("unknown RESP type byte \(type) at offset \(start)")
        }
    }

    /// The index of the CR of the first CRLF at or after `from`, or nil when there is none yet. A
    /// header line never holds a bare CR, so one not followed by LF is an error.
    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, from: Int) throws(RESPError) -> Int? {
        var i = from
        while i + 1 < bytes.count {
            if bytes[i] == cr {
                guard bytes[i + 1] == lf else { throw RESPError("CR without LF at offset \(i)") }
                return i
            }
            i += 1
        }
        return nil
    }

    private static func integer(_ text: UnsafeRawBufferPointer, at offset: Int) throws(RESPError) -> Int64 {
        guard let value = Int64(String(decoding: text, as: UTF8.self)) else {
            throw RESPError("malformed integer \"\(String(decoding: text, as: UTF8.self))\" at offset \(offset)")
        }
        return value
    }
}

extension RESPValue {
    /// The bytes of a bulk or simple string; nil for anything else.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        default: nil
        }
    }

    /// The elements of a non-null array; nil for anything else.
    public var elements: [RESPValue]? {
        if case .array(let elements) = self { elements } else { nil }
    }
}
