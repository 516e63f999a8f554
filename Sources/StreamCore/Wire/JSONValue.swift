/// A parsed JSON value.
///
/// Integers keep their full 64-bit precision (`limit` may be 18446744073709551615, which a `Double`
/// cannot hold). An object's key order carries no meaning, and a duplicate key keeps its last value, as
/// Go's decoder does, unless ``JSONLimits/rejectsDuplicateKeys`` is set (``JSONObject``).
/// Numbers beyond `Double`'s range are errors, as in Go.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number without fraction or exponent that fits in `Int64`.
    case int(Int64)
    /// A non-negative integer above `Int64.max`.
    case uint(UInt64)
    /// Any other number.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Parses one JSON value from UTF-8 text; whitespace around it is allowed, anything else is not.
    public static func parse(_ bytes: some Collection<UInt8>, limits: JSONLimits = .init()) throws(JSONError) -> JSONValue {
        let array = bytes as? [UInt8] ?? Array(bytes)
        return try array.withUnsafeBufferPointer { buffer throws(JSONError) -> JSONValue in
            var parser = JSONParser(buffer, limits: limits)
            return try parser.parseDocument()
        }
    }

    /// Parses one JSON value from a string.
    public static func parse(_ text: String, limits: JSONLimits = .init()) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .int, .uint, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The members of an object, or nil for any other value.
    public var objectValue: JSONObject? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// Any number as a `Double` (integers above 2⁵³ rounded), or nil for any other value.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .uint(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }
}
