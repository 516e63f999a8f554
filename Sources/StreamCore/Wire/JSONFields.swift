/// Typed, Go-compatible access to the members of a JSON object while decoding a message.
///
/// A missing member or `null` reads as the zero value, as Go's `encoding/json` leaves a struct field
/// untouched; a member of the wrong type is an error naming the field. Integers must be whole numbers in
/// range (Go rejects `1.5` or `-1` for an unsigned field).
public struct JSONFields: Sendable {
    /// The object's members.
    public let members: JSONObject

    /// Wraps `value`, which must be a JSON object.
    public init(_ value: JSONValue) throws(StreamsError) {
        guard case .object(let members) = value else {
            throw .malformed("expected a JSON object, got \(value.typeName)")
        }
        self.members = members
    }

    /// The members of the JSON object in `bytes`; text that is no JSON, or no object, is `malformed`.
    public init(parsing bytes: some Collection<UInt8>) throws(StreamsError) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw .malformed(error.message)
        }
        try self.init(value)
    }

    private func mismatch(_ key: String, _ expected: String, _ got: JSONValue) -> StreamsError {
        .malformed("field \"\(key)\": expected \(expected), got \(got.typeName)")
    }

    /// A string member; missing or null → "".
    public func string(_ key: String) throws(StreamsError) -> String {
        switch members[key] {
        case nil, .null?: return ""
        case .string(let s)?: return s
        case let other?: throw mismatch(key, "string", other)
        }
    }

    /// An unsigned 64-bit member; missing or null → 0.
    public func uint64(_ key: String) throws(StreamsError) -> UInt64 {
        switch members[key] {
        case nil, .null?: return 0
        case .int(let v)? where v >= 0: return UInt64(v)
        case .uint(let v)?: return v
        case let other?: throw mismatch(key, "an unsigned integer", other)
        }
    }

    /// A signed 64-bit member; missing or null → 0.
    public func int64(_ key: String) throws(StreamsError) -> Int64 {
        switch members[key] {
        case nil, .null?: return 0
        case .int(let v)?: return v
        case let other?: throw mismatch(key, "an integer", other)
        }
    }

    /// An optional signed 64-bit member: nil when missing or null (for coordd's additive fields).
    public func optionalInt64(_ key: String) throws(StreamsError) -> Int64? {
        guard let value = members[key], value != .null else { return nil }
        return try int64(key)
    }

    /// An optional unsigned 64-bit member: nil when missing or null.
    public func optionalUInt64(_ key: String) throws(StreamsError) -> UInt64? {
        guard let value = members[key], value != .null else { return nil }
        return try uint64(key)
    }

    /// A boolean member; missing or null → false.
    public func bool(_ key: String) throws(StreamsError) -> Bool {
        switch members[key] {
        case nil, .null?: return false
        case .bool(let b)?: return b
        case let other?: throw mismatch(key, "a boolean", other)
        }
    }

    /// A `[]byte` member (padded base64); missing or null → nil.
    public func bytes(_ key: String) throws(StreamsError) -> [UInt8]? {
        switch members[key] {
        case nil, .null?: return nil
        case .string(let s)?:
            guard let bytes = Base64.decode(s) else { throw .malformed("field \"\(key)\": invalid base64") }
            return bytes
        case let other?: throw mismatch(key, "a base64 string", other)
        }
    }

    /// A lexkey member written as lowercase hex; missing, null or "" → empty.
    public func hex(_ key: String) throws(StreamsError) -> [UInt8] {
        switch members[key] {
        case nil, .null?: return []
        case .string(let s)?:
            guard let bytes = LexKey.decodeHex(s) else { throw .malformed("field \"\(key)\": invalid hex key") }
            return bytes
        case let other?: throw mismatch(key, "a hex string", other)
        }
    }

    /// A UUID member; missing, null or the nil UUID → nil ("absent", streamkit conventions).
    public func uuid(_ key: String) throws(StreamsError) -> WireUUID? {
        switch members[key] {
        case nil, .null?: return nil
        case .string(let s)?:
            guard let id = WireUUID(s) else { throw .malformed("field \"\(key)\": invalid UUID \"\(InputExcerpt.excerpt(s))\"") }
            return id.isNil ? nil : id
        case let other?: throw mismatch(key, "a UUID string", other)
        }
    }

    /// A string-to-string map member; missing or null → nil.
    public func stringMap(_ key: String) throws(StreamsError) -> [String: String]? {
        switch members[key] {
        case nil, .null?: return nil
        case .object(let object)?:
            var map: [String: String] = [:]
            map.reserveCapacity(object.count)
            for (k, v) in object {
                guard case .string(let s) = v else { throw mismatch("\(key).\(InputExcerpt.excerpt(k))", "a string", v) }
                map[k] = s
            }
            return map
        case let other?: throw mismatch(key, "an object", other)
        }
    }

    /// A nested object member; nil when missing or null.
    public func object(_ key: String) throws(StreamsError) -> JSONFields? {
        switch members[key] {
        case nil, .null?: return nil
        case .object?: return try JSONFields(members[key] ?? .null)
        case let other?: throw mismatch(key, "an object", other)
        }
    }

    /// An array member; missing or null → [].
    public func array(_ key: String) throws(StreamsError) -> [JSONValue] {
        switch members[key] {
        case nil, .null?: return []
        case .array(let items)?: return items
        case let other?: throw mismatch(key, "an array", other)
        }
    }
}

extension StreamsError {
    /// A message could not be decoded (bad JSON, a field of the wrong type).
    public static func malformed(_ message: String) -> StreamsError {
        StreamsError(.permanent, name: "malformed_message", message: message)
    }
}
